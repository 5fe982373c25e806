"""gantry-dicomweb: the ``dicomweb+http://`` and ``dicomweb+https://`` transport (QIDO-RS,
WADO-RS, STOW-RS client). See :mod:`gantry_dicomweb.transport`."""

__version__ = "0.1.0"
