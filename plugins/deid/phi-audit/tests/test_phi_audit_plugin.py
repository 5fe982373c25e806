"""The plugin as the kernel sees it, and the provenance of its own attribute lists."""

from __future__ import annotations

import hashlib
import json
from importlib import metadata, resources
from pathlib import Path

import pytest

import gantry_phi_audit.plugin as plugin
from gantry.testing import kernel_with
from gantry_phi_audit.profile_lists import basic_profile_attributes, safe_private_attributes

SHARED_TABLE = Path("/work/shared/data/ps3.15-table-e1-1.json")


def test_the_entry_point_names_the_plugin_module() -> None:
    entry_points = metadata.entry_points(group="gantry.plugins")
    assert [entry.value for entry in entry_points if entry.name == "phi-audit"] == ["gantry_phi_audit.plugin"]
    assert plugin.GANTRY_API_VERSION == "1.0"


def test_settings_are_declared_and_validated() -> None:
    settings = kernel_with({"phi-audit": plugin}, config={"phi-audit": {"extra_dummy_values": ["SITE"]}}) \
        .settings("phi-audit")
    assert settings["extra_dummy_values"] == ["SITE"]
    assert "uid-not-remapped" not in settings["rules"] and "person-name" in settings["rules"]
    for bad in ({"dummy_pattern": "("}, {"rules": ["no-such-rule"]}):
        report = kernel_with({"phi-audit": plugin}, config={"phi-audit": bad}).report()
        assert report[0]["status"] == "failed" and "ConfigError" in report[0]["error"]


def test_the_command_is_added_lazily() -> None:
    import click

    from gantry.cli import LazyCommand

    app = click.Group()
    plugin.gantry_cli(app)
    command = app.commands["phi-audit"]
    assert isinstance(command, LazyCommand) and command._real is None


def test_the_lists_say_where_they_come_from() -> None:
    data = resources.files("gantry_phi_audit").joinpath("data")
    for name in ("basic_profile_attributes.json", "safe_private_attributes.json"):
        provenance = json.loads(data.joinpath(name).read_text())["provenance"]
        assert provenance["generated_by"].endswith("scripts/derive_profile_lists.py")
        assert len(provenance["source_sha256"]) == 64 and provenance["rows_written"] > 0
    listed = basic_profile_attributes()
    assert listed[0x00100010].action == "Z" and listed[0x00100020].name == "Patient ID"
    assert listed[0x00080020].kept_by == {"retain-long-full-dates"}
    assert 0x00080018 not in listed  # SOP Instance UID: U, the UID rule's business
    assert (0x7053, "Philips PET Private Group", 0x00) in safe_private_attributes()


def test_the_lists_match_the_shared_table_when_it_is_here() -> None:
    # The shared data folder is the derivation's source; where it exists, the copy must be current.
    if not SHARED_TABLE.exists():
        pytest.skip(f"{SHARED_TABLE} is not on this machine")
    data = resources.files("gantry_phi_audit").joinpath("data", "basic_profile_attributes.json")
    provenance = json.loads(data.read_text())["provenance"]
    assert provenance["source_sha256"] == hashlib.sha256(SHARED_TABLE.read_bytes()).hexdigest()
