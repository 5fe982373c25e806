"""C-MOVE for Gantry: the SCU behind ``gantry move`` and ``peer.retrieve(..., destination=AE)``,
and the SCP that sends instances from the index to a configured destination AE."""
