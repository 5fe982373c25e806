"""A de-identified output raises no finding: dummies, empty values, 2.25 UIDs and Gantry's
marking are not identifiers. Precision matters: every finding lowers a run's grade."""

from __future__ import annotations

from typing import Any

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from gantry.testing.datasets import make_dataset
from gantry_phi_audit import RULES, audit_dataset
from gantry_phi_audit.testing import remapped_uid, simulated_basic_output

ALL_RULES = sorted(RULES)


@pytest.mark.parametrize("source", ["make_dataset", "CT_small.dcm", "MR_small.dcm", "rtplan.dcm"])
def test_a_basic_profile_output_has_no_finding_even_with_every_rule(source: str) -> None:
    original = make_dataset() if source == "make_dataset" else pydicom.dcmread(get_testdata_file(source))
    assert audit_dataset(original)  # the original has identifiers
    assert audit_dataset(simulated_basic_output(original), rules=ALL_RULES) == []


def test_the_clean_ct_keeps_its_tiff_dual_header_preamble_without_finding(clean_ct: Any) -> None:
    clean_ct.preamble = b"II*\x00T\x18\x08\x00".ljust(128, b"\x00")
    assert audit_dataset(clean_ct, rules=ALL_RULES) == []


def test_dummy_values_of_every_shape_are_not_findings(clean_ct: Any) -> None:
    ds = clean_ct
    ds.PatientName = "ANONYMOUS^^"
    ds.ReferringPhysicianName = ""
    ds.PatientID = "ANONYMIZED"
    ds.PatientBirthDate = "19000101"
    ds.StudyDate = ""
    ds.StudyTime = "000000.000000"
    ds.AcquisitionDateTime = "19000101000000.000000+0000"
    ds.PatientAge = "000Y"
    ds.PatientWeight = "0.0"
    ds.InstitutionName = "REMOVED"
    ds.OperatorsName = ["ANONYMOUS", ""]
    ds.ContentCreatorName = "ANONYMOUS=ANONYMOUS"
    ds.ImageComments = ""
    ds.FrameOfReferenceUID = remapped_uid("1.2.3.4")
    ds.add_new(0x00720071, "UR", "urn:anonymous")  # Selector UR Value (D)
    ds.add_new(0x00160070, "OB", b"\x00\x00")  # GPS Version ID (X), blanked rather than removed
    ds.add_new(0x60000010, "US", 16)
    ds.add_new(0x60003000, "OW", bytes(32))  # a blanked overlay plane
    assert audit_dataset(ds, rules=ALL_RULES) == []


def test_gantry_marking_attributes_are_not_findings(clean_ct: Any) -> None:
    clean_ct.DeidentificationMethod = "Gantry 0.1 Basic Profile 2026c, run 20240315 job 123456"
    clean_ct.PatientIdentityRemoved = "YES"
    clean_ct.LongitudinalTemporalInformationModified = "MODIFIED"
    assert audit_dataset(clean_ct, rules=ALL_RULES) == []


def test_coded_and_technical_text_is_not_free_text(clean_ct: Any) -> None:
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "121322", "DCM", "Source image"
    code.CodingSchemeVersion = "20240315"
    clean_ct.DerivationCodeSequence = [code]
    clean_ct.SoftwareVersions = ["VE11C 20160126", "1.2.24"]
    clean_ct.ImageType = ["DERIVED", "SECONDARY"]
    assert audit_dataset(clean_ct) == []


@pytest.mark.parametrize("text", [
    "CHEST^ROUTINE", "Head^Sinus", "Thorax^01_ThoraxRoutine (Adult)", "kVp 120 mAs 250.5",
    "slice 1.25 mm, 0.000123456 s", "Version 1.2.24", "Lung 3.5.1 build 2", "ANONYMOUS^ANONYMOUS",
    "WW 400 WL 40", "3 x 5.0 mm", "e+1", "Phase 10%-90%", "TZ -0500",
])
def test_ordinary_descriptions_are_not_findings(clean_ct: Any, text: str) -> None:
    clean_ct.SeriesDescription = text  # kept cleaned under the Clean Descriptors Option
    context = _options("clean-descriptors")
    assert audit_dataset(clean_ct, context=context) == []


def test_kept_attributes_under_an_option_are_not_findings() -> None:
    original = make_dataset(modality="CT")
    original.DeviceSerialNumber = "SN-4471239"
    output = simulated_basic_output(original, options=["retain-device-identity", "retain-long-full-dates",
                                                       "retain-institution-identity"])
    assert output.StudyDate == "20240315" and output.DeviceSerialNumber == "SN-4471239"
    assert audit_dataset(output) == []  # the options come from the output's own marking
    # the same values without the options declared are leftovers
    del output.DeidentificationMethodCodeSequence
    rules = {(finding.tag, finding.rule) for finding in audit_dataset(output)}
    assert {("(0008,0020)", "patient-identifier-attribute"),
            ("(0018,1000)", "patient-identifier-attribute"),
            ("(0018,1000)", "identifier-like"),
            ("(0008,0080)", "patient-identifier-attribute")} <= rules


def test_a_site_pseudonym_pattern_and_extra_dummies_are_not_findings(clean_ct: Any) -> None:
    from gantry_phi_audit import AuditContext, AuditSettings

    clean_ct.PatientName = "SUBJ-0042"
    clean_ct.PatientID = "SUBJ-0042"
    clean_ct.StationName = "STATION"
    assert {"person-name", "patient-identifier-attribute"} <= {f.rule for f in audit_dataset(clean_ct)}
    settings = AuditSettings.from_mapping({"dummy_pattern": r"SUBJ-\d{4}", "extra_dummy_values": ["station"]})
    assert audit_dataset(clean_ct, context=AuditContext(settings=settings)) == []


def _options(*names: str) -> Any:
    from gantry_phi_audit import AuditContext

    return AuditContext(options=frozenset(names))
