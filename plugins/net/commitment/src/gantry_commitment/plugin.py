"""Entry module: the descriptor, settings and the CLI hook only (pynetdicom loads when first used)."""

from __future__ import annotations

from typing import Any

from gantry import DimseService, Setting, hookimpl

GANTRY_API_VERSION = "1.0"

PRIORITY = 50


@hookimpl
def gantry_dimse_services() -> list[DimseService]:
    return [
        DimseService(name="commitment", service="N-ACTION", priority=PRIORITY,
                     scu="gantry_commitment.scu:request_commitment",
                     scp="gantry_commitment.scp:commitment_scp",
                     description="Storage Commitment Push Model: request commitment and receive the "
                                 "report (same or new association); answer from the index"),
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    from gantry_commitment.settings import declared_settings

    return declared_settings()


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("commit", "gantry_commitment.cli:commit_command",
                                help="Ask a DICOM node to commit to keep instances (Storage Commitment)."))
