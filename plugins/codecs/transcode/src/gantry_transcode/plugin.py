"""Entry module: adds ``gantry transcode``. The work is in gantry_transcode.transcode."""

from __future__ import annotations

from typing import Any

from gantry import hookimpl

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("transcode", "gantry_transcode.cli:transcode_command",
                                help="Change the transfer syntax of files and folders."))
