"""A corpus with identifiers planted wherever real scanners put them, to prove de-identification.

    corpus = write_phi_corpus(folder, table_tags=["(0010,0010)", "(0008,0050)", "(60xx,4000)", ...])
    for token in corpus.tokens:            # every planted text value, unique and greppable
        assert token.encode() not in output_bytes

What is planted, per patient (two patients, so per-patient consistency can be checked):

* a CT series of three images in which **every attribute of the given table** (PS3.15 Table
  E.1-1 tags; ``xx`` masks instantiated with ``00``) that pydicom's dictionary knows holds a
  unique value valid for its VR — at the top level and again **three levels deep** inside
  sequences the table does not list (so a de-identifier must walk into them); the attributes
  of :data:`PER_PATIENT` (patient identity, study date and time, frame of reference) hold one
  value per patient across all of that patient's files, so that consistency can be checked;
* **private tags** (a private creator in group 0009 and in group 0019, names and IDs in them);
* **overlays and curves** (group 6000 description and label, 5000 label) with identifiers;
* the **File Meta** (Source AE Title, Private Information) and the **128-byte preamble**;
* an **SR document** whose text, name, date and UID content items carry identifiers;
* an **ultrasound image with text burned into its pixels**: a zone of bright "text" strokes at
  a known place, Burned In Annotation YES, and a machine (Manufacturer, Model, serial) to match.

Text values carry a token (``PHI`` + number) so that a byte search finds any survivor; dates,
times and numbers are unique values recorded in ``tokens`` as well.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from gantry.testing.datasets import make_dataset, make_uid, write_dataset

#: Where the burned-in text sits in the ultrasound image: (top, left, bottom, right), exclusive.
BURNED_IN_ZONE = (4, 8, 20, 120)
US_MACHINE = {"Manufacturer": "PHIMAKER Ultrasound", "ManufacturerModelName": "PHI-US-1",
              "DeviceSerialNumber": "PHISERIAL-0042"}
_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"})
_MASK = re.compile(r"\(([0-9A-Fa-fx]{4}),([0-9A-Fa-fx]{4})\)")


@attrs.define
class PhiCorpus:
    files: list[str] = attrs.field(factory=list)
    tokens: list[str] = attrs.field(factory=list)
    """Every planted value that must not survive, as text (search output bytes for them)."""
    planted_tags: list[int] = attrs.field(factory=list)
    """The table tags that received a value."""
    unknown_tags: list[str] = attrs.field(factory=list)
    """Table tags pydicom's dictionary does not know (nothing planted for them)."""
    burned_in: dict[str, tuple[int, int, int, int]] = attrs.field(factory=dict)
    """Path of each image with burned-in text -> its zone."""


class _Tokens:
    """Unique values per VR, remembered as they are handed out."""

    def __init__(self, corpus: PhiCorpus) -> None:
        self.corpus = corpus
        self.number = 0

    def value(self, vr: str) -> Any:
        self.number += 1
        n = self.number
        if vr in ("DA",):
            text = f"19{n % 100:02d}{1 + n % 12:02d}{1 + n % 28:02d}"
        elif vr == "TM":
            text = f"{n % 24:02d}{n % 60:02d}{(n * 7) % 60:02d}.{n:06d}"[:13]
        elif vr == "DT":
            text = f"19{n % 100:02d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 24:02d}{n % 60:02d}00+0100"
        elif vr in ("IS",):
            text = str(770000 + n)
        elif vr == "DS":
            text = f"{770000 + n}.5"
        elif vr == "AS":
            return "077Y"  # four characters: no room for a token, not counted as one
        elif vr == "UI":
            text = make_uid(77, n)
        elif vr == "PN":
            text = f"PHI{n:04d}^PLANTED"
        elif vr == "AE":
            text = f"PHI{n:04d}AE"
        elif vr == "CS":
            text = f"PHI{n:04d}"
        elif vr == "UR":
            text = f"http://phi{n:04d}.example/planted"
        elif vr in _TEXT_VRS:
            text = f"PHI{n:04d} planted"
        else:
            return None  # binary VRs: nothing greppable to plant
        self.corpus.tokens.append(text)
        return text


def _concrete_tag(text: str) -> int | None:
    match = _MASK.fullmatch(text.strip())
    if not match:
        return None
    return int((match[1] + match[2]).replace("x", "0").replace("X", "0"), 16)


def _plant_table(dataset: Any, tags: list[int], tokens: _Tokens) -> None:
    from pydicom.datadict import dictionary_VR

    for tag in tags:
        vr = dictionary_VR(tag).split(" or ")[0]
        if vr == "SQ":
            continue  # sequences get content below, through the nesting
        value = tokens.value(vr)
        if value is not None:
            dataset.add_new(tag, vr, value)


def _nesting_sequences(table: set[int]) -> list[int]:
    """Three sequence attributes the table does not list: a de-identifier keeps them and must
    clean inside them."""
    from pydicom.datadict import DicomDictionary

    free = [tag for tag, entry in sorted(DicomDictionary.items())
            if entry[0] == "SQ" and tag not in table and entry[3] == "" and 0x00080000 < tag < 0x00400000]
    return free[:3]


#: Attributes that say whose and which study an instance is: one planted value per patient (not
#: per file), so that consistency across a patient's files can be checked after de-identification.
PER_PATIENT = {"PatientID": "LO", "IssuerOfPatientID": "LO", "PatientName": "PN",
               "PatientBirthDate": "DA", "StudyDate": "DA", "StudyTime": "TM", "AccessionNumber": "SH",
               "FrameOfReferenceUID": "UI"}


def _patient_values(tokens: _Tokens) -> dict[str, Any]:
    return {keyword: tokens.value(vr) for keyword, vr in PER_PATIENT.items()}


def _ct_image(patient: int, instance: int, table_tags: list[int], nesting: list[int],
              tokens: _Tokens, identity: dict[str, Any]) -> Any:
    from pydicom.dataset import Dataset

    dataset = make_dataset(modality="CT", patient=patient, instance=instance, rows=32, columns=32)
    _plant_table(dataset, table_tags, tokens)
    for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID"):
        setattr(dataset, keyword, getattr(make_dataset(patient=patient, instance=instance), keyword))
    for keyword, value in identity.items():
        setattr(dataset, keyword, value)
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    innermost = Dataset()
    _plant_table(innermost, table_tags[:40], tokens)
    nested = innermost
    for tag in reversed(nesting):
        holder = Dataset()
        holder.add_new(tag, "SQ", [nested])
        nested = holder
    for element in nested:
        dataset.add(element)
    dataset.private_block(0x0009, "PHI PRIVATE CREATOR", create=True).add_new(0x01, "LO", tokens.value("LO"))
    dataset.private_block(0x0019, "PHI VENDOR", create=True).add_new(0x10, "PN", tokens.value("PN"))
    dataset.add_new(0x60000022, "LO", tokens.value("LO"))  # Overlay Description
    dataset.add_new(0x60001500, "LO", tokens.value("LO"))  # Overlay Label
    dataset.add_new(0x60000010, "US", 32)
    dataset.add_new(0x60000011, "US", 32)
    dataset.add_new(0x60000040, "CS", "G")
    dataset.add_new(0x60000050, "SS", [1, 1])
    dataset.add_new(0x60000100, "US", 1)
    dataset.add_new(0x60000102, "US", 0)
    dataset.add_new(0x60003000, "OW", b"\xff\x00" * 64)
    dataset.add_new(0x50002500, "LO", tokens.value("LO"))  # Curve Label (retired, still seen)
    dataset.file_meta.SourceApplicationEntityTitle = tokens.value("AE")
    dataset.file_meta.PrivateInformationCreatorUID = make_uid(78, instance)
    dataset.file_meta.PrivateInformation = tokens.value("LO").encode() + b" "
    return dataset


def _sr_document(patient: int, tokens: _Tokens, identity: dict[str, Any]) -> Any:
    from pydicom.dataset import Dataset
    from pydicom.uid import BasicTextSRStorage

    dataset = make_dataset(modality="SR", patient=patient, instance=90)
    for keyword, value in identity.items():
        setattr(dataset, keyword, value)
    for keyword in ("Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated",
                    "BitsStored", "HighBit", "PixelRepresentation", "PixelData"):
        if keyword in dataset:
            delattr(dataset, keyword)
    dataset.SOPClassUID = dataset.file_meta.MediaStorageSOPClassUID = BasicTextSRStorage
    dataset.ValueType, dataset.ContinuityOfContent = "CONTAINER", "SEPARATE"
    dataset.CompletionFlag, dataset.VerificationFlag = "COMPLETE", "UNVERIFIED"

    def item(value_type: str, meaning: str, **values: Any) -> Any:
        content = Dataset()
        content.RelationshipType, content.ValueType = "CONTAINS", value_type
        concept = Dataset()
        concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = "121071", "DCM", meaning
        content.ConceptNameCodeSequence = [concept]
        for keyword, value in values.items():
            setattr(content, keyword, value)
        return content

    dataset.ContentSequence = [
        item("TEXT", "Finding", TextValue=f"Patient {tokens.value('PN')} seen on {tokens.value('DA')}, "
                                          f"MRN {tokens.value('LO')}"),
        item("PNAME", "Person Observer Name", PersonName=tokens.value("PN")),
        item("DATE", "Study Date", Date=tokens.value("DA")),
        item("UIDREF", "Study Instance UID Reference", UID=tokens.value("UI")),
    ]
    return dataset


def _ultrasound_with_burned_in_text(patient: int, tokens: _Tokens, identity: dict[str, Any]) -> Any:
    import numpy as np

    dataset = make_dataset(modality="US", patient=patient, instance=70, rows=64, columns=128,
                           bits_allocated=8, seed=3)
    for keyword, value in identity.items():
        setattr(dataset, keyword, value)
    for keyword, value in US_MACHINE.items():
        setattr(dataset, keyword, value)
    dataset.BurnedInAnnotation = "YES"
    pixels = np.frombuffer(dataset.PixelData, dtype=np.uint8).reshape(64, 128).copy() // 2
    top, left, bottom, right = BURNED_IN_ZONE
    strokes = np.zeros((bottom - top, right - left), dtype=np.uint8)
    strokes[2:-2, ::3] = 255  # vertical strokes of "characters"
    strokes[2::5, :] = 255    # and their horizontal bars
    pixels[top:bottom, left:right] = strokes
    dataset.PixelData = pixels.tobytes()
    tokens.corpus.tokens.append(US_MACHINE["DeviceSerialNumber"])
    return dataset


def write_phi_corpus(folder: str | os.PathLike[str], table_tags: Iterable[str],
                     patients: int = 2) -> PhiCorpus:
    """Write the corpus into ``folder`` (created) for the Table E.1-1 tags given."""
    from pydicom.datadict import dictionary_has_tag

    corpus = PhiCorpus()
    tokens = _Tokens(corpus)
    concrete: list[int] = []
    for text in table_tags:
        tag = _concrete_tag(text)
        if tag is None or not dictionary_has_tag(tag) or tag >> 16 in (0x0000, 0x0002, 0x0004, 0x7FE0):
            corpus.unknown_tags.append(text)
        elif tag not in concrete:
            concrete.append(tag)
    corpus.planted_tags = concrete
    from pydicom.datadict import tag_for_keyword

    identity = {0x00080016, 0x00080018, 0x0020000D, 0x0020000E, 0x00280010, 0x00280011,
                *(tag_for_keyword(keyword) for keyword in PER_PATIENT)}
    planted = [tag for tag in concrete if tag not in identity]
    nesting = _nesting_sequences(set(concrete))
    root = Path(folder)
    for patient in range(1, patients + 1):
        where = root / f"patient{patient}"
        where.mkdir(parents=True, exist_ok=True)
        identity = _patient_values(tokens)
        for instance in range(1, 4):
            dataset = _ct_image(patient, instance, planted, nesting, tokens, identity)
            path = where / f"ct{instance}.dcm"
            write_dataset(dataset, path)
            _write_preamble(path, tokens)
            corpus.files.append(str(path))
        sr_path = write_dataset(_sr_document(patient, tokens, identity), where / "report-sr.dcm")
        us_path = write_dataset(_ultrasound_with_burned_in_text(patient, tokens, identity), where / "us.dcm")
        corpus.files += [sr_path, us_path]
        corpus.burned_in[us_path] = BURNED_IN_ZONE
    corpus.tokens = sorted(set(corpus.tokens))
    return corpus


def _write_preamble(path: Path, tokens: _Tokens) -> None:
    """Old modalities put text in the preamble; a de-identifier must blank it."""
    text = tokens.value("LO")
    assert text is not None
    preamble = text.encode().ljust(128, b"\x00")[:128]
    with open(path, "r+b") as stream:
        stream.write(preamble)
