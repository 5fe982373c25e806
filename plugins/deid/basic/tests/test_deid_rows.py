"""Every row of Table E.1-1, planted at the top level and 3 levels deep, through the Basic Profile.

One dataset holds a unique value in every plain-tag row (and instances of the masked rows),
twice: at the top level and inside Referenced Series Sequence > item > Referenced Instance
Sequence > item > Purpose of Reference Code Sequence > item. It is written, de-identified file
to file, and each attribute is checked against what its row's code asks for; then the raw
bytes of the output (preamble and File Meta included) are searched for every planted value.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydicom import config
from pydicom.valuerep import validate_value

from gantry.deid import COMBINED_SAFE
from gantry_deid.tables import CONDITIONAL_PAIRS, table_e1_1, tag_text

ROWS = {row.tag_text: row for row in table_e1_1().rows}


def expected_code(plant: Any) -> str:
    """The Basic Profile code of a plant's row, combined codes resolved as COMBINED_SAFE says."""
    if plant.tag >> 16 == 0x0004:
        return "X"  # PS3.15 E.1.1: group 0004 is removed from every instance
    for pair in CONDITIONAL_PAIRS:  # a Type 1C attribute goes with its condition attribute
        condition = ROWS.get(tag_text(pair.condition))
        if plant.tag == pair.dependent and condition is not None and condition.basic == "X":
            return "X"
    code = ROWS[plant.row].basic
    return COMBINED_SAFE.get(code, code)


@pytest.fixture(scope="module")
def basic_run(tmp_path_factory: pytest.TempPathFactory, planting: Any, deidentify: Any) -> Any:
    dataset, plants = planting.planted_dataset()
    run = deidentify(dataset, tmp_path_factory.mktemp("rows"))
    return run, plants


def test_the_planted_dataset_covers_every_row(basic_run: Any) -> None:
    _run, plants = basic_run
    planted_rows = {plant.row for plant in plants}
    plain = {row.tag_text for row in table_e1_1().rows if row.is_plain}
    masked = {row.tag_text for row in table_e1_1().rows if not row.is_plain}
    assert plain | masked <= planted_rows
    unknown = sorted({plant.row for plant in plants if not plant.in_dictionary})
    # Rows newer than pydicom's dictionary: planted as UN (explicit VR), not with a VR-valid value.
    assert 0 < len(unknown) < 60, unknown
    print(f"\n{len(plain)} plain rows; {len(unknown)} not in pydicom's dictionary (planted as UN): "
          f"{', '.join(unknown)}")


def test_each_attribute_gets_its_rows_action(basic_run: Any, planting: Any) -> None:
    run, plants = basic_run
    nested_item = planting.nested_item(run.dataset)
    assert nested_item is not None, "the unlisted container sequences are kept and walked"
    problems = []
    for plant in plants:
        dataset = nested_item if plant.nested else run.dataset
        code = expected_code(plant)
        problem = check(code, plant, dataset, run.context)
        if problem:
            problems.append(f"{plant.row} {'nested' if plant.nested else 'top'} {plant.vr} {code}: {problem}")
    assert not problems, "\n".join(problems)


def check(code: str, plant: Any, dataset: Any, context: Any) -> str:
    present = plant.tag in dataset
    element = dataset[plant.tag] if present else None
    if code == "X":
        return "still present" if present else ""
    if not present:
        return "removed"
    if code == "Z":
        return "" if element.is_empty else f"not empty: {element.value!r}"
    if code == "D" and plant.vr == "UI":
        code = "U"  # the engine asks U for a dummy UID
    if code == "D":
        return check_dummy(plant, element, context)
    if code == "U":
        if plant.vr == "SQ":  # X/Z/U*: the sequence stays, the UIDs inside are replaced
            return items_cleaned(plant, element, context)
        expected = context.uid_pairs.get(str(plant.value))
        return "" if expected and element.value == expected else f"not replaced by U: {element.value!r}"
    return f"unexpected code {code}"


def items_cleaned(plant: Any, element: Any, context: Any) -> str:
    """'' when the planted item (a reference) is still there with its UID replaced."""
    items = element.value
    inner = plant.value[0].ReferencedSOPInstanceUID
    if len(items) != 1 or items[0].ReferencedSOPInstanceUID != context.uid_pairs.get(inner):
        return "the item was not kept with its UIDs replaced"
    return ""


def check_dummy(plant: Any, element: Any, context: Any) -> str:
    value = element.value
    if plant.vr == "SQ":
        # The planted items are references, neither content items nor codes: D keeps them,
        # cleaned with the plan (dummies.py), so they stay valid items.
        return items_cleaned(plant, element, context)
    if element.is_empty:
        return "empty"
    if plant.vr in ("OB", "OD", "OF", "OL", "OV", "OW", "UN"):
        return "" if set(value) == {0} and len(value) == len(plant.value) else "not zeros of the same length"
    if plant.vr in ("US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "AT"):
        return "" if value == 0 else f"not 0: {value!r}"
    if value == plant.value:
        return "unchanged"
    try:
        validate_value(plant.vr, value if plant.vr != "PN" else str(value), config.RAISE)
    except ValueError as err:
        return f"dummy not valid for {plant.vr}: {err}"
    return ""


def test_no_planted_value_survives_anywhere_in_the_file(basic_run: Any) -> None:
    run, plants = basic_run
    needles = [plant.needle for plant in plants if plant.needle]
    assert len(needles) > 1000
    for needle in needles:
        assert needle in run.source_bytes  # the search works: every needle is in the input
    leaked = [needle for needle in needles if survives(needle, run.data)]
    assert not leaked, leaked[:20]
    assert b"PHIAETITLE" not in run.data  # the original File Meta's Source AE Title
    assert b"PLANTGIVEN" not in run.data  # patient and other names' given-name component


def survives(needle: bytes, data: bytes) -> bool:
    # A number-only needle (a date, a time) can occur by chance inside a replacement UID's digits
    # (2.25.<39 digits>): it counts only where no digit or dot comes right before it.
    if not re.fullmatch(rb"[0-9.]+", needle):
        return needle in data
    return re.search(rb"(?<![0-9.])" + re.escape(needle), data) is not None


def test_masked_rows_are_removed_where_their_group_matches(basic_run: Any, planting: Any) -> None:
    run, _plants = basic_run
    for dataset in (run.dataset, planting.nested_item(run.dataset)):
        for _row, tag, _vr in planting.MASKED_INSTANCES:
            assert tag not in dataset, f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
