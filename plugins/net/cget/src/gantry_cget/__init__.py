"""C-GET for Gantry: the SCU behind ``gantry get`` and ``peer.retrieve(...)``, receiving the
C-STORE sub-operations on its own association, and the SCP that answers from the index."""
