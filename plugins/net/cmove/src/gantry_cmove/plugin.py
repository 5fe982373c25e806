"""Entry module: the descriptor, settings and the CLI hook only (pynetdicom loads when first used)."""

from __future__ import annotations

from typing import Any

from gantry import DimseService, Setting, hookimpl

GANTRY_API_VERSION = "1.0"

PRIORITY = 50


@hookimpl
def gantry_dimse_services() -> list[DimseService]:
    return [
        DimseService(name="cmove", service="C-MOVE", priority=PRIORITY,
                     scu="gantry_cmove.scu:move_scu", scp="gantry_cmove.scp:move_scp",
                     description="Retrieve (C-MOVE), Patient Root and Study Root: ask a node to send "
                                 "instances to an AE; send from the index to configured destinations"),
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    from gantry_cmove.settings import declared_settings

    return declared_settings()


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("move", "gantry_cmove.cli:move_command",
                                help="C-MOVE matching instances from a DICOM node to another AE."))
