"""End to end with gantry-deid's engine: the Basic Profile plus ``encrypt-originals`` over the
kernel's planted-PHI corpus; the output hides every planted value, the key brings each back."""

from __future__ import annotations

import re
from pathlib import Path

import pydicom

from gantry.testing.datasets import PLANTED_PHI, make_dataset
from gantry.testing.phi_corpus import write_phi_corpus
from gantry_deid import encode_part10
from gantry_deid.tables import table_e1_1
from gantry_pseudonym import recover_dataset

#: What de-identification adds and recovery does not take back (it says what was done).
MARKS = {0x00120062, 0x00120063, 0x00120064, 0x00280303}


def test_the_output_carries_the_sequence_and_no_planted_value(pseudonymise, site_key):
    out, context = pseudonymise(make_dataset(), site_key)
    assert "EncryptedAttributesSequence" in out and context.originals
    data = encode_part10(out)
    for value in PLANTED_PHI.values():
        assert value.encode() not in data


def test_recovery_restores_identity_dates_and_uids_exactly(pseudonymise, site_key):
    source = make_dataset()
    out, _ = pseudonymise(source, site_key)
    written = pydicom.dcmread(pydicom.filebase.DicomBytesIO(encode_part10(out)))
    restored = recover_dataset(written, site_key.certificate, site_key.private_key)
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "StudyDate", "StudyTime", "AccessionNumber",
                    "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"):
        assert restored[keyword].value == source[keyword].value, keyword
        assert written[keyword].value != source[keyword].value, keyword
    assert restored.file_meta.MediaStorageSOPInstanceUID == source.SOPInstanceUID
    assert restored.PatientIdentityRemoved == "NO" and "EncryptedAttributesSequence" not in restored


def test_the_whole_corpus_comes_back_element_for_element(pseudonymise, site_key, tmp_path: Path):
    corpus = write_phi_corpus(tmp_path / "in", table_tags=[row.tag_text for row in table_e1_1().rows])
    written = b""
    for path in corpus.files:
        source = pydicom.dcmread(path)
        out, _ = pseudonymise(source, site_key)
        data = encode_part10(out)
        written += data
        restored = recover_dataset(pydicom.dcmread(pydicom.filebase.DicomBytesIO(data)),
                                   site_key.certificate, site_key.private_key)
        original = pydicom.dcmread(path)
        for element in original:
            if element.tag not in MARKS:
                assert restored[element.tag].value == element.value, (path, element.tag)
        assert set(restored.keys()) - set(original.keys()) <= MARKS
    text_tokens = [token for token in corpus.tokens if re.search("[A-Za-z]", token)]
    assert len(text_tokens) > 500
    assert not [token for token in text_tokens if token.encode() in written]
