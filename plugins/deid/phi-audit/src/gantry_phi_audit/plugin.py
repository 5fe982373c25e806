"""Entry module: settings and the CLI command only (the audit loads on first use)."""

from __future__ import annotations

from typing import Any

from gantry import Setting, hookimpl

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_settings() -> list[Setting]:
    from gantry_phi_audit.rules import DEFAULT_RULES
    from gantry_phi_audit.settings import DEFAULT_DUMMY_VALUES, DEFAULT_RISKY_MODALITIES

    return [
        Setting(name="dummy_values", type="list", default=list(DEFAULT_DUMMY_VALUES),
                help="values de-identifiers write in place of identifiers; never findings "
                     "(replaces the default list)"),
        Setting(name="extra_dummy_values", type="list", default=[],
                help="more dummy values, added to dummy_values"),
        Setting(name="dummy_pattern", type="str", default="",
                help="a regular expression for the site's own placeholders or pseudonyms, "
                     "matched against whole values (empty: none)"),
        Setting(name="rules", type="list", default=sorted(DEFAULT_RULES),
                help="the rules to run (see `gantry phi-audit --help`); uid-not-remapped is off "
                     "by default"),
        Setting(name="risky_modalities", type="list", default=list(DEFAULT_RISKY_MODALITIES),
                help="modalities whose images are flagged burned-in-text-risk unless their "
                     "pixels were redacted"),
    ]


@hookimpl
def gantry_configure(config: Any, settings: dict[str, Any], kernel: Any) -> None:
    from gantry_phi_audit.settings import AuditSettings

    AuditSettings.from_mapping(settings)  # a bad pattern or rule name fails at start-up


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("phi-audit", "gantry_phi_audit.cli:phi_audit_command",
                                help="Audit DICOM headers under PATHS for leftover identifiers."))
