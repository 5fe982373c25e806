"""Private attributes: removed; with retain-safe-private, Table E.3.10-1's are kept with their creator."""

from __future__ import annotations

from typing import Any

import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian

PHILIPS = "Philips PET Private Group"  # Table E.3.10-1: (7053,xx00) and (7053,xx09) are safe


def with_private_blocks(make_dataset: Any) -> Dataset:
    ds = make_dataset()
    # Block 0x12 on purpose: the safe list is by creator and offset, whatever block a file uses.
    ds.add_new(0x70530012, "LO", PHILIPS)
    ds.add_new(0x70531200, "DS", "1.2345")         # (7053,xx00) SUV factor: listed
    ds.add_new(0x70531209, "DS", "2.5")            # (7053,xx09): listed
    ds.add_new(0x70531201, "LO", "PHIPRIVUNLISTED")  # (7053,xx01): not listed
    ds.add_new(0x70530013, "LO", "SOME VENDOR")
    ds.add_new(0x70531300, "DS", "9.75")           # same offset as a listed one, another creator
    ds.add_new(0x00290010, "LO", "PHICREATOR")
    ds.add_new(0x00291000, "LO", "PHIPRIVATENAME")  # a private block with nothing safe
    item = Dataset()
    item.add_new(0x70530010, "LO", PHILIPS)
    item.add_new(0x70531000, "DS", "3.5")          # listed, inside a sequence item
    item.add_new(0x70531001, "LO", "PHINESTEDPRIV")
    item.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.10.1432.55.1"
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.ReferencedImageSequence = Sequence([item])
    characteristics = Dataset()
    characteristics.PrivateGroupReference = 0x7053
    characteristics.PrivateCreatorReference = PHILIPS
    characteristics.BlockIdentifyingInformationStatus = "SAFE"
    ds.PrivateDataElementCharacteristicsSequence = Sequence([characteristics])
    return ds


@pytest.fixture
def private_dataset() -> Dataset:
    from gantry.testing import make_dataset

    return with_private_blocks(make_dataset)


def test_private_attributes_are_removed_by_the_basic_profile(private_dataset: Dataset, deidentify: Any,
                                                             tmp_path: Any) -> None:
    run = deidentify(private_dataset, tmp_path)
    assert not [element.tag for element in run.dataset.iterall() if element.tag.is_private]
    for text in (b"PHIPRIVUNLISTED", b"PHICREATOR", b"PHIPRIVATENAME", b"PHINESTEDPRIV", PHILIPS.encode()):
        assert text not in run.data
    assert "PrivateDataElementCharacteristicsSequence" not in run.dataset
    assert "retain-safe-private" not in run.context.used_options


@pytest.mark.parametrize("syntax", [None, ImplicitVRLittleEndian], ids=["explicit", "implicit"])
def test_retain_safe_private_keeps_listed_elements_with_their_creator(private_dataset: Dataset, deidentify: Any,
                                                                      tmp_path: Any, syntax: Any) -> None:
    if syntax is not None:
        private_dataset.file_meta.TransferSyntaxUID = syntax
    run = deidentify(private_dataset, tmp_path, ["retain-safe-private", "retain-uids"])
    out = run.dataset
    kept = {int(element.tag) for element in out if element.tag.is_private}
    assert kept == {0x70530012, 0x70531200, 0x70531209}
    assert out[0x70530012].value == PHILIPS
    assert out[0x70531200].value in ("1.2345", b"1.2345")  # implicit VR: UN, bytes
    for text in (b"PHIPRIVUNLISTED", b"SOME VENDOR", b"9.75", b"PHICREATOR", b"PHIPRIVATENAME", b"PHINESTEDPRIV"):
        assert text not in run.data, text
    item = out.ReferencedImageSequence[0]
    assert {int(element.tag) for element in item if element.tag.is_private} == {0x70530010, 0x70531000}
    assert out.PrivateDataElementCharacteristicsSequence[0].PrivateCreatorReference == PHILIPS
    assert "retain-safe-private" in run.context.used_options


def test_an_unlisted_private_sequence_is_cleaned_item_by_item(deidentify: Any, tmp_path: Any) -> None:
    from gantry.testing import make_dataset

    ds = make_dataset()
    inner = Dataset()
    inner.add_new(0x70530010, "LO", PHILIPS)
    inner.add_new(0x70531000, "DS", "4.5")        # safe: kept
    inner.add_new(0x70531001, "LO", "PHIINSIDE")  # not listed: removed
    inner.PatientName = "PHIINNER^NAME"           # a standard attribute: its own rule (Z)
    ds.add_new(0x00190010, "LO", "ACME SEQUENCES")
    ds[0x00191000] = DataElement(0x00191000, "SQ", Sequence([inner]))
    ds.add_new(0x00191001, "SQ", Sequence([Dataset()]))  # nothing survives: removed with its block
    run = deidentify(ds, tmp_path, ["retain-safe-private"])
    out = run.dataset
    assert 0x00191000 in out and 0x00190010 in out  # the sequence survives, so does its creator
    item = out[0x00191000].value[0]
    assert item[0x70531000].value == "4.5" and 0x70531001 not in item
    assert item.PatientName == ""
    assert 0x00191001 not in out
    assert b"PHIINSIDE" not in run.data and b"PHIINNER" not in run.data


def test_ct_small_keeps_ge_safe_attributes(deidentify: Any, ct_small: str, tmp_path: Any) -> None:
    run = deidentify(ct_small, tmp_path, ["retain-safe-private"])
    private = {int(element.tag) for element in run.dataset if element.tag.is_private}
    # GEMS_ACQU_01 (0019,xx23) Table Speed, (0019,xx24) Mid Scan Time, (0019,xx27) Rotation Speed
    assert {0x00190010, 0x00191023, 0x00191024, 0x00191027} <= private
    assert 0x00090010 not in private  # GEMS_IDEN_01: nothing of it is listed
