"""Entry module: descriptors and hooks only (httpx, tenacity and pydicom load when first used)."""

from __future__ import annotations

from gantry import Setting, Transport, hookimpl

GANTRY_API_VERSION = "1.0"

PRIORITY = 50


@hookimpl
def gantry_transports() -> list[Transport]:
    return [
        Transport(name="dicomweb", schemes=("dicomweb+http", "dicomweb+https", "dicomweb"), priority=PRIORITY,
                  factory="gantry_dicomweb.transport:open_transport",
                  operations=("echo", "find", "retrieve", "store"),
                  description="DICOMweb client: QIDO-RS find, WADO-RS retrieve, STOW-RS store; "
                              "retries, a circuit breaker per node, bearer or basic auth"),
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    from gantry_dicomweb.settings import declared_settings

    return declared_settings()
