"""Entry module: descriptors and hooks only (pydicom is imported when an action first runs)."""

from __future__ import annotations

from typing import Any

from gantry import DeidAction, DeidProfile, Setting, hookimpl

GANTRY_API_VERSION = "1.0"

#: Priority of every action here: the default a site outranks with its own provider.
PRIORITY = 50


@hookimpl
def gantry_deid_actions() -> list[DeidAction]:
    return [
        DeidAction(name="deid-remove", codes=("X",), priority=PRIORITY, apply="gantry_deid.actions:remove",
                   description="X: remove the attribute (a sequence with all its items)"),
        DeidAction(name="deid-empty", codes=("Z",), priority=PRIORITY, apply="gantry_deid.actions:empty",
                   description="Z: zero-length value (a sequence without items)"),
        DeidAction(name="deid-dummy", codes=("D",), priority=PRIORITY, apply="gantry_deid.actions:dummy",
                   description="D: a dummy value valid for the VR (a sequence of one empty item)"),
        DeidAction(name="deid-keep", codes=("K",), priority=PRIORITY, apply="gantry_deid.actions:keep",
                   description="K: keep (sequences are walked with the same plan by the engine)"),
        DeidAction(name="deid-clean", codes=("C",), priority=PRIORITY, apply="gantry_deid.actions:clean",
                   description="C: remove the instance's identifying values from text; dummy when "
                               "nothing useful remains"),
    ]


@hookimpl
def gantry_deid_profiles() -> list[DeidProfile]:
    return [
        DeidProfile(name="basic", profile="basic", priority=PRIORITY, rules="gantry_deid.profile:basic_rules",
                    description="PS3.15 Basic Application Level Confidentiality Profile, Table E.1-1 "
                                "with its option columns"),
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    return [
        Setting(name="secret_file", type="str", default="",
                help="the site secret for keyed pseudonyms (made on first use, 0600); default "
                     "$GANTRY_SECRET_FILE, else gantry-secret.key in the working folder"),
    ]


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("deid", "gantry_deid.cli:deid_command",
                                help="De-identify files, folders or an index selection into OUT."))
