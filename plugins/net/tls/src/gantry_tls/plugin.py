"""Entry module: descriptors and hooks only (ssl, pynetdicom and gantry_dimse load when first used)."""

from __future__ import annotations

from gantry import Setting, Transport, hookimpl

GANTRY_API_VERSION = "1.0"

PRIORITY = 50


@hookimpl
def gantry_transports() -> list[Transport]:
    return [
        Transport(name="dimse-tls", schemes=("dicoms",), priority=PRIORITY,
                  factory="gantry_tls.transport:open_transport",
                  operations=("echo", "find", "retrieve", "store"),
                  description="DIMSE over TLS 1.2/1.3 (PS3.15 B.1): verified by default, mutual TLS"),
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    from gantry_tls.settings import declared_settings

    return declared_settings()
