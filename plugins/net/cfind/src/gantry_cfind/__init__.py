"""C-FIND for Gantry: the SCU behind ``gantry find`` and ``peer.find(...)``, and the SCP that
answers queries from the storage backend's index."""
