"""Entry module: the descriptor and the CLI hook only (pynetdicom loads when first used)."""

from __future__ import annotations

from typing import Any

from gantry import DimseService, hookimpl

GANTRY_API_VERSION = "1.0"

PRIORITY = 50


@hookimpl
def gantry_dimse_services() -> list[DimseService]:
    return [
        DimseService(name="cfind", service="C-FIND", priority=PRIORITY,
                     scu="gantry_cfind.scu:find_scu", scp="gantry_cfind.scp:find_scp",
                     description="Query (C-FIND), Patient Root and Study Root at every level: "
                                 "requesting, and answering from the index"),
    ]


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("find", "gantry_cfind.cli:find_command",
                                help="C-FIND a DICOM node: matching patients, studies, series or instances."))
