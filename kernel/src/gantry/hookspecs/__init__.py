"""The hookspecs: the whole contract between the kernel and its plugins.

Read these modules as the manual for plugin authors, one per family:

- :mod:`gantry.hookspecs.readers`     sources to pydicom Datasets
- :mod:`gantry.hookspecs.codecs`      pixel codecs per transfer syntax
- :mod:`gantry.hookspecs.transports`  URL-scheme transports and DIMSE services
- :mod:`gantry.hookspecs.deid`        de-identification actions and profiles
- :mod:`gantry.hookspecs.storage`     persistence backends per URL scheme
- :mod:`gantry.hookspecs.extensions`  settings, configure, CLI, filters and instance events

Versioning. ``API_VERSION`` is ``(major, minor)``. A plugin module declares the version it
targets with a module attribute ``GANTRY_API_VERSION = "1.0"`` (a plugin that declares nothing
targets ``1.0``). Within a major version hooks only ever gain *optional* arguments, and pluggy
passes an implementation only the arguments it names, so a plugin written for 1.0 keeps working
with every 1.x kernel. A plugin that targets another major version, or a newer minor version
than this kernel provides, is refused with a message saying which, and the rest goes on.
"""

from __future__ import annotations

import pluggy

PROJECT = "gantry"
API_VERSION: tuple[int, int] = (1, 0)

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

from gantry.hookspecs import (  # noqa: E402  (the markers above must exist first)
    codecs,
    deid,
    extensions,
    readers,
    storage,
    transports,
)

MODULES = (readers, codecs, transports, deid, storage, extensions)

__all__ = ["API_VERSION", "MODULES", "PROJECT", "hookimpl", "hookspec"]
