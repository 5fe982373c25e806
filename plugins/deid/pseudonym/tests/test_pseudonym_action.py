"""The step on its own: what goes into Encrypted Attributes Sequence, and who can read it."""

from __future__ import annotations

import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from gantry.deid import DeidContext
from gantry_pseudonym.action import apply
from gantry_pseudonym.attributes import decrypt_original_attributes
from gantry_pseudonym.envelope import der_value
from gantry_pseudonym.errors import PseudonymError

NAME = "DOE^JANE^Q"


def _deidentified_with_originals(key) -> tuple[Dataset, DeidContext]:
    dataset = Dataset()
    dataset.SpecificCharacterSet = "ISO_IR 100"
    dataset.PatientName = "ANONYMOUS"
    originals = [DataElement(0x00100010, "PN", NAME), DataElement(0x00100020, "LO", "MRN-7781"),
                 DataElement(0x00100030, "DA", "19560412"),
                 DataElement(0x00081110, "SQ", Sequence([_item("1.2.3.4.5")]))]
    context = DeidContext(sop_instance_uid="1.2.3", patient_key="MRN-7781", secret=b"s",
                          settings={"pseudonym": key.settings}, originals=originals)
    apply(dataset, None, context)
    return dataset, context


def _item(uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPInstanceUID = uid
    return item


def test_the_originals_go_into_one_encrypted_item(site_key):
    dataset, context = _deidentified_with_originals(site_key)
    (item,) = dataset.EncryptedAttributesSequence
    assert item.EncryptedContentTransferSyntaxUID == ExplicitVRLittleEndian
    assert b"DOE" not in bytes(item.EncryptedContent) and b"MRN-7781" not in bytes(item.EncryptedContent)
    assert context.notes


def test_the_key_opens_it_to_the_original_elements(site_key):
    dataset, _ = _deidentified_with_originals(site_key)
    originals = decrypt_original_attributes(dataset, site_key.certificate, site_key.private_key)
    assert originals.PatientName == NAME and originals.PatientID == "MRN-7781"
    assert originals.PatientBirthDate == "19560412"
    assert originals.ReferencedStudySequence[0].ReferencedSOPInstanceUID == "1.2.3.4.5"
    assert originals.SpecificCharacterSet == "ISO_IR 100"  # the text's character set travels with it
    assert dataset.PatientName == "ANONYMOUS"  # the de-identified value is left alone


def test_another_key_opens_nothing_and_says_why(site_key, other_key):
    dataset, _ = _deidentified_with_originals(site_key)
    with pytest.raises(PseudonymError, match="encrypted for another key"):
        decrypt_original_attributes(dataset, other_key.certificate, other_key.private_key)


def test_a_key_and_a_certificate_that_do_not_match_are_refused(site_key, other_key):
    dataset, _ = _deidentified_with_originals(site_key)
    with pytest.raises(PseudonymError, match="does not belong to the private key"):
        decrypt_original_attributes(dataset, site_key.certificate, other_key.private_key)


def test_nothing_replaced_means_no_item(site_key):
    dataset = Dataset()
    apply(dataset, None, DeidContext(sop_instance_uid="1", patient_key="", secret=b"s",
                                     settings={"pseudonym": site_key.settings}))
    assert "EncryptedAttributesSequence" not in dataset


def test_an_item_for_another_recipient_stays_and_ours_is_found_after_it(site_key, other_key):
    dataset, _ = _deidentified_with_originals(other_key)
    context = DeidContext(sop_instance_uid="1", patient_key="", secret=b"s", settings={"pseudonym": site_key.settings},
                          originals=[DataElement(0x00100010, "PN", "SMITH^JOHN")])
    apply(dataset, None, context)
    assert len(dataset.EncryptedAttributesSequence) == 2
    assert decrypt_original_attributes(dataset, site_key.certificate, site_key.private_key).PatientName == "SMITH^JOHN"


def test_a_padded_envelope_is_read_without_its_padding_byte():
    # OB values are even: an odd-length DER envelope is stored with a trailing zero.
    assert der_value(b"\x30\x03abc\x00") == b"\x30\x03abc"
    assert der_value(b"\x30\x81\x02ab\x00") == b"\x30\x81\x02ab"
    with pytest.raises(PseudonymError, match="cut short"):
        der_value(b"\x30\x05ab")


def test_a_file_without_the_sequence_has_nothing_to_recover(site_key):
    with pytest.raises(PseudonymError, match="no Encrypted Attributes Sequence"):
        decrypt_original_attributes(Dataset(), site_key.certificate, site_key.private_key)
