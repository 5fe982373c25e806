"""The actions on their own: dummies per VR, Z, and C's rules per VR."""

from __future__ import annotations

from typing import Any

import pytest
from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.valuerep import validate_value

from gantry import DeidError
from gantry.deid import DeidContext
from gantry_deid.actions import clean, dummy, empty, remove
from gantry_deid.clean import gather_identifying_values

TEXT = {"AE": "STATION1", "AS": "042Y", "CS": "ABC", "DA": "20240101", "DS": "1.5", "DT": "20240101120000",
        "IS": "7", "LO": "long", "LT": "text", "PN": "DOE^JANE", "SH": "short", "ST": "text", "TM": "120000",
        "UC": "unlimited", "UR": "http://example.org/", "UT": "text"}


def context(*values: str) -> DeidContext:
    return DeidContext(sop_instance_uid="1.2.3", patient_key="ID^", secret=b"s", identifying_values=values)


def element(vr: str, value: Any) -> tuple[Dataset, DataElement]:
    ds = Dataset()
    ds.add_new(0x00291010 if vr == "UN" else 0x00091010, vr, value)
    return ds, ds[0x00091010] if vr != "UN" else ds[0x00291010]


@pytest.mark.parametrize("vr", sorted(TEXT))
def test_dummy_text_values_are_valid_for_their_vr(vr: str) -> None:
    _ds, item = element(vr, TEXT[vr])
    dummy(_ds, item, context())
    assert str(item.value) and str(item.value) != TEXT[vr]
    validate_value(vr, str(item.value), config.RAISE)


@pytest.mark.parametrize(("vr", "value", "expected"), [
    ("US", 7, 0), ("SS", -7, 0), ("UL", 7, 0), ("FL", 1.5, 0.0), ("FD", 1.5, 0.0), ("AT", 0x00100010, 0),
    ("OB", b"ABCDEF", bytes(6)), ("OW", b"ABCD", bytes(4)), ("UN", b"ABC", bytes(4)), ("OF", b"", bytes(4)),
])
def test_dummy_numbers_and_bytes(vr: str, value: Any, expected: Any) -> None:
    ds, item = element(vr, value)
    dummy(ds, item, context())
    assert item.value == expected


def test_dummy_on_a_sequence_follows_what_its_items_are_and_on_a_uid_is_an_error() -> None:
    ds = Dataset()
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "JFK01", "99HOSP", "JFK Imaging Center"
    ds.InstitutionCodeSequence = [code]
    dummy(ds, ds["InstitutionCodeSequence"], context())
    (item,) = ds.InstitutionCodeSequence  # one dummy code, nothing of the original
    assert (item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning) == ("ANONYMOUS", "99GANTRY", "ANONYMOUS")
    text = Dataset()
    text.RelationshipType, text.ValueType, text.TextValue = "CONTAINS", "TEXT", "Jane Doe"
    text.ConceptNameCodeSequence = [code]
    ds.ContentSequence = [text, text]
    dummy(ds, ds["ContentSequence"], context())
    (item,) = ds.ContentSequence  # one dummy content item, structurally whole
    assert (item.RelationshipType, item.ValueType, item.TextValue) == ("CONTAINS", "TEXT", "ANONYMOUS")
    assert item.ConceptNameCodeSequence[0].CodeValue == "121106"
    # Other items stay: the engine has cleaned them with the plan before D runs.
    reference = Dataset()
    reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = "1.2.840.10008.3.1.2.3.3", "2.25.1"
    ds.ReferencedPerformedProcedureStepSequence = [reference]
    dummy(ds, ds["ReferencedPerformedProcedureStepSequence"], context())
    assert list(ds.ReferencedPerformedProcedureStepSequence) == [reference]
    ds.ReferencedStudySequence = []
    dummy(ds, ds["ReferencedStudySequence"], context())
    assert len(ds.ReferencedStudySequence) == 0  # nothing to make a valid item from
    ds.StudyInstanceUID = "1.2.3"
    with pytest.raises(DeidError, match="U"):
        dummy(ds, ds["StudyInstanceUID"], context())


def test_empty_and_remove() -> None:
    ds = Dataset()
    ds.PatientName, ds.PatientWeight = "DOE", "70"
    ds.ReferencedStudySequence = [Dataset()]
    for keyword in ("PatientName", "PatientWeight", "ReferencedStudySequence"):
        empty(ds, ds[keyword], context())
        assert ds[keyword].is_empty
    remove(ds, ds["PatientName"], context())
    assert "PatientName" not in ds


@pytest.mark.parametrize(("vr", "value", "expected"), [
    ("LO", "CT chest Doe Jane", "CT chest XXX"),  # the whole name, then its parts
    ("LO", "Jane came; Doe left", "XXX came; XXX left"),
    ("SH", "Jane", "ANONYMOUS"),                       # nothing useful left
    ("LO", "Doe-Jane head", "XXX-XXX head"),
    ("LO", "Janet Doering", "Janet Doering"),          # whole words only
    ("ST", "seen 1961-07-04 at St. Elsewhere Clinic", "seen XXX at St. XXX"),
    ("CS", "JANE", "ANONYMOUS"),
    ("SH", "DOE ABCDEFGHIJKL", "XXX ABCDEFGHIJKL"),
    pytest.param("SH", "ID-4711 abcdefghijklmn", "XXX abcdefghijkl",  # too long already: cut to 16
                 marks=pytest.mark.filterwarnings("ignore:The value length")),
    ("PN", "Somebody^Else", "ANONYMOUS"),              # a name is never cleaned into a name
    ("DS", "12.5", "12.5"), ("IS", "12", "12"), ("AS", "042Y", "042Y"),
    ("US", 12, 12),
    ("OB", b"DOE", bytes(4)),
])
def test_clean_per_vr(vr: str, value: Any, expected: Any) -> None:
    ds, item = element(vr, value)
    clean(ds, item, context("DOE^JANE", "19610704", "Elsewhere Clinic", "ID-4711"))
    assert (str(item.value) if vr == "PN" else item.value) == expected


def test_clean_refuses_dates_and_uids_the_engine_must_route() -> None:
    for vr, value in (("DA", "20240101"), ("UI", "1.2.3")):
        ds, item = element(vr, value)
        with pytest.raises(DeidError, match="route"):
            clean(ds, item, context())


def test_identifying_values_are_gathered_without_decoding_the_input(ct_small: str) -> None:
    import pydicom
    from pydicom.dataelem import RawDataElement

    ds = pydicom.dcmread(ct_small)
    raw = sum(type(e) is RawDataElement for e in ds._dict.values())
    values = gather_identifying_values(ds)
    assert {"CompressedSamples^CT1", "1CT1", "JFK IMAGING CENTER", "CT01_OC0", "ABCD1234", "1234ABCD"} <= set(values)
    assert sum(type(e) is RawDataElement for e in ds._dict.values()) == raw
