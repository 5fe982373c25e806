"""Generate gantry-deid's own copy of the PS3.15 Annex E tables.

    python plugins/deid/basic/scripts/generate_tables.py [--source DIR] [--check]

Reads the transcriptions of PS3.15 (see ``PROVENANCE.md`` in the source folder, by default
``<repository>/../shared/data``) and writes compact JSON files into ``src/gantry_deid/data/``:

- ``table_e1_1.json``        Table E.1-1, one row per line: tag, name, retired, in a standard
                             composite IOD, Basic Profile code, {option column: code};
- ``safe_private.json``      Table E.3.10-1: tag, private creator, VR, VM, meaning;
- ``sr_content_items.json``  Table E.3.4-1: code value, scheme, meaning, value type, retired,
                             in a standard template, Basic Profile code, {option column: code}.

Each file starts with a provenance header: the edition, the source file, the SHA-256 of that
file and this script. Rows keep the standard's order, so a new edition diffs cleanly. The
input is checked on the way (tag syntax, action codes, option columns against the contract
in ``gantry.deid``): a transcription error stops the script instead of reaching a profile.

``--check`` writes nothing and exits 1 when the committed files differ from what the source
produces (the test suite runs the same comparison).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
PLUGIN = HERE.parents[1]
REPOSITORY = HERE.parents[4]
DEFAULT_SOURCE = REPOSITORY.parent / "shared" / "data"
OUTPUT = PLUGIN / "src" / "gantry_deid" / "data"
SCRIPT_NAME = "plugins/deid/basic/scripts/generate_tables.py"

TABLE_E1_1 = "ps3.15-table-e1-1.json"
ACTION_CODES = "ps3.15-table-e1-1a-action-codes-and-notes.json"
SAFE_PRIVATE = "ps3.15-safe-private.json"
SR_CONTENT = "ps3.15-table-e3.4-1.json"

#: Every code Table E.1-1 and E.3.4-1 may hold (Table E.1-1a).
KNOWN_CODES = frozenset({"D", "Z", "X", "K", "C", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"})
#: "(gggg,eeee)" with hex digits, or lower-case x where the standard masks a digit.
TAG_TEXT = re.compile(r"^\([0-9A-Fx]{4},[0-9A-Fx]{4}\)$")
PRIVATE_ROW = "(gggg,eeee) where gggg is odd"
SAFE_PRIVATE_TAG = re.compile(r"^\([0-9A-Fa-f]{3}[13579BDFbdf],xx[0-9A-Fa-f]{2}\)$")


def option_columns() -> tuple[str, ...]:
    """The Table E.1-1 option columns the de-identification contract knows, in its order."""
    from gantry.deid import OPTIONS

    return tuple(column for _code, _meaning, column in OPTIONS.values() if column)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edition_of(source: Path) -> str:
    edition = json.loads((source / ACTION_CODES).read_text(encoding="utf-8")).get("edition")
    if not isinstance(edition, str) or not re.fullmatch(r"\d{4}[a-e]", edition):
        raise SystemExit(f"{source / ACTION_CODES}: no edition like '2026c' in its 'edition' key")
    return edition


def provenance(source: Path, name: str, table: str, edition: str) -> dict[str, str]:
    return {
        "standard": f"DICOM PS3.15 {edition}",
        "table": table,
        "edition": edition,
        "source_file": name,
        "source_sha256": sha256(source / name),
        "generated_by": SCRIPT_NAME,
        "note": "Generated file: do not edit. Run the script named in generated_by.",
    }


def _check_code(where: str, column: str, code: Any) -> None:
    if code is not None and code not in KNOWN_CODES:
        raise SystemExit(f"{where}: column {column} holds {code!r}, not an action code of Table E.1-1a")


def table_e1_1(source: Path, edition: str) -> dict[str, Any]:
    rows = json.loads((source / TABLE_E1_1).read_text(encoding="utf-8"))
    columns = option_columns()
    out = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        where = f"{TABLE_E1_1} row {number} {row.get('tag')!r}"
        tag = row["tag"]
        if tag != PRIVATE_ROW and not TAG_TEXT.match(tag):
            raise SystemExit(f"{where}: not a tag like (0010,0010) or a mask like (50xx,xxxx)")
        if tag in seen:
            raise SystemExit(f"{where}: the tag is listed twice")
        seen.add(tag)
        unknown = sorted(set(row) - {"tag", "name", "name_note", "retired", "in_std_comp_iod",
                                     "basic_profile", *columns})
        if unknown:
            raise SystemExit(f"{where}: unknown columns {unknown}; the contract (gantry.deid.OPTIONS) "
                             f"knows {list(columns)}")
        if row["basic_profile"] is None:
            raise SystemExit(f"{where}: no Basic Profile code")
        _check_code(where, "basic_profile", row["basic_profile"])
        options = {}
        for column in columns:
            _check_code(where, column, row.get(column))
            if row.get(column) is not None:
                options[column] = row[column]
        out.append([tag, row["name"], bool(row["retired"]), bool(row["in_std_comp_iod"]),
                    row["basic_profile"], options])
    return {
        "provenance": provenance(source, TABLE_E1_1, "Table E.1-1 Application Level Confidentiality "
                                 "Profile Attributes", edition),
        "fields": ["tag", "name", "retired", "in_std_comp_iod", "basic_profile", "options"],
        "option_columns": list(columns),
        "rows": out,
    }


def safe_private(source: Path, edition: str) -> dict[str, Any]:
    rows = json.loads((source / SAFE_PRIVATE).read_text(encoding="utf-8"))
    out = []
    for number, row in enumerate(rows, start=1):
        where = f"{SAFE_PRIVATE} row {number} {row.get('tag')!r}"
        if not SAFE_PRIVATE_TAG.match(row["tag"] or ""):
            raise SystemExit(f"{where}: not a private tag like (0009,xx04) in an odd group")
        if not (row.get("private_creator") or "").strip():
            raise SystemExit(f"{where}: no private creator")
        out.append([row["tag"], row["private_creator"], row.get("vr"), row.get("vm"), row.get("name")])
    return {
        "provenance": provenance(source, SAFE_PRIVATE, "Table E.3.10-1 Safe Private Attributes", edition),
        "fields": ["tag", "private_creator", "vr", "vm", "name"],
        "rows": out,
    }


def sr_content_items(source: Path, edition: str) -> dict[str, Any]:
    rows = json.loads((source / SR_CONTENT).read_text(encoding="utf-8"))
    fixed = ("code_value", "coding_scheme_designator", "code_meaning", "value_type", "retired",
             "in_std_template", "basic_profile")
    out = []
    for number, row in enumerate(rows, start=1):
        where = f"{SR_CONTENT} row {number} {row.get('code_value')!r}"
        _check_code(where, "basic_profile", row["basic_profile"])
        options = {}
        for column, code in row.items():
            if column in fixed or code is None:
                continue
            if column not in option_columns():
                raise SystemExit(f"{where}: unknown column {column!r}")
            _check_code(where, column, code)
            options[column] = code
        out.append([row["code_value"], row["coding_scheme_designator"], row["code_meaning"],
                    row["value_type"], bool(row["retired"]), bool(row["in_std_template"]),
                    row["basic_profile"], options])
    return {
        "provenance": provenance(source, SR_CONTENT, "Table E.3.4-1 Clean Structured Content Option: "
                                 "Content Item Concept Name Codes", edition),
        "fields": ["code_value", "coding_scheme_designator", "code_meaning", "value_type", "retired",
                   "in_std_template", "basic_profile", "options"],
        "rows": out,
    }


def render(document: dict[str, Any]) -> str:
    """JSON with one row per line: small, and a new edition shows up as a readable diff."""
    lines = ["{"]
    keys = [key for key in document if key != "rows"]
    for key in keys:
        lines.append(f"  {json.dumps(key)}: {json.dumps(document[key], ensure_ascii=False)},")
    lines.append('  "rows": [')
    rows: Iterable[Any] = document["rows"]
    rendered = [f"    {json.dumps(row, ensure_ascii=False, separators=(',', ':'))}" for row in rows]
    lines.append(",\n".join(rendered))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def generate(source: Path) -> dict[str, str]:
    """File name -> content, for every generated file."""
    for name in (TABLE_E1_1, ACTION_CODES, SAFE_PRIVATE, SR_CONTENT):
        if not (source / name).is_file():
            raise SystemExit(f"{source}: {name} is missing")
    edition = edition_of(source)
    return {
        "table_e1_1.json": render(table_e1_1(source, edition)),
        "safe_private.json": render(safe_private(source, edition)),
        "sr_content_items.json": render(sr_content_items(source, edition)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help=f"folder holding the PS3.15 JSON transcriptions (default {DEFAULT_SOURCE})")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the committed files are not what the source gives")
    args = parser.parse_args(argv)
    files = generate(args.source)
    stale = [name for name, text in files.items()
             if not (OUTPUT / name).is_file() or (OUTPUT / name).read_text(encoding="utf-8") != text]
    if args.check:
        for name in stale:
            print(f"{OUTPUT / name} is not what {args.source} gives: run {SCRIPT_NAME}", file=sys.stderr)
        return 1 if stale else 0
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (OUTPUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT / name} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
