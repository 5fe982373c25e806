"""C-STORE for Gantry: the SCU behind ``gantry send`` and the SCP behind ``gantry listen``."""
