"""Gantry: a DICOM framework built as a microkernel with plugins.

The public surface for plugin authors and embedders::

    from gantry import hookimpl, Codec, Reader, Kernel

Importing this package is cheap: it does not import pydicom, numpy or any plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gantry.descriptors import (
    Codec,
    DeidAction,
    DeidProfile,
    Descriptor,
    DimseService,
    InstanceStore,
    Reader,
    Setting,
    StorageBackend,
    Transport,
)
from gantry.errors import (
    CodecError,
    ConfigError,
    DeidError,
    GantryError,
    InstanceConflict,
    NotDicomError,
    PluginError,
    ReaderError,
    StorageError,
    TransportError,
)
from gantry.hookspecs import API_VERSION, hookimpl, hookspec

__version__ = "0.1.0"

# Loaded on first use: a plugin's entry module needs only the descriptors and hookimpl, and
# plugin discovery must stay fast.
_LAZY = {"Kernel": "gantry.kernel", "Session": "gantry.session", "Instance": "gantry.model", "Patient": "gantry.model",
         "Series": "gantry.model", "Study": "gantry.model"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gantry' has no attribute {name!r}")

if TYPE_CHECKING:
    from gantry.kernel import Kernel
    from gantry.model import Instance, Patient, Series, Study
    from gantry.session import Session

__all__ = [
    "API_VERSION",
    "Codec",
    "CodecError",
    "ConfigError",
    "DeidAction",
    "DeidError",
    "DeidProfile",
    "Descriptor",
    "DimseService",
    "GantryError",
    "Instance",
    "InstanceConflict",
    "InstanceStore",
    "Kernel",
    "NotDicomError",
    "Patient",
    "PluginError",
    "Reader",
    "ReaderError",
    "Series",
    "Session",
    "Setting",
    "StorageBackend",
    "StorageError",
    "Study",
    "Transport",
    "TransportError",
    "hookimpl",
    "hookspec",
]
