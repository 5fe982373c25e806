"""Entry module: descriptors and hooks only (pynetdicom and tenacity load when first used)."""

from __future__ import annotations

from typing import Any

from gantry import DimseService, Setting, Transport, hookimpl

GANTRY_API_VERSION = "1.0"

PRIORITY = 50


@hookimpl
def gantry_transports() -> list[Transport]:
    return [
        Transport(name="dimse", schemes=("dicom",), priority=PRIORITY, factory="gantry_dimse.transport:open_transport",
                  operations=("echo", "find", "retrieve", "store"),
                  description="DIMSE over TCP: pooled associations, retries, a circuit breaker per node"),
    ]


@hookimpl
def gantry_dimse_services() -> list[DimseService]:
    return [
        DimseService(name="dimse-echo", service="C-ECHO", priority=PRIORITY,
                     scu="gantry_dimse.echo:echo_scu", scp="gantry_dimse.echo:echo_scp",
                     description="Verification (C-ECHO), requesting and answering"),
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    from gantry_dimse.settings import declared_settings

    return declared_settings()


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("echo", "gantry_dimse.cli:echo_command",
                                help="C-ECHO a DICOM node (dicom://CALLED@host:port or a node name)."))
    app.add_command(LazyCommand("listen", "gantry_dimse.cli:listen_command",
                                help="Answer DIMSE requests as dicom://OURAE@host:port until Ctrl-C."))
