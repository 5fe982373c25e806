"""Each option changes exactly the rows its Table E.1-1 column names, in the plan and in the output."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from gantry import ConfigError, DeidError
from gantry.deid import OPTIONS
from gantry_deid import compile_plan
from gantry_deid.tables import CONDITIONAL_PAIRS, SUPPLEMENTARY_ROWS, table_e1_1

COLUMN_OPTIONS = [name for name, (_code, _meaning, column) in OPTIONS.items() if column]
PLAIN_ROWS = [row for row in table_e1_1().rows if row.is_plain and row.value >> 16 != 0x0004]
MASKED_EXAMPLES = {"(50xx,xxxx)": 0x50022500, "(60xx,3000)": 0x60003000, "(60xx,4000)": 0x60004000}


def column_of(option: str) -> str:
    return OPTIONS[option][2]


@pytest.mark.parametrize("option", COLUMN_OPTIONS)
def test_the_plan_changes_exactly_the_rows_of_the_column(deid_kernel: Any, option: str) -> None:
    basic = compile_plan(deid_kernel)
    with_option = compile_plan(deid_kernel, options=[option])
    column = column_of(option)
    tags = [row.value for row in PLAIN_ROWS] + list(MASKED_EXAMPLES.values())
    changed = {tag for tag in tags if basic.rule_for(tag) != with_option.rule_for(tag)}
    expected = {row.value for row in PLAIN_ROWS if column in row.options}
    expected |= {tag for text, tag in MASKED_EXAMPLES.items()
                 if column in next(r for r in table_e1_1().rows if r.tag_text == text).options}
    # The profile's own rows (overlay text the table does not list) follow their columns too.
    for row in SUPPLEMENTARY_ROWS:
        example = row.value | 0x00020000  # (6002,....)
        tags.append(example)
        if basic.rule_for(example) != with_option.rule_for(example):
            changed.add(example)
        if column in row.options:
            expected.add(example)
    # A Type 1C attribute whose condition attribute the plan removes goes too, whatever the
    # option says (tables.CONDITIONAL_PAIRS): Ethics Committee Name under retain-institution-identity.
    gone = {pair.dependent for pair in CONDITIONAL_PAIRS if with_option.rule_for(pair.dependent).source == "condition"}
    assert all(with_option.rule_for(tag).code == "X" for tag in gone)
    expected -= gone
    assert changed - gone == expected
    for tag in expected:
        rule = with_option.rule_for(tag)
        assert rule.option == option and rule.source == "option"
        assert rule.code == rule.table_code  # option columns hold single codes: K or C
    if option == "retain-safe-private":  # its column names only the private row
        assert not basic.retain_safe_private and with_option.retain_safe_private
        assert basic.rule_for(0x00080300).code == "X" and with_option.rule_for(0x00080300).code == "K"


def test_two_options_on_one_row_keep_the_most_retaining_code(deid_kernel: Any) -> None:
    # In 2026c, rows named by two of these options carry the same code: retain-uids and
    # retain-device-identity (K/K), retain-patient-characteristics and clean-descriptors (C/C).
    both = compile_plan(deid_kernel, options=["retain-uids", "retain-device-identity",
                                              "retain-patient-characteristics", "clean-descriptors"])
    for row in PLAIN_ROWS:
        named = [name for name in both.options if column_of(name) in row.options]
        if len(named) > 1:
            codes = {row.options[column_of(name)] for name in named}
            assert both.rule_for(row.value).code == ("K" if "K" in codes else "C")
            # the option recorded is the first in OPTIONS order among those naming the winning code
            winner = next(name for name in OPTIONS if name in named
                          and row.options[column_of(name)] == both.rule_for(row.value).code)
            assert both.rule_for(row.value).option == winner


def test_the_two_longitudinal_options_exclude_each_other(deid_kernel: Any) -> None:
    with pytest.raises(ConfigError, match="exclude each other"):
        compile_plan(deid_kernel, options=["retain-long-full-dates", "retain-long-modified-dates"])


def test_unknown_and_unsupported_options(deid_kernel: Any) -> None:
    with pytest.raises(ConfigError, match="'retain-everything'"):
        compile_plan(deid_kernel, options=["retain-everything"])
    with pytest.raises(DeidError, match="clean-recognizable-visual-features"):
        compile_plan(deid_kernel, options=["clean-recognizable-visual-features"])
    with pytest.raises(DeidError, match="redact-pixels"):  # no pixel redaction plugin here
        compile_plan(deid_kernel, options=["clean-pixel-data"])


# -- in the output ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, planting: Any, deidentify: Any) -> dict[str, Any]:
    results = {}
    for option in ["", *COLUMN_OPTIONS]:
        dataset, plants = planting.planted_dataset()
        folder = tmp_path_factory.mktemp(option or "basic")
        results[option] = (deidentify(dataset, folder, [option] if option else []), plants)
    return results


def element_of(run: Any, plant: Any, planting: Any) -> Any:
    dataset = planting.nested_item(run.dataset) if plant.nested else run.dataset
    return dataset[plant.tag] if dataset is not None and plant.tag in dataset else None


def row_of(plant: Any) -> Any:
    return next(row for row in table_e1_1().rows if row.tag_text == plant.row)


@pytest.mark.parametrize("option", COLUMN_OPTIONS)
def test_the_output_changes_exactly_the_rows_of_the_column(runs: dict[str, Any], planting: Any, doubles: Any,
                                                           option: str) -> None:
    basic, plants = runs[""]
    run, _ = runs[option]
    column = column_of(option)
    problems = []
    for plant in plants:
        before, after = element_of(basic, plant, planting), element_of(run, plant, planting)
        in_column = column in row_of(plant).options and plant.tag >> 16 != 0x0004
        if not in_column:
            if plant.vr == "SQ" and before is not None and after is not None:
                # A sequence outside the column whose items are kept (K, U, D on references):
                # the UIDs inside follow their own row, which may be in the column.
                expected = expected_under_option("K", plant, after, run, doubles) if before != after else ""
                if expected:
                    problems.append(f"{plant.row} SQ {'nested' if plant.nested else 'top'}: {expected}")
            elif before != after:
                problems.append(f"{plant.row}: changed by {option} but not in its column")
            continue
        if run.plan.rule_for(plant.tag).source == "condition":  # see the plan test above
            if after is not None:
                problems.append(f"{plant.row}: present without its condition attribute")
            continue
        expected = expected_under_option(row_of(plant).options[column], plant, after, run, doubles)
        if expected:
            problems.append(f"{plant.row} {plant.vr} {'nested' if plant.nested else 'top'}: {expected}")
    assert not problems, "\n".join(problems)


def expected_under_option(code: str, plant: Any, element: Any, run: Any, doubles: Any) -> str:
    """'' when ``element`` is what ``code`` (K or C) makes of the planted value."""
    if element is None:
        return "removed"
    if plant.vr == "SQ":  # K and C keep the items and clean them with the same plan
        items = element.value
        inner = plant.value[0].ReferencedSOPInstanceUID
        kept_uid = run.plan.rule_for(0x00081155).code == "K"  # Referenced SOP Instance UID: K with retain-uids
        expected = inner if kept_uid else run.context.uid_pairs.get(inner)
        ok = len(items) == 1 and items[0].ReferencedSOPInstanceUID == expected
        return "" if ok else "the items were not kept and cleaned"
    if code == "K":
        return "" if element.value == plant.value else f"not kept: {element.value!r}"
    if plant.vr in ("DA", "DT"):  # C on a date: the shift provider
        shifted = (datetime.datetime.strptime(plant.value[:8], "%Y%m%d").date()
                   + datetime.timedelta(days=doubles.SHIFT_DAYS)).strftime("%Y%m%d") + plant.value[8:]
        return "" if element.value == shifted else f"not shifted: {element.value!r}"
    if plant.vr in ("OB", "OW", "UN"):  # C cannot read bytes: a dummy of zeros
        return "" if set(element.value) == {0} else "not a dummy"
    if plant.vr == "PN":  # C on a name: a dummy
        return "" if str(element.value) == "ANONYMOUS" else f"not a dummy: {element.value!r}"
    # Text, times and numbers hold no identifying value of this instance: kept as planted.
    return "" if element.value == plant.value else f"not kept: {element.value!r}"


@pytest.mark.parametrize("option", COLUMN_OPTIONS)
def test_the_marking_names_the_options_in_force(runs: dict[str, Any], option: str) -> None:
    run, _ = runs[option]
    codes = [(item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning)
             for item in run.dataset.DeidentificationMethodCodeSequence]
    code, meaning, _column = OPTIONS[option]
    assert codes == [("113100", "DCM", "Basic Application Confidentiality Profile"), (code, "DCM", meaning)]
    assert option in run.dataset.DeidentificationMethod
    expected = {"retain-long-full-dates": "UNMODIFIED", "retain-long-modified-dates": "MODIFIED"}.get(option, "REMOVED")
    assert run.dataset.LongitudinalTemporalInformationModified == expected
