"""Clean Structured Content: content items handled by their concept (Table E.3.4-1)."""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from gantry_deid.tables import table_e1_1


def concept(value_type: str, basic: str) -> Any:
    return next(row for row in table_e1_1().content_items
                if row.value_type == value_type and row.basic == basic)


def content_item(row: Any, **values: Any) -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = row.value_type if hasattr(row, "value_type") else row
    name = Dataset()
    name.CodeValue, name.CodingSchemeDesignator = (row.code_value, row.scheme) if hasattr(row, "code_value") \
        else ("1234", "99LOCAL")
    name.CodeMeaning = getattr(row, "meaning", "Local concept")
    item.ConceptNameCodeSequence = Sequence([name])
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def structured_report(make_dataset: Any) -> tuple[Dataset, dict[str, Any]]:
    ds = make_dataset()
    ds.PatientName = "DOE^JANE"
    removed, dummy, person = concept("TEXT", "X"), concept("TEXT", "D"), concept("PNAME", "D")
    reference = Dataset()
    reference.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    reference.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.10.1432.66.1"
    image = concept("IMAGE", "D")
    items = [
        content_item(removed, TextValue="PHIREMOVEDTEXT"),
        content_item(dummy, TextValue="PHIDUMMYTEXT"),
        content_item(person, PersonName="PHIPERSON^NAME"),
        content_item(image, ReferencedSOPSequence=Sequence([reference])),
        content_item("TEXT", TextValue="Findings for Jane Doe: no change"),
    ]
    ds.ContentSequence = Sequence(items)
    return ds, {"removed": removed, "dummy": dummy, "person": person, "image": image}


def test_content_items_follow_table_e3_4_1(deidentify: Any, tmp_path: Any) -> None:
    from gantry.testing import make_dataset

    ds, rows = structured_report(make_dataset)
    run = deidentify(ds, tmp_path, ["clean-structured-content"])
    items = run.dataset.ContentSequence
    meanings = [item.ConceptNameCodeSequence[0].CodeMeaning for item in items]
    assert rows["removed"].meaning not in meanings  # X: the whole content item is gone
    by_meaning = {item.ConceptNameCodeSequence[0].CodeMeaning: item for item in items}
    assert by_meaning[rows["dummy"].meaning].TextValue == "ANONYMOUS"
    assert str(by_meaning[rows["person"].meaning].PersonName) == "ANONYMOUS"
    reference = by_meaning[rows["image"].meaning].ReferencedSOPSequence[0]
    assert reference.ReferencedSOPInstanceUID == run.context.uid_pairs["1.2.826.0.1.3680043.10.1432.66.1"]
    assert by_meaning["Local concept"].TextValue == "Findings for XXX XXX: no change"  # each name part
    for leak in (b"PHIREMOVEDTEXT", b"PHIDUMMYTEXT", b"PHIPERSON", b"Jane", b"1432.66.1"):
        assert leak not in run.data
    assert "clean-structured-content" in run.context.used_options


def test_without_the_option_the_content_is_a_dummy(deidentify: Any, tmp_path: Any) -> None:
    from gantry.testing import make_dataset

    ds, _rows = structured_report(make_dataset)
    run = deidentify(ds, tmp_path)
    (item,) = run.dataset.ContentSequence  # D: one dummy content item, structurally whole
    assert (item.RelationshipType, item.ValueType, item.TextValue) == ("CONTAINS", "TEXT", "ANONYMOUS")
    concept = item.ConceptNameCodeSequence[0]
    assert (concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning) == ("121106", "DCM", "Comment")
    for leak in (b"Findings", b"PHIREMOVEDTEXT", b"PHIDUMMYTEXT", b"PHIPERSON", b"1432.66.1"):
        assert leak not in run.data
    assert not run.context.uid_pairs.keys() & {"1.2.826.0.1.3680043.10.1432.66.1"}  # never even read
