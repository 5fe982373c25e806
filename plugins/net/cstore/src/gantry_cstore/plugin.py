"""Entry module: descriptors, settings and the CLI hook only (pynetdicom loads when first used)."""

from __future__ import annotations

from typing import Any

from gantry import DimseService, Setting, hookimpl

GANTRY_API_VERSION = "1.0"

PRIORITY = 50


@hookimpl
def gantry_dimse_services() -> list[DimseService]:
    return [
        DimseService(name="cstore", service="C-STORE", priority=PRIORITY,
                     scu="gantry_cstore.scu:store_scu", scp="gantry_cstore.scp:store_scp",
                     description="Storage (C-STORE): send files and folders, transcoding when the "
                                 "peer refuses a syntax; receive durably into the store and the index"),
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    from gantry_cstore.settings import declared_settings

    return declared_settings()


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("send", "gantry_cstore.cli:send_command",
                                help="C-STORE files and folders to a DICOM node."))
