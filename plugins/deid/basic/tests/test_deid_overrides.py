"""Site overrides: validated at compile time with errors naming the key; applied before the table."""

from __future__ import annotations

from typing import Any

import pytest

from gantry import ConfigError, DeidError
from gantry_deid import compile_plan
from gantry_deid.tables import table_e1_1


@pytest.mark.parametrize(("overrides", "message"), [
    ({"PatientNmae": "X"}, r"'PatientNmae'.*did you mean PatientName"),
    ({"PatientName": "Q"}, r"'PatientName'.*unknown action 'Q'"),
    ({"(0010,0010)": "remap"}, r"'\(0010,0010\)'.*unknown action 'remap'"),
    ({"PatientName": ("X", "ANON")}, r"'PatientName'.*a value goes with action D"),
    ({"StudyInstanceUID": ("D", "1.2.3")}, r"'StudyInstanceUID'.*VR UI"),
    ({"PatientBirthDate": ("D", "not a date")}, r"'PatientBirthDate'.*not valid for VR DA"),
    ({"PatientName": ("D", "ANON^{patient_name}")}, r"'PatientName'.*\{patient_name\}.*allowed fields"),
    ({"PatientName": ("D", "ANON^{patient_hash!r}")}, r"'PatientName'.*no formats or conversions"),
    ({"PatientName": ("D", "ANON{")}, r"'PatientName'.*not a valid template"),
    ({"(0009,1001)": "K"}, r"'\(0009,1001\)'.*private attributes"),
    ({"(0002,0016)": "K"}, r"'\(0002,0016\)'.*not overridable"),
    ({"(0004,xxxx)": "K"}, r"'\(0004,xxxx\)'.*not overridable"),
    ({"(60xx,3000)": ("D", "x")}, r"'\(60xx,3000\)'.*single attribute"),
    ({"PatientName": {"action": "D", "text": "x"}}, r"'PatientName'.*unknown keys: text"),
    ({"PatientName": "X", "(0010,0010)": "K"}, r"'\(0010,0010\)'.*already overridden as 'PatientName'"),
    ({"SpecificCharacterSet": "X"}, r"'SpecificCharacterSet'.*not overridable"),
    ({"PatientName": 3}, r"'PatientName'.*expected an action code"),
])
def test_bad_overrides_are_config_errors_naming_the_key(deid_kernel: Any, overrides: dict[str, Any],
                                                        message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        compile_plan(deid_kernel, overrides=overrides)


def test_overrides_win_over_the_table_and_options(deid_kernel: Any) -> None:
    plan = compile_plan(deid_kernel, options=["retain-uids"], overrides={
        "StudyDescription": "K", "(60xx,3000)": "K", "(0020,000D)": "U", 0x00080018: "U",
        "PatientName": {"action": "D", "value": "ANON^{patient_hash}"}})
    assert plan.rule_for(0x00081030).code == "K" and plan.rule_for(0x00081030).source == "override"
    assert plan.rule_for(0x60023000).code == "K"
    assert plan.rule_for(0x00080018).code == "U"           # retain-uids said K
    assert plan.rule_for(0x00100010).template is not None


def test_values_and_templates_are_written(deidentify: Any, tmp_path: Any) -> None:
    from gantry.testing import make_dataset

    overrides = {"PatientName": ("D", "ANON^{patient_hash}"), "InstitutionName": ("D", "RESEARCH {{SITE}}"),
                 "StudyDescription": "K"}
    first = deidentify(make_dataset(instance=1), tmp_path, overrides=overrides, name="1.dcm")
    second = deidentify(make_dataset(instance=2), tmp_path, overrides=overrides, name="2.dcm")
    other = deidentify(make_dataset(patient=2), tmp_path, overrides=overrides, name="3.dcm")
    name = str(first.dataset.PatientName)
    assert name.startswith("ANON^") and len(name) == 15
    assert str(second.dataset.PatientName) == name            # the same patient, the same pseudonym
    assert str(other.dataset.PatientName) != name             # another patient, another one
    assert first.dataset.InstitutionName == "RESEARCH {SITE}"
    assert first.dataset.StudyDescription == "Synthetic study"


def test_a_missing_u_provider_stops_before_anything_runs(make_kernel: Any, tmp_path: Any) -> None:
    import gantry_deid.plugin as deid_plugin
    import gantry_part10.plugin as part10_plugin

    kernel = make_kernel(plugins={"part10": part10_plugin, "deid": deid_plugin})
    with pytest.raises(DeidError, match=r"action\(s\) U \(needed by .*gantry-uidmap"):
        compile_plan(kernel)
    # retain-uids keeps most UIDs, not all: (0040,A124) UID and others have no retain-uids entry.
    with pytest.raises(DeidError, match=r"action\(s\) U"):
        compile_plan(kernel, options=["retain-uids"])
    still_u = {row.tag_text: "X" for row in table_e1_1().rows
               if row.basic in ("U", "X/Z/U*") and "retain_uids" not in row.options and row.value >> 16 != 2}
    compile_plan(kernel, options=["retain-uids"], overrides=still_u)  # now nothing needs U


def test_a_missing_shift_provider_is_an_error_only_when_dates_are_cleaned(make_kernel: Any, stand_ins: Any) -> None:
    import gantry_deid.plugin as deid_plugin

    class OnlyU:
        from gantry import hookimpl

        @hookimpl
        def gantry_deid_actions(self) -> list[Any]:
            return [action for action in stand_ins.gantry_deid_actions() if "U" in action.codes]

    kernel = make_kernel(plugins={"deid": deid_plugin, "u": OnlyU()})
    compile_plan(kernel)  # the basic profile never cleans a date
    with pytest.raises(DeidError, match=r"action\(s\) shift"):
        compile_plan(kernel, options=["retain-long-modified-dates"])


def test_a_missing_profile_is_a_deid_error(make_kernel: Any) -> None:
    kernel = make_kernel(plugins={})
    with pytest.raises(DeidError, match="profile 'basic'"):
        compile_plan(kernel)


def test_unlisted_attributes_can_be_removed(deid_kernel: Any) -> None:
    assert compile_plan(deid_kernel).rule_for(0x00180050).code == "K"  # Slice Thickness: not in the table
    assert compile_plan(deid_kernel, unlisted="X").rule_for(0x00180050).code == "X"
    with pytest.raises(ConfigError, match="unlisted"):
        compile_plan(deid_kernel, unlisted="D")
