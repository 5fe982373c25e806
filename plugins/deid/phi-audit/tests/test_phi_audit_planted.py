"""Every planted identifier is found, by the right rule, at the right tag path, and no finding
carries the value it found."""

from __future__ import annotations

from typing import Any

from gantry.storage import Finding
from gantry.testing.datasets import PLANTED_PHI
from gantry_phi_audit import audit_dataset


def places(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(finding.tag, finding.rule) for finding in findings}


def assert_no_value_in(findings: list[Finding], values: list[str]) -> None:
    text = repr(findings)
    leaked = [value for value in values if value in text or value.upper() in text.upper()]
    assert leaked == []


def test_every_planted_value_is_found_where_it_was_planted(planted: Any) -> None:
    findings = audit_dataset(planted.dataset)
    missing = [plant for plant in planted.plants if (plant.path, plant.rule) not in places(findings)]
    assert missing == []


def test_make_dataset_phi_is_found_at_the_top_level(planted: Any) -> None:
    findings = places(audit_dataset(planted.dataset))
    keyword_tags = {"PatientName": "(0010,0010)", "PatientID": "(0010,0020)",
                    "PatientBirthDate": "(0010,0030)", "PatientAddress": "(0010,1040)",
                    "OtherPatientIDs": "(0010,1000)", "AccessionNumber": "(0008,0050)",
                    "ReferringPhysicianName": "(0008,0090)", "InstitutionName": "(0008,0080)",
                    "StationName": "(0008,1010)"}
    assert set(keyword_tags) == set(PLANTED_PHI)
    for tag in keyword_tags.values():
        assert (tag, "patient-identifier-attribute") in findings
    assert ("(0010,0010)", "person-name") in findings
    assert ("(0008,0090)", "person-name") in findings
    assert ("(0010,0020)", "identifier-like") in findings  # PHI-PID-000417: six digits


def test_no_finding_carries_a_planted_value(planted: Any) -> None:
    findings = audit_dataset(planted.dataset)
    assert findings
    assert_no_value_in(findings, planted.values + list(PLANTED_PHI.values()))
    for finding in findings:
        assert finding.sop_instance_uid == planted.dataset.SOPInstanceUID
        assert finding.note  # says what kind of value, without it


def test_the_preamble_is_audited_from_the_bytes_of_a_file(planted: Any, to_part10: Any) -> None:
    data = to_part10(planted.dataset, preamble=b"PATIENT KOWALSKI ANNA")
    findings = audit_dataset(data)
    assert ("preamble", "preamble-not-blank") in places(findings)
    assert_no_value_in(findings, ["KOWALSKI", "ANNA"])
    # the same file read by pydicom: its FileDataset keeps the preamble
    import pydicom
    from io import BytesIO

    assert ("preamble", "preamble-not-blank") in places(audit_dataset(pydicom.dcmread(BytesIO(data))))


def test_a_zero_or_tiff_preamble_is_no_finding(planted: Any, to_part10: Any) -> None:
    for preamble in (b"", b"II*\x00\x08\x00\x00\x00", b"MM\x00*\x00\x00\x00\x08"):
        findings = audit_dataset(to_part10(planted.dataset, preamble=preamble))
        assert "preamble-not-blank" not in {finding.rule for finding in findings}


def test_each_element_is_reported_once_per_rule(planted: Any) -> None:
    findings = audit_dataset(planted.dataset)
    keys = [(finding.tag, finding.rule) for finding in findings]
    assert len(keys) == len(set(keys))


def test_rules_can_be_chosen(planted: Any) -> None:
    findings = audit_dataset(planted.dataset, rules=["person-name"])
    assert {finding.rule for finding in findings} == {"person-name"}
    assert "(0008,1115)[0]>(0008,114A)[0]>(0008,2218)[0]>(0008,1070)" in {f.tag for f in findings}


def test_an_unknown_rule_is_refused_with_the_known_ones(planted: Any) -> None:
    import pytest

    from gantry import ConfigError

    with pytest.raises(ConfigError, match="no-such-rule; known: burned-in-annotation, "):
        audit_dataset(planted.dataset, rules=["no-such-rule"])


def test_uids_not_remapped_only_when_asked(planted: Any) -> None:
    assert "uid-not-remapped" not in {finding.rule for finding in audit_dataset(planted.dataset)}
    findings = audit_dataset(planted.dataset, rules=["uid-not-remapped"])
    tags = {finding.tag for finding in findings}
    assert {"(0008,0018)", "(0020,000D)", "(0002,0003)",
            "(0008,1115)[0]>(0008,114A)[0]>(0008,1155)"} <= tags
    assert "(0008,0016)" not in tags  # SOP Class UID: well known
    assert "(0002,0010)" not in tags and "(0002,0012)" not in tags  # syntax, implementation
