"""Entry module: settings and the CLI hook only (starlette, uvicorn and pydicom load when serving)."""

from __future__ import annotations

from typing import Any

from gantry import Setting, hookimpl

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_settings() -> list[Setting]:
    from gantry_dicomweb_server.settings import declared_settings

    return declared_settings()


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("serve", "gantry_dicomweb_server.cli:serve_command",
                                help="Serve the index and the store over DICOMweb (QIDO, WADO, STOW)."))
