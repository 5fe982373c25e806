"""What the de-identification runner tells the audit, and what an output says about itself:
options, pixel redaction, allowed private attributes, the originals' names and identifiers."""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset

from gantry.deid import DeidContext
from gantry.testing.datasets import make_dataset
from gantry_phi_audit import AuditContext, audit_dataset
from gantry_phi_audit.profile_lists import safe_private_attributes
from gantry_phi_audit.testing import simulated_basic_output


def rules_of(findings: list[Any]) -> set[str]:
    return {finding.rule for finding in findings}


def deid_context(original: Any, **fields: Any) -> DeidContext:
    context = DeidContext(sop_instance_uid=original.SOPInstanceUID, patient_key=f"{original.PatientID}^",
                          secret=b"s" * 32, **fields)
    context.originals.extend(original[keyword] for keyword in ("PatientName", "PatientID", "AccessionNumber"))
    return context


def test_an_ultrasound_without_pixel_redaction_is_a_risk() -> None:
    output = simulated_basic_output(make_dataset(modality="US"))
    findings = audit_dataset(output)
    assert [(f.tag, f.rule) for f in findings] == [("(0008,0060)", "burned-in-text-risk")]


def test_redaction_recorded_in_the_output_or_told_by_the_runner_clears_the_risk() -> None:
    original = make_dataset(modality="US")
    assert audit_dataset(simulated_basic_output(original, options=["clean-pixel-data"])) == []
    output = simulated_basic_output(original)
    assert audit_dataset(output, context=AuditContext(pixels_redacted=True)) == []
    context = deid_context(original, options=frozenset({"clean-pixel-data"}))
    assert "burned-in-text-risk" in rules_of(audit_dataset(output, context=context))  # asked, not done
    context.used_options.add("clean-pixel-data")
    assert audit_dataset(output, context=context) == []


def test_burned_in_annotation_yes_is_always_a_finding() -> None:
    output = simulated_basic_output(make_dataset(modality="CT"), options=["clean-pixel-data"])
    output.BurnedInAnnotation = "YES"
    assert [(f.tag, f.rule) for f in audit_dataset(output)] == [("(0028,0301)", "burned-in-annotation")]


def test_a_ct_is_no_burned_in_risk_and_risky_modalities_are_configurable() -> None:
    from gantry_phi_audit import AuditSettings

    output = simulated_basic_output(make_dataset(modality="CT"))
    assert audit_dataset(output) == []
    settings = AuditSettings.from_mapping({"risky_modalities": ["CT"]})
    assert rules_of(audit_dataset(output, context=AuditContext(settings=settings))) == {"burned-in-text-risk"}


def test_safe_private_attributes_stay_under_the_option_and_others_do_not() -> None:
    output = simulated_basic_output(make_dataset(), options=["retain-safe-private"])
    group, creator, element = next(iter(sorted(safe_private_attributes())))
    block = output.private_block(group, creator, create=True)
    block.add_new(element, "DS", "1.5")
    block.add_new(0xFE, "LO", "not on the list")  # assumed unsafe: not in Table E.3.10-1
    assert (group, creator, 0xFE) not in safe_private_attributes()
    findings = audit_dataset(output)
    assert [(f.rule, f.tag) for f in findings] == [("private-tag-present", f"({group:04X},{block.get_tag(0xFE) & 0xFFFF:04X})")]
    # without the option, both are leftovers; with an explicit list, only what it allows stays
    assert len(audit_dataset(output, context=AuditContext(options=frozenset()))) == 2
    allowed = [(group, creator, 0xFE)]
    assert len(audit_dataset(output, allowed_private=allowed)) == 1


def test_the_runner_context_brings_the_originals_names_and_identifiers() -> None:
    original = make_dataset()
    output = simulated_basic_output(original)
    output.ImageComments = "Prior exam of Planted, ref PHIACC0001"  # kept by a careless profile
    context = deid_context(original, options=frozenset({"clean-descriptors"}))
    findings = audit_dataset(output, context=context)
    assert {(f.tag, f.rule) for f in findings} == {("(0020,4000)", "free-text-name"),
                                                     ("(0020,4000)", "identifier-like")}
    assert all(f.sop_instance_uid == original.SOPInstanceUID for f in findings)
    assert "Planted" not in repr(findings) and "PHIACC0001" not in repr(findings)
    # without the originals, nothing in that text looks like an identifier
    assert audit_dataset(output, context=AuditContext(options=frozenset({"clean-descriptors"}))) == []


def test_the_runner_settings_section_is_used() -> None:
    original = make_dataset()
    output = simulated_basic_output(original)
    output.PatientName = "SUBJ-0042"
    context = deid_context(original, settings={"phi-audit": {"dummy_pattern": r"SUBJ-\d+"}})
    assert audit_dataset(output, context=context) == []


def test_declared_options_are_read_from_the_method_code_sequence() -> None:
    from gantry_phi_audit.context import declared_options

    output = simulated_basic_output(make_dataset(), options=["retain-uids", "clean-descriptors"])
    assert declared_options(output) == {"retain-uids", "clean-descriptors"}
    assert declared_options(Dataset()) == frozenset()


def test_a_wrong_context_type_is_refused() -> None:
    import pytest

    with pytest.raises(TypeError, match="AuditContext or a gantry.deid.DeidContext"):
        audit_dataset(make_dataset(), context={"options": []})
