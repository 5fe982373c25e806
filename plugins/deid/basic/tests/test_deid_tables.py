"""The generated tables: what the script makes of ../shared/data, and how the plugin reads them."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from gantry_deid.tables import PRIVATE_ROW_TAG, parse_tag_text, provenance, table_e1_1

PLUGIN = Path(__file__).resolve().parents[1]
REPOSITORY = PLUGIN.parents[2]
SHARED_DATA = REPOSITORY.parent / "shared" / "data"
DATA = PLUGIN / "src" / "gantry_deid" / "data"


def generator() -> Any:
    spec = importlib.util.spec_from_file_location("gantry_deid_generate_tables",
                                                  PLUGIN / "scripts" / "generate_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} (the PS3.15 transcriptions) is not here")
def test_the_shipped_tables_are_what_the_script_makes_of_the_source() -> None:
    produced = generator().generate(SHARED_DATA)
    assert sorted(produced) == sorted(path.name for path in DATA.glob("*.json"))
    for name, text in produced.items():
        assert (DATA / name).read_text(encoding="utf-8") == text, f"{name}: run scripts/generate_tables.py"
    for name in produced:
        header = json.loads((DATA / name).read_text(encoding="utf-8"))["provenance"]
        source = SHARED_DATA / header["source_file"]
        assert header["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()


def test_every_data_file_says_where_it_comes_from() -> None:
    for name in ("table_e1_1.json", "safe_private.json", "sr_content_items.json"):
        header = provenance(name)
        assert header["edition"] == "2026c"
        assert header["generated_by"] == "plugins/deid/basic/scripts/generate_tables.py"
        assert len(header["source_sha256"]) == 64 and header["source_file"].startswith("ps3.15-")


def test_table_e1_1_as_loaded() -> None:
    table = table_e1_1()
    assert table.edition == "2026c"
    assert len(table.rows) + 1 == 656  # the private row is kept apart
    assert table.private_row is not None and table.private_row.tag_text == PRIVATE_ROW_TAG
    assert table.private_row.options == {"retain_safe_private": "C"}
    masked = sorted(row.tag_text for row in table.rows if not row.is_plain)
    assert masked == ["(50xx,xxxx)", "(60xx,3000)", "(60xx,4000)"]
    name = next(row for row in table.rows if row.tag_text == "(0010,0010)")
    assert (name.name, name.basic, dict(name.options)) == ("Patient's Name", "Z", {})
    assert len(table.safe_private) == 479
    assert all(entry.group & 1 and 0 <= entry.offset <= 0xFF for entry in table.safe_private)


@pytest.mark.parametrize(("text", "mask", "value"), [
    ("(0010,0010)", 0xFFFFFFFF, 0x00100010),
    ("(50xx,xxxx)", 0xFF000000, 0x50000000),
    ("(60xx,3000)", 0xFF00FFFF, 0x60003000),
    ("0008,0050", 0xFFFFFFFF, 0x00080050),
    ("7fe00010", 0xFFFFFFFF, 0x7FE00010),
])
def test_tag_texts(text: str, mask: int, value: int) -> None:
    assert parse_tag_text(text) == (mask, value)


def test_the_plugin_offers_the_actions_and_the_profile(installed_kernel: Any) -> None:
    report = {row["name"]: row for row in installed_kernel.report()}
    assert report["deid"]["status"] == "loaded", report["deid"]["error"]
    offered = {(p["family"], p["key"]): p for p in report["deid"]["provides"]}
    for code in ("X", "Z", "D", "K", "C"):
        assert offered[("deid-action", code)]["priority"] == 50
    assert offered[("deid-profile", "basic")]["provider"] == "basic"
