"""Entry module: descriptors and hooks only (httpx and pydicom load when first used)."""

from __future__ import annotations

from typing import Any

from gantry import Setting, Transport, hookimpl

GANTRY_API_VERSION = "1.0"

PRIORITY = 50


@hookimpl
def gantry_transports() -> list[Transport]:
    return [
        Transport(name="orthanc-rest", schemes=("orthanc+http", "orthanc+https"), priority=PRIORITY,
                  factory="gantry_orthanc.transport:open_transport",
                  operations=("echo", "find", "retrieve", "store"),
                  description="Orthanc's own REST API (/tools/find, archives, POST /instances, /changes, "
                              "jobs): retries, a circuit breaker per node, timeouts"),
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    from gantry_orthanc.settings import declared_settings

    return declared_settings()


@hookimpl
def gantry_cli(app: Any) -> None:
    import click

    from gantry.cli import LazyCommand

    # A plain group holding lazy subcommands: LazyCommand stands for one command, not a group.
    group = click.Group("orthanc", help="Orthanc's REST API (orthanc+http://host:8042).")
    group.add_command(LazyCommand("follow", "gantry_orthanc.cli:follow_command",
                                  help="Follow Orthanc's /changes: print (or --get) each stable study."))
    app.add_command(group)
