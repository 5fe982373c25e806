"""The output stays a valid instance: what the engine does beyond the rows so that it does.

- an overlay (60xx) or curve (50xx) group goes whole when its data is removed or emptied;
- a Type 1C attribute goes when its condition attribute is removed (tables.CONDITIONAL_PAIRS);
- D on a sequence writes items of the right kind, never an empty item;
- a Content Sequence whose content items are all removed goes, instead of staying empty.
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from gantry_deid import compile_plan
from gantry_deid.tables import CONDITIONAL_PAIRS, table_e1_1

OVERLAY = {0x0010: ("US", 4), 0x0011: ("US", 4), 0x0040: ("CS", "G"), 0x0050: ("SS", [1, 1]),
           0x0100: ("US", 1), 0x0102: ("US", 0), 0x0022: ("LO", "PHIOVERLAYTEXT"), 0x3000: ("OW", b"\xff\x00")}


def add_overlay(ds: Dataset, group: int) -> None:
    for element, (vr, value) in OVERLAY.items():
        ds.add_new((group << 16) | element, vr, value)


def in_group(ds: Dataset, group: int) -> list[int]:
    return [int(tag) for tag in ds.keys() if tag >> 16 == group]


# -- overlay and curve groups ---------------------------------------------------------------------

def test_an_overlay_goes_whole_when_its_data_is_removed(deid_kernel: Any) -> None:
    plan = compile_plan(deid_kernel)
    for tag in (0x60000010, 0x60000050, 0x60001500, 0x60003000, 0x601E0040):
        rule = plan.rule_for(tag)
        assert rule.code == "X" and rule.source == "overlay group", hex(tag)
    assert plan.rule_for(0x60010010).source != "overlay group"  # odd group: private, not an overlay
    assert plan.rule_for(0x60200010).code == "K"  # (6020,....) is not a repeating overlay group
    rows = {row["tag"]: row for row in plan.describe()}
    assert rows["(60xx,xxxx)"]["code"] == "X" and rows["(60xx,xxxx)"]["source"] == "overlay group"


def test_with_clean_graphics_the_overlay_stays_whole(deid_kernel: Any) -> None:
    plan = compile_plan(deid_kernel, options=["clean-graphics"])
    assert plan.rule_for(0x60003000).code == "C"  # zero bytes: the overlay keeps its size
    assert plan.rule_for(0x60000010).code == "K"
    assert "(60xx,xxxx)" not in {row["tag"] for row in plan.describe()}


def test_the_group_rule_follows_each_groups_own_data_rule(deid_kernel: Any) -> None:
    plan = compile_plan(deid_kernel, options=["clean-graphics"], overrides={"(6002,3000)": "Z"})
    assert plan.rule_for(0x60020010).code == "X" and plan.rule_for(0x60020010).source == "overlay group"
    assert plan.rule_for(0x60023000).code == "X"  # an emptied Overlay Data is no overlay either
    assert plan.rule_for(0x60000010).code == "K"
    kept = compile_plan(deid_kernel, overrides={"(60xx,3000)": "K"})
    assert kept.rule_for(0x60000010).code == "K" and kept.rule_for(0x60000022).code == "X"  # its own row


def test_a_curve_goes_whole_when_its_data_is_removed(deid_kernel: Any) -> None:
    assert compile_plan(deid_kernel, options=["clean-graphics"]).rule_for(0x50000005).code == "C"
    plan = compile_plan(deid_kernel, options=["clean-graphics"], overrides={"(50xx,3000)": "X"})
    rule = plan.rule_for(0x50000005)
    assert rule.code == "X" and rule.source == "curve group"


def test_in_the_output_no_overlay_is_left_without_its_data(deidentify: Any, tmp_path: Any) -> None:
    from gantry.testing import make_dataset

    ds = make_dataset()
    add_overlay(ds, 0x6000)
    add_overlay(ds, 0x6002)
    run = deidentify(ds, tmp_path)
    assert in_group(run.dataset, 0x6000) == in_group(run.dataset, 0x6002) == []
    assert b"PHIOVERLAYTEXT" not in run.data
    cleaned = deidentify(ds, tmp_path, ["clean-graphics"], name="graphics.dcm")
    for group in (0x6000, 0x6002):
        assert len(in_group(cleaned.dataset, group)) == len(OVERLAY)
        assert cleaned.dataset[(group << 16) | 0x3000].value == bytes(2)


# -- condition pairs ------------------------------------------------------------------------------

def test_a_1c_attribute_goes_with_its_condition(deid_kernel: Any) -> None:
    rows = {row.value: row for row in table_e1_1().rows if row.is_plain}
    plan = compile_plan(deid_kernel)
    for pair in CONDITIONAL_PAIRS:
        assert pair.dependent != pair.condition
        assert pair.condition in rows or pair.dependent in rows  # pairs Table E.1-1 touches
        assert plan.rule_for(pair.condition).code == "X"
        rule = plan.rule_for(pair.dependent)
        assert rule.code == "X" and rule.source == "condition"
    described = {row["tag"]: row for row in plan.describe()}
    assert described["(0012,0081)"]["source"] == "condition" and described["(0012,0081)"]["table_code"] == "D"
    # An option that keeps the dependent does not keep it without its condition ...
    institution = compile_plan(deid_kernel, options=["retain-institution-identity"])
    assert institution.rule_for(0x00120081).code == "X"
    # ... a site that keeps the condition keeps the pair consistent, and the row decides again.
    kept = compile_plan(deid_kernel, options=["retain-institution-identity"],
                        overrides={"ClinicalTrialProtocolEthicsCommitteeApprovalNumber": "K"})
    assert kept.rule_for(0x00120081).code == "K" and kept.rule_for(0x00120081).source == "option"
    emptied = compile_plan(deid_kernel, overrides={"ResponsiblePerson": "Z"})  # "present with a value"
    assert emptied.rule_for(0x00102298).code == "X"


def test_in_the_output_no_1c_attribute_outlives_its_condition(deidentify: Any, tmp_path: Any) -> None:
    from gantry.testing import make_dataset

    ds = make_dataset()
    ds.ClinicalTrialProtocolEthicsCommitteeName = "PHI ETHICS BOARD"
    ds.ClinicalTrialProtocolEthicsCommitteeApprovalNumber = "PHIAPPROVAL1"
    ds.ResponsiblePerson = "PHIRESPONSIBLE^PERSON"
    ds.ResponsiblePersonRole = "OWNER"
    run = deidentify(ds, tmp_path)
    for keyword in ("ClinicalTrialProtocolEthicsCommitteeName", "ClinicalTrialProtocolEthicsCommitteeApprovalNumber",
                    "ResponsiblePerson", "ResponsiblePersonRole"):
        assert keyword not in run.dataset
    assert b"PHI ETHICS" not in run.data and b"PHIAPPROVAL1" not in run.data


# -- D on sequences -------------------------------------------------------------------------------

def code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def test_d_on_a_sequence_writes_valid_items(deidentify: Any, tmp_path: Any) -> None:
    from gantry.testing import make_dataset

    ds = make_dataset()
    ds.InstitutionCodeSequence = Sequence([code("PHIHOSP7", "99PHI", "PHI General Hospital")])  # X/Z/D -> D
    observer = Dataset()
    observer.VerifyingObserverName = "PHIVERIFIER^JANE"
    observer.VerifyingOrganization = "PHI Verifying Org"
    observer.VerificationDateTime = "20240101120000"
    observer.VerifyingObserverIdentificationCodeSequence = Sequence([code("PHIID42", "99PHI", "PHI person")])
    ds.VerifyingObserverSequence = Sequence([observer])
    run = deidentify(ds, tmp_path)
    (institution,) = run.dataset.InstitutionCodeSequence  # a dummy code, in a local scheme
    assert (institution.CodeValue, institution.CodingSchemeDesignator) == ("ANONYMOUS", "99GANTRY")
    (verifier,) = run.dataset.VerifyingObserverSequence  # the item stays, each attribute by its row
    assert str(verifier.VerifyingObserverName) == "ANONYMOUS"  # D
    assert verifier.VerifyingOrganization == "ANONYMOUS"  # D
    assert verifier.VerificationDateTime and verifier.VerificationDateTime != "20240101120000"  # D
    assert len(verifier.VerifyingObserverIdentificationCodeSequence) == 0  # Z
    for leak in (b"PHIHOSP7", b"PHI General", b"PHIVERIFIER", b"PHI Verifying", b"PHIID42", b"20240101120000"):
        assert leak not in run.data


# -- content items --------------------------------------------------------------------------------

def content_item(value_type: str, scheme: str, value: str, meaning: str, **values: Any) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", value_type
    item.ConceptNameCodeSequence = Sequence([code(value, scheme, meaning)])
    for keyword, text in values.items():
        setattr(item, keyword, text)
    return item


def removed_concept() -> Any:
    return next(row for row in table_e1_1().content_items if row.value_type == "TEXT" and row.basic == "X"
                and not row.options)


def test_a_content_sequence_left_without_items_goes(deidentify: Any, tmp_path: Any) -> None:
    from gantry.testing import make_dataset

    removed = removed_concept()
    ds = make_dataset()
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    container = content_item("CONTAINER", "99LOCAL", "C1", "Local section", ContinuityOfContent="SEPARATE")
    container.ContentSequence = Sequence([
        content_item("TEXT", removed.scheme, removed.code_value, removed.meaning, TextValue="PHISECTIONTEXT")])
    kept = content_item("TEXT", "99LOCAL", "T1", "Local text", TextValue="no change")
    ds.ContentSequence = Sequence([container, kept])
    run = deidentify(ds, tmp_path, ["clean-structured-content"])
    section, text = run.dataset.ContentSequence
    assert section.ValueType == "CONTAINER" and "ContentSequence" not in section  # a leaf now, not empty
    assert (text.RelationshipType, text.ValueType, text.TextValue) == ("CONTAINS", "TEXT", "no change")
    assert b"PHISECTIONTEXT" not in run.data
    ds.ContentSequence = Sequence([ds.ContentSequence[0].ContentSequence[0]])  # only removed items
    run = deidentify(ds, tmp_path, ["clean-structured-content"], name="all-removed.dcm")
    assert "ContentSequence" not in run.dataset
