"""Entry module: the descriptor and the CLI hook only (pynetdicom loads when first used)."""

from __future__ import annotations

from typing import Any

from gantry import DimseService, hookimpl

GANTRY_API_VERSION = "1.0"

PRIORITY = 50


@hookimpl
def gantry_dimse_services() -> list[DimseService]:
    return [
        DimseService(name="cget", service="C-GET", priority=PRIORITY,
                     scu="gantry_cget.scu:get_scu", scp="gantry_cget.scp:get_scp",
                     description="Retrieve (C-GET), Patient Root and Study Root: receiving the "
                                 "instances on the same association, and answering from the index"),
    ]


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("get", "gantry_cget.cli:get_command",
                                help="C-GET matching instances from a DICOM node into a folder."))
