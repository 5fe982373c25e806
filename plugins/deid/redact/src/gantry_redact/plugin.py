"""Entry module: descriptors, settings and the CLI command only (numpy and the codecs load on first use)."""

from __future__ import annotations

from typing import Any

from gantry import DeidAction, Setting, hookimpl

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_deid_actions() -> list[DeidAction]:
    return [
        DeidAction(
            name="redact-zones",
            description="Clean Pixel Data: blank each matching machine's zones in the stored values of "
                        "every frame (compressed input re-encoded losslessly, lossy input written native); "
                        "images at risk with no matching machine are flagged for review",
            codes=("redact-pixels",),
            apply="gantry_redact.action:apply",
            priority=50,
        )
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    return [
        Setting(name="machines", type="list", default=[],
                help="[{match: {Manufacturer, ManufacturerModelName, DeviceSerialNumber, Modality, Rows, "
                     "Columns}, zones: [[top, left, bottom, right], ...]}]; the first match wins"),
        Setting(name="risky_modalities", type="list", default=["US", "SC", "XA", "ES", "DX", "OT"],
                help="modalities whose images are flagged for review when no machine matches them"),
    ]


@hookimpl
def gantry_configure(config: Any, settings: dict[str, Any], kernel: Any) -> None:
    from gantry_redact.settings import RedactSettings

    RedactSettings.from_mapping(settings)  # a bad machine table fails at start-up, not mid-run


@hookimpl
def gantry_cli(app: Any) -> None:
    import click

    from gantry.cli import LazyCommand

    # A plain group holding lazy subcommands: LazyCommand stands for one command, not a group.
    group = click.Group("redact", help="Pixel redaction (Clean Pixel Data) tools.")
    group.add_command(LazyCommand("import-ctp", "gantry_redact.cli:import_ctp_command",
                                  help="Translate a CTP DicomPixelAnonymizer script into Gantry's machine table."))
    app.add_command(group)
