"""Derive the audit's own attribute lists from the project's PS3.15 data files.

    .venv/bin/python plugins/deid/phi-audit/scripts/derive_profile_lists.py [SHARED_DATA_FOLDER]

Writes two small files into ``src/gantry_phi_audit/data/``, each with a ``provenance`` block
(source file, its SHA-256, edition, row counts, this script):

* ``basic_profile_attributes.json``: every single-tag row of Table E.1-1 whose Basic Profile
  action removes the value or replaces it with a dummy (X, Z, D and their combinations), with
  the Gantry option names under which the attribute may legitimately hold a value (the option's
  column says K, kept as it was, or C, cleaned). UID rows (U, X/Z/U*) are left out: a remapped UID is still a UID, and
  checking UIDs is the optional ``uid-not-remapped`` rule's job. Masked rows (curves, overlays,
  private attributes) are left out too: dedicated rules cover them.
* ``safe_private_attributes.json``: Table E.3.10-1 as (group, private creator, element byte).

The audit keeps its own copy, rather than reading the de-identification engine's, so that the
check does not share a mistake with the thing it checks.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "src" / "gantry_phi_audit" / "data"
DEFAULT_SOURCE = Path("/work/shared/data")
SINGLE_TAG = re.compile(r"\(([0-9A-F]{4}),([0-9A-F]{4})\)")
PRIVATE_TAG = re.compile(r"\(([0-9A-Fa-f]{4}),xx([0-9A-Fa-f]{2})\)")
REMOVING_ACTIONS = {"X", "Z", "D", "X/Z", "X/D", "Z/D", "X/Z/D"}
# Table E.1-1 columns are the option names with underscores (gantry.deid.OPTIONS holds the same
# names with their CID 7050 codes); the private-attributes column is handled by its own rule.
OPTION_COLUMNS = ("retain_uids", "retain_device_identity", "retain_institution_identity",
                  "retain_patient_characteristics", "retain_long_full_dates",
                  "retain_long_modified_dates", "clean_descriptors", "clean_structured_content",
                  "clean_graphics")


def provenance(source: Path, rows_in: int, rows_out: int, what: str) -> dict[str, object]:
    return {
        "what": what,
        "source": f"{source.name} (PS3.15 2026c, see PROVENANCE.md beside it)",
        "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "generated_by": "plugins/deid/phi-audit/scripts/derive_profile_lists.py",
        "rows_in_source": rows_in,
        "rows_written": rows_out,
    }


def derive_attributes(source: Path) -> dict[str, object]:
    rows = json.loads(source.read_text())
    attributes = []
    for row in rows:
        match = SINGLE_TAG.fullmatch(row["tag"])
        if match is None or row["basic_profile"] not in REMOVING_ACTIONS:
            continue
        options = {column.replace("_", "-"): row[column] for column in OPTION_COLUMNS
                   if row[column] in ("K", "C")}
        attributes.append({"tag": row["tag"], "name": row["name"],
                           "action": row["basic_profile"], "options": options})
    attributes.sort(key=lambda entry: entry["tag"])
    what = ("Table E.1-1 attributes whose value the Basic Profile removes or replaces by a dummy "
            "(X, Z, D and combinations); options = the options whose column says K (keep) or C (clean)")
    return {"provenance": provenance(source, len(rows), len(attributes), what), "attributes": attributes}


def derive_safe_private(source: Path) -> dict[str, object]:
    rows = json.loads(source.read_text())
    safe = []
    for row in rows:
        match = PRIVATE_TAG.fullmatch(row["tag"])
        if match is None:
            raise SystemExit(f"unexpected safe private tag {row['tag']!r}")
        safe.append({"group": match[1].upper(), "creator": row["private_creator"],
                     "element": match[2].upper()})
    safe.sort(key=lambda entry: (entry["group"], entry["creator"], entry["element"]))
    what = "Table E.3.10-1 Safe Private Attributes as (group, private creator, element byte)"
    return {"provenance": provenance(source, len(rows), len(safe), what), "attributes": safe}


def compact_json(content: dict[str, object]) -> str:
    """One attribute per line: small diffs when a new edition of the standard is derived."""
    lines = ",\n  ".join(json.dumps(entry) for entry in content["attributes"])  # type: ignore[attr-defined]
    head = json.dumps(content["provenance"], indent=2).replace("\n", "\n ")
    return f'{{\n "provenance": {head},\n "attributes": [\n  {lines}\n ]\n}}\n'


def main(folder: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    outputs = {
        "basic_profile_attributes.json": derive_attributes(folder / "ps3.15-table-e1-1.json"),
        "safe_private_attributes.json": derive_safe_private(folder / "ps3.15-safe-private.json"),
    }
    for name, content in outputs.items():
        (OUT / name).write_text(compact_json(content))
        print(f"{name}: {content['provenance']['rows_written']} rows")  # type: ignore[index]


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
