"""gantry-tls: the ``dicoms://`` transport (DIMSE over TLS) and TLS for ``gantry listen``."""
