"""The fast header scan (``gantry_part10.header_scan``) against its reference and against damage.

The reference is ``gantry.header.text_values(pydicom.dcmread(path, stop_before_pixels=True))``.
A dataset without File Meta is read by pydicom only when forced, and the part10 reader records
the encoding it was read in as its Transfer Syntax; the reference here does the same, so that the
scan, the reference and ``Kernel.scan``'s fallback all give one answer.

Decided behaviour, pinned here:

- where pydicom reads a file the part10 reader refuses (a file cut short, a header-only image),
  the scan refuses it too, with a ReaderError saying where;
- Explicit VR Big Endian, Deflated, ambiguous VRs in implicit VR and a pydicom configured away
  from its defaults raise ScanNotHandled, and ``Kernel.scan`` answers through the full reader.
"""

from __future__ import annotations

import os
import random
import re
import struct
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.data import get_charset_files, get_testdata_file, get_testdata_files
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    BasicTextSRStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

import gantry_part10.reader as reader
from gantry import NotDicomError, ReaderError
from gantry.header import text_values
from gantry.storage import SCAN_KEYWORDS
from gantry.testing.datasets import PLANTED_PHI, make_dataset
from gantry_part10.header_scan import ScanNotHandled, scan
from gantry_part10.reader import _note_transfer_syntax
from gantry_part10.sniff import has_preamble, looks_like_dicom

#: Beyond the indexer's keywords: every kind of VR, multi-valued ones, ambiguous ones, a
#: sequence, a File Meta keyword and one past Pixel Data (all absent or text as pydicom says).
BROAD_KEYWORDS = SCAN_KEYWORDS + (
    "ImageType", "PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient", "WindowCenter",
    "RescaleSlope", "SliceThickness", "SmallestImagePixelValue", "LargestImagePixelValue",
    "RedPaletteColorLookupTableDescriptor", "FrameIncrementPointer", "RetrieveAETitle", "StationName",
    "InstitutionName", "ImageComments", "PatientAge", "AcquisitionDateTime", "ReferencedImageSequence",
    "PixelData", "MediaStorageSOPClassUID", "BitsAllocated", "PhotometricInterpretation", "Manufacturer",
    "PatientWeight", "ExposureTime", "ReferencedFrameNumber", "PatientComments", "RetrieveURL",
    "PixelAspectRatio", "ContentSequence", "TextValue", "ValueType", "DerivationDescription",
    "ReferencedSOPInstanceUID", "EncapsulatedDocument", "DoseGridScaling", "GridFrameOffsetVector",
    "FloatPixelData", "SamplesPerPixel", "PixelPaddingValue", "TableHeight", "KVP", "AcquisitionMatrix",
    "ImagerPixelSpacing", "RWavePointer", "LossyImageCompressionRatio",
)

DATA_FILES = sorted(path for path in get_testdata_files() + get_charset_files() if os.path.isfile(path))
OFFSET = re.compile(r"(offset|byte) \d+")


def reference(path: str | Path, keywords: tuple[str, ...] = SCAN_KEYWORDS) -> dict[str, str]:
    with open(path, "rb") as handle:
        head = handle.read(256)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's opinions on odd values: not what is tested
        dataset = pydicom.dcmread(path, stop_before_pixels=True, force=not has_preamble(head))
        _note_transfer_syntax(dataset)  # what the part10 reader records for a raw dataset
        return text_values(dataset, keywords)


def scanned(path: str | Path, keywords: tuple[str, ...] = SCAN_KEYWORDS) -> dict[str, str] | ReaderError:
    """The scan's values, or the ReaderError it raised (any other exception fails the test)."""
    try:
        return scan(path, keywords)
    except ReaderError as err:
        return err


def assert_says_where(error: BaseException, path: str | Path) -> None:
    message = str(error)
    assert repr(os.fspath(path)) in message, message
    assert OFFSET.search(message), message


# -- every file pydicom ships ----------------------------------------------------------------


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda path: os.path.relpath(path, os.path.dirname(
    os.path.dirname(path))))
@pytest.mark.parametrize("keywords", [SCAN_KEYWORDS, BROAD_KEYWORDS], ids=["index", "broad"])
def test_every_pydicom_test_file_agrees_with_the_reference(path: str, keywords: tuple[str, ...],
                                                           kernel: Any) -> None:
    with open(path, "rb") as handle:
        head = handle.read(256)
    if not looks_like_dicom(head):
        with pytest.raises(NotDicomError) as caught:
            scan(path, keywords)
        assert_says_where(caught.value, path)
        return
    try:
        expected = reference(path, keywords)
    except Exception:  # pydicom cannot read it: neither may the scan
        with pytest.raises(ReaderError):
            scan(path, keywords)
        return
    result = scanned(path, keywords)
    if isinstance(result, ScanNotHandled):  # Kernel.scan answers as the full reader does
        assert_says_where(result, path)
        try:
            reader.read(path, stop_before_pixels=True)
        except ReaderError:  # e.g. image_dfl.dcm: bytes after its deflated stream
            with pytest.raises(ReaderError):
                kernel.scan(path, keywords)
        else:
            assert kernel.scan(path, keywords) == expected
            assert kernel.scan(Path(path).read_bytes(), keywords) == expected  # a received instance
            assert kernel.scan(in_pieces(Path(path).read_bytes()), keywords) == expected
    elif isinstance(result, ReaderError):
        # A file the part10 reader refuses as well (cut short, a header-only image).
        assert_says_where(result, path)
        with pytest.raises(ReaderError):
            reader.read(path, stop_before_pixels=True)
    else:
        assert result == expected
        assert list(result) == list(expected)  # in the order asked for
        assert scan(Path(path).read_bytes(), keywords) == expected  # the same file received as bytes
        assert scan(in_pieces(Path(path).read_bytes()), keywords) == expected  # and in PDU fragments


def in_pieces(data: bytes) -> list[Any]:
    """``data`` as a receiver has it: a short first piece (preamble and File Meta), then
    fragments of a PDU's size, as memoryviews; windows then span pieces at awkward offsets."""
    view = memoryview(data)
    return [data[:333], *(view[start:start + 997] for start in range(333, len(data), 997))]


def test_the_pydicom_files_are_mostly_scanned_without_falling_back() -> None:
    # The sweep above must not pass merely because everything fell back.
    outcomes = [scanned(path) for path in DATA_FILES if looks_like_dicom(Path(path).read_bytes()[:256])]
    values = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    fallbacks = [outcome for outcome in outcomes if isinstance(outcome, ScanNotHandled)]
    assert len(values) > 160
    assert len(fallbacks) < 25
    assert all(re.search("Big Endian|Deflated", str(err)) for err in fallbacks)


@pytest.mark.parametrize(("name", "syntax"), [("MR_small_bigendian.dcm", "Explicit VR Big Endian"),
                                               ("deflated", "Deflated Explicit VR Little Endian")])
def test_big_endian_and_deflated_fall_back_to_the_full_reader(kernel: Any, encode: Any, name: str, syntax: str,
                                                              tmp_path: Path) -> None:
    if name == "deflated":  # pydicom's image_dfl.dcm has trailing bytes the full reader refuses
        path = str(tmp_path / "deflated.dcm")
        Path(path).write_bytes(encode("deflated"))
    else:
        path = get_testdata_file(name)
    with pytest.raises(ScanNotHandled, match=syntax) as caught:
        scan(path, SCAN_KEYWORDS)
    assert_says_where(caught.value, path)
    assert kernel.scan(path, SCAN_KEYWORDS) == reference(path)
    assert kernel.scan(path, SCAN_KEYWORDS)["PatientName"]


def test_the_kernel_scans_through_the_fast_path(kernel: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = get_testdata_file("CT_small.dcm")
    (offer,) = kernel.providers("reader", "path")
    assert offer.descriptor.scan == "gantry_part10.header_scan:scan"

    def no_full_read(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Kernel.scan read the whole file")

    monkeypatch.setattr(reader, "read", no_full_read)
    assert kernel.scan(path, SCAN_KEYWORDS) == reference(path)


# -- generated files: every encoding, sequences of undefined length before the wanted tags ----------


def test_generated_files_in_every_encoding(encoding: str, encode: Any, sequence_dataset: Any, kernel: Any,
                                           tmp_path: Path) -> None:
    path = tmp_path / f"{encoding}.dcm"
    path.write_bytes(encode(encoding, dataset=sequence_dataset(items=3)))
    expected = reference(path)
    assert expected["PatientName"] == PLANTED_PHI["PatientName"]
    assert kernel.scan(path, SCAN_KEYWORDS) == expected
    if encoding in ("explicit-be", "deflated"):
        with pytest.raises(ScanNotHandled):
            scan(path, SCAN_KEYWORDS)
    else:
        assert scan(path, SCAN_KEYWORDS) == expected


@pytest.mark.parametrize("encoding_name", ["explicit-le", "implicit-le", "raw-implicit", "raw-explicit"])
def test_defined_length_sequences_are_jumped(encoding_name: str, encode: Any, sequence_dataset: Any,
                                             tmp_path: Path) -> None:
    path = tmp_path / "defined.dcm"
    path.write_bytes(encode(encoding_name, dataset=sequence_dataset(items=2, undefined=False)))
    assert scan(path, SCAN_KEYWORDS) == reference(path)


def test_a_raw_dataset_reports_the_encoding_it_was_read_in(encode: Any, tmp_path: Path) -> None:
    for encoding, syntax in (("raw-implicit", ImplicitVRLittleEndian), ("raw-explicit", ExplicitVRLittleEndian)):
        path = tmp_path / f"{encoding}.dcm"
        path.write_bytes(encode(encoding))
        assert not has_preamble(path.read_bytes()[:256])
        assert scan(path, SCAN_KEYWORDS)["TransferSyntaxUID"] == syntax


# -- character sets ---------------------------------------------------------------------------------


def _write(dataset: Any, path: Path, syntax: str = ExplicitVRLittleEndian) -> Path:
    from gantry.testing.datasets import write_dataset

    return Path(write_dataset(dataset, path, transfer_syntax=syntax))


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
@pytest.mark.parametrize(("charset", "names"), [
    ("ISO_IR 100", {"PatientName": "Müller^Jürgen", "ReferringPhysicianName": "Núñez^Ana^^Dr.",
                    "StudyDescription": "Étude crânienne", "OtherPatientIDs": "ÄÖ-1\\Üß-2",
                    "SeriesDescription": "  Séries à gauche "}),
    ("ISO_IR 192", {"PatientName": "Łukasz^Żółć=王^小東", "ReferringPhysicianName": "Παπαδόπουλος^Νίκος",
                    "StudyDescription": "Исследование головы", "OtherPatientIDs": "ü-1\\中-2",
                    "SeriesDescription": "シリーズ 1"}),
    ("GB18030", {"PatientName": "Wang^XiaoDong=王^小东", "StudyDescription": "头部检查"}),
])
def test_planted_character_sets_equal_pydicom(charset: str, names: dict[str, str], syntax: str,
                                              tmp_path: Path) -> None:
    dataset = make_dataset()
    dataset.SpecificCharacterSet = charset
    for keyword, value in names.items():
        setattr(dataset, keyword, value)
    path = _write(dataset, tmp_path / "charset.dcm", syntax)
    result = scan(path, SCAN_KEYWORDS)
    assert result == reference(path)
    assert result["PatientName"] == names["PatientName"]
    assert result["SpecificCharacterSet"] == charset


@pytest.mark.parametrize(("name", "patient_name"), [
    ("chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"),  # ISO 2022 IR 87
    ("chrH32.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"),  # ISO 2022 IR 13 and 87
    ("chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"),  # ISO 2022 IR 149
])
def test_iso_2022_escape_sequences_equal_pydicom(name: str, patient_name: str) -> None:
    path = get_charset_files(name)[0]
    result = scan(path, SCAN_KEYWORDS)
    assert result == reference(path)
    assert result["PatientName"] == patient_name


def test_a_planted_iso_2022_japanese_name_equals_pydicom(tmp_path: Path) -> None:
    dataset = make_dataset()
    dataset.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    dataset.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    dataset.StudyDescription = "頭部 検査"
    path = _write(dataset, tmp_path / "jis.dcm")
    assert b"\x1b$B" in path.read_bytes()  # written with escape sequences
    result = scan(path, SCAN_KEYWORDS)
    assert result == reference(path)
    assert result["PatientName"] == "Yamada^Tarou=山田^太郎=やまだ^たろう"


# -- hand-made files: odd values, UN, sequences pydicom does not write --------------------------

LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"}
UNDEFINED = 0xFFFFFFFF


def explicit(tag: int, vr: str, value: bytes, length: int | None = None) -> bytes:
    length = len(value) if length is None else length
    if vr in LONG_VRS:
        return struct.pack("<HH2sHI", tag >> 16, tag & 0xFFFF, vr.encode(), 0, length) + value
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), length) + value


def implicit(tag: int, value: bytes, length: int | None = None) -> bytes:
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(value) if length is None else length) + value


def item(content: bytes, *, undefined: bool = True) -> bytes:
    if undefined:
        return implicit(0xFFFEE000, content, UNDEFINED) + implicit(0xFFFEE00D, b"")
    return implicit(0xFFFEE000, content)


SEQUENCE_END = implicit(0xFFFEE0DD, b"")


def part10(body: bytes, syntax: str = ExplicitVRLittleEndian, *, preamble: bool = True) -> bytes:
    """A Part 10 file (a Basic Text SR, so no Pixel Data is missing) around ``body``."""
    if not preamble:
        return body
    meta = (explicit(0x00020001, "OB", b"\x00\x01")
            + explicit(0x00020002, "UI", _uid(BasicTextSRStorage))
            + explicit(0x00020003, "UI", _uid("1.2.826.0.1.3680043.10.1432.99"))
            + explicit(0x00020010, "UI", _uid(syntax)))
    return bytes(128) + b"DICM" + explicit(0x00020000, "UL", struct.pack("<I", len(meta))) + meta + body


def _uid(text: str) -> bytes:
    return text.encode() + (b"\x00" if len(text) % 2 else b"")


def elements(*parts: tuple[int, str, bytes], implicit_vr: bool = False) -> bytes:
    """The SOP Class UID plus ``parts``, in tag order, in either encoding."""
    chosen = sorted([(0x00080016, "UI", _uid(BasicTextSRStorage)), *parts])
    return b"".join(implicit(tag, value) if implicit_vr else explicit(tag, vr, value)
                    for tag, vr, value in chosen)


#: (keyword, VR, value as written): values pydicom renders in its own particular way.
ODD_VALUES = [
    ("InstanceNumber", "IS", b"+05 "), ("InstanceNumber", "IS", b" 12"), ("InstanceNumber", "IS", b"1.0 "),
    ("InstanceNumber", "IS", b"abc "), ("InstanceNumber", "IS", b"1\\\\2 "), ("InstanceNumber", "IS", b"  "),
    ("InstanceNumber", "IS", b"99999999999999"), ("InstanceNumber", "IS", b"\t7\t\x00"),
    ("SliceThickness", "DS", b"1.50\\2e3 "), ("SliceThickness", "DS", b"nan "), ("SliceThickness", "DS", b" .5"),
    ("SliceThickness", "DS", b"1.\\-.5E+2 "), ("SliceThickness", "DS", b"1,5 "), ("SliceThickness", "DS", b"\\ "),
    ("SOPInstanceUID", "UI", b"1.2.3\x00"), ("SOPInstanceUID", "UI", b" 1.2 "), ("SOPInstanceUID", "UI", b"1.2\\3.4\x00"),
    ("SOPInstanceUID", "UI", b"1.2\t\x00"), ("SOPInstanceUID", "UI", b"\xe91.2"),
    ("Modality", "CS", b" CT \\ MR "), ("Modality", "CS", b"CT\x00\x00"), ("StudyDate", "DA", b" 20240101 "),
    ("PatientName", "PN", b"Doe^John==  "), ("PatientName", "PN", b"Doe^John\\ Smith "),
    ("PatientName", "PN", b"=^ "), ("PatientName", "PN", b"A^B= ="), ("PatientName", "PN", b"\xc4neas^R\xfc"),
    ("PatientName", "PN", b"Doe^J=\\ Roe^R== "), ("InstanceNumber", "IS", b"007 "), ("SliceThickness", "DS", b"01.50"),
    ("StudyDescription", "LO", b"\xe9t\xe9 "), ("StudyDescription", "LO", b" desc \\ two \x00"),
    ("StudyID", "SH", b"  "), ("ImageComments", "LT", b" a\\b \x00"), ("PatientComments", "LT", b"line\r\nline "),
    ("Columns", "US", b"\x10\x00\x20\x00"), ("PixelPaddingValue", "SS", b"\xff\xff"),
    ("TableHeight", "DS", b"0 "), ("ExposureTime", "IS", b"-3"),
    ("PatientName", "UN", b"Doe^J "), ("Columns", "UN", b"\x10\x00"), ("StudyDate", "UN", b"20240101"),
    ("RetrieveAETitle", "AE", b" AE1 \\AE2"), ("FrameIncrementPointer", "AT", b"\x28\x00\x09\x00"),
    ("RetrieveURL", "UR", b"http://x/y "), ("PatientWeight", "DS", b"70.5"),
    ("DoseGridScaling", "DS", b"1e-05 "), ("RWavePointer", "UL", b"\x01\x00\x00\x00\x02\x00\x00\x00"),
    ("LossyImageCompressionRatio", "DS", b"10\\20.0"), ("ReferencedFrameNumber", "IS", b"1\\2\\3 "),
    ("StudyDescription", "UT", b" wrong VR "), ("PatientName", "LO", b" Doe^J= "),
    ("RedPaletteColorLookupTableDescriptor", "SS", b"\x00\x80\x00\x00\x10\x00"),
    ("RedPaletteColorLookupTableDescriptor", "US", b"\x00\x80\x00\x00\x10\x00"),
    ("EncapsulatedDocument", "OB", b"%PDF \x00"), ("ImageType", "CS", b"ORIGINAL\\PRIMARY\\AXIAL "),
]


def _tag_of(keyword: str) -> int:
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(keyword)
    assert tag is not None
    return tag


@pytest.mark.parametrize("implicit_vr", [False, True], ids=["explicit", "implicit"])
@pytest.mark.parametrize(("keyword", "vr", "value"), ODD_VALUES, ids=lambda value: repr(value)[:24])
def test_odd_values_equal_pydicom(keyword: str, vr: str, value: bytes, implicit_vr: bool, tmp_path: Path) -> None:
    path = tmp_path / "odd.dcm"
    syntax = ImplicitVRLittleEndian if implicit_vr else ExplicitVRLittleEndian
    path.write_bytes(part10(elements((_tag_of(keyword), vr, value), implicit_vr=implicit_vr), syntax))
    keywords = (keyword, "SOPClassUID", "TransferSyntaxUID")
    try:
        expected: dict[str, str] | None = reference(path, keywords)
    except Exception:  # pydicom's own conversion fails: the scan must say so as a ReaderError
        expected = None
    result = scanned(path, keywords)
    if isinstance(result, ScanNotHandled):  # an ambiguous VR in implicit VR
        assert implicit_vr and " or " in str(result)
    elif expected is None:
        assert isinstance(result, ReaderError), result
        assert_says_where(result, path)
    else:
        assert result == expected


def test_a_wrong_length_number_is_a_reader_error_as_pydicom_fails_on_it(tmp_path: Path) -> None:
    path = tmp_path / "wrong-length.dcm"
    path.write_bytes(part10(elements((_tag_of("RWavePointer"), "UL", b"\x01\x00\x00\x00\x02\x00"))))
    with pytest.raises(Exception, match="multiple of bytes per value"):
        reference(path, ("RWavePointer",))
    with pytest.raises(ReaderError, match=r"element \(0028,6040\) at offset \d+: its UL value cannot be "
                                          r"converted \(BytesLengthException\)") as caught:
        scan(path, ("RWavePointer",))
    assert_says_where(caught.value, path)
    assert "\\x01" not in str(caught.value)  # pydicom's message quotes the value: not ours


def test_an_un_sequence_with_implicit_items_before_the_wanted_tags(tmp_path: Path) -> None:
    # PS3.5 6.2.2: a sequence written as UN of undefined length holds implicit VR items.
    inner = implicit(0x0008_1150, _uid("1.2.3")) + implicit(0x0008_1155, _uid("1.2.3.4"))
    nested = implicit(0x0008_1115, item(inner) + item(b"") + SEQUENCE_END, UNDEFINED)
    sequence = explicit(0x0008_1140, "UN", item(nested) + item(inner, undefined=False) + SEQUENCE_END,
                        length=UNDEFINED)
    body = elements((0x0010_0010, "PN", b"Doe^Jane"), (0x0010_0020, "LO", b"PID-1 "))
    path = tmp_path / "un.dcm"
    path.write_bytes(part10(body[:_end_of_sop_class(body)] + sequence + body[_end_of_sop_class(body):]))
    result = scan(path, SCAN_KEYWORDS + ("ReferencedImageSequence",))
    assert result == reference(path, SCAN_KEYWORDS + ("ReferencedImageSequence",))
    assert result["PatientName"] == "Doe^Jane" and "ReferencedImageSequence" not in result


def _end_of_sop_class(body: bytes) -> int:
    return 8 + len(_uid(BasicTextSRStorage))  # the SOP Class UID is the first element, explicit VR


@pytest.mark.parametrize("implicit_vr", [False, True], ids=["explicit", "implicit"])
@pytest.mark.parametrize("preamble", [True, False], ids=["part10", "raw"])
def test_deeply_nested_undefined_length_sequences_before_the_wanted_tags(implicit_vr: bool, preamble: bool,
                                                                         tmp_path: Path) -> None:
    def element(tag: int, vr: str, value: bytes, length: int | None = None) -> bytes:
        return implicit(tag, value, length) if implicit_vr else explicit(tag, vr, value, length)

    leaf = element(0x0008_1150, "UI", _uid("1.2.3"))
    content = leaf
    for _ in range(40):  # 40 levels, with empty items and items of defined length beside them
        content = element(0x0008_1115, "SQ", item(leaf, undefined=False) + item(content) + item(b"")
                          + SEQUENCE_END, UNDEFINED)
    private = element(0x0009_0010, "LO", b"GANTRY ") + element(0x0009_1010, "SQ", item(content) + SEQUENCE_END,
                                                                 UNDEFINED)
    body = (element(0x0008_0016, "UI", _uid(BasicTextSRStorage))
            + element(0x0008_1140, "SQ", item(content) + SEQUENCE_END, UNDEFINED) + private
            + element(0x0010_0010, "PN", b"Doe^Jane") + element(0x0020_000D, "UI", _uid("1.2.840.99")))
    path = tmp_path / "nested.dcm"
    path.write_bytes(part10(body, ImplicitVRLittleEndian if implicit_vr else ExplicitVRLittleEndian,
                            preamble=preamble))
    result = scan(path, SCAN_KEYWORDS)
    assert result == reference(path)
    assert result["PatientName"] == "Doe^Jane" and result["StudyInstanceUID"] == "1.2.840.99"


def test_an_ambiguous_vr_in_implicit_vr_falls_back(kernel: Any) -> None:
    path = get_testdata_file("MR_small_implicit.dcm")
    with pytest.raises(ScanNotHandled, match="ambiguous VR 'US or SS'"):
        scan(path, ("SmallestImagePixelValue",))
    assert kernel.scan(path, ("SmallestImagePixelValue", "PatientName")) == reference(
        path, ("SmallestImagePixelValue", "PatientName"))


def test_non_default_pydicom_settings_fall_back(kernel: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = get_testdata_file("CT_small.dcm")
    monkeypatch.setattr(pydicom.config, "datetime_conversion", True)
    with pytest.raises(ScanNotHandled, match="defaults"):
        scan(path, SCAN_KEYWORDS)
    assert kernel.scan(path, SCAN_KEYWORDS) == reference(path)


# -- keywords -----------------------------------------------------------------------------------


def test_keywords_are_any_list_in_any_order(tmp_path: Path) -> None:
    path = get_testdata_file("CT_small.dcm")
    keywords = ["Rows", "PatientName", "TransferSyntaxUID", "ImagePositionPatient", "PatientName"]
    result = scan(path, keywords)
    assert result == reference(path, tuple(keywords))
    assert list(result) == ["Rows", "PatientName", "TransferSyntaxUID", "ImagePositionPatient"]
    assert scan(path, ()) == {}
    assert scan(path, ["TransferSyntaxUID"]) == {"TransferSyntaxUID": ExplicitVRLittleEndian}


def test_an_unknown_keyword_is_a_key_error_as_in_text_values() -> None:
    with pytest.raises(KeyError, match="NoSuchKeyword"):
        scan(get_testdata_file("CT_small.dcm"), ("PatientName", "NoSuchKeyword"))


# -- damaged input ------------------------------------------------------------------------------


def _assert_every_cut_rejected(data: bytes, cuts: Any, tmp_path: Path) -> None:
    path = tmp_path / "cut.dcm"
    for cut in cuts:
        path.write_bytes(data[:cut])
        result = scanned(path)
        assert isinstance(result, ReaderError), f"cut at {cut} of {len(data)} bytes read: {result}"
        assert not isinstance(result, ScanNotHandled), f"cut at {cut}: {result}"
        assert_says_where(result, path)
        for received in (data[:cut], in_pieces(data[:cut])):  # the same cut received as bytes, in pieces
            with pytest.raises(ReaderError) as caught:
                scan(received, SCAN_KEYWORDS)
            assert str(caught.value).startswith("received bytes") and OFFSET.search(str(caught.value)), caught.value


@pytest.mark.parametrize("encoding_name", ["explicit-le", "implicit-le", "raw-implicit", "raw-explicit"])
def test_every_cut_of_a_file_with_sequences_is_rejected(encoding_name: str, encode: Any, sequence_dataset: Any,
                                                        tmp_path: Path) -> None:
    data = encode(encoding_name, dataset=sequence_dataset(items=2))
    _assert_every_cut_rejected(data, range(len(data)), tmp_path)


def test_cuts_in_encapsulated_pixel_data_are_rejected(tmp_path: Path) -> None:
    data = Path(get_testdata_file("SC_rgb_rle_2frame.dcm")).read_bytes()
    start = data.index(b"\xe0\x7f\x10\x00")
    _assert_every_cut_rejected(data, [*range(start, len(data), 97), *range(len(data) - 24, len(data))], tmp_path)
    path = tmp_path / "whole.dcm"
    path.write_bytes(data)
    assert scan(path, SCAN_KEYWORDS) == reference(path)


def _element_offset(data: bytes, tag: int, vr: bytes) -> int:
    return data.index(struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr)


@pytest.fixture
def ct_file(encode: Any) -> bytes:
    return encode("explicit-le")


@pytest.mark.parametrize("length", [0xFFF0, 0x1234, 0])
def test_a_corrupted_length_is_a_reader_error_at_an_offset(ct_file: bytes, length: int, tmp_path: Path) -> None:
    data = bytearray(ct_file)
    at = _element_offset(data, 0x0010_0010, b"PN")
    data[at + 6:at + 8] = struct.pack("<H", length)
    path = tmp_path / "length.dcm"
    path.write_bytes(data)
    with pytest.raises(ReaderError) as caught:
        scan(path, SCAN_KEYWORDS)
    assert_says_where(caught.value, path)
    if length == 0xFFF0:
        assert f"(0010,0010) at offset {at} declares {0xFFF0} bytes" in str(caught.value)


def test_a_huge_long_length_is_a_reader_error_without_reading_it(ct_file: bytes, tmp_path: Path) -> None:
    data = bytearray(ct_file)
    at = _element_offset(data, 0x7FE0_0010, b"OW")
    data[at + 8:at + 12] = struct.pack("<I", 0xFFFFFFF0)
    path = tmp_path / "huge.dcm"
    path.write_bytes(data)
    with pytest.raises(ReaderError, match=rf"truncated: element \(7FE0,0010\) at offset {at} declares") as caught:
        scan(path, SCAN_KEYWORDS)
    assert_says_where(caught.value, path)


def test_an_undefined_length_on_a_plain_element_is_a_reader_error(tmp_path: Path) -> None:
    body = elements((0x0010_0020, "LO", b"PID-1 "), (0x0020_000D, "UI", _uid("1.2.3")), implicit_vr=True)
    at = len(part10(b"", ImplicitVRLittleEndian)) + body.index(b"\x10\x00\x20\x00")
    data = bytearray(part10(body, ImplicitVRLittleEndian))
    data[at + 4:at + 8] = struct.pack("<I", UNDEFINED)
    path = tmp_path / "undefined.dcm"
    path.write_bytes(data)
    with pytest.raises(ReaderError, match=r"offset \d+: .* where an item or the end of \(0010,0020\)"):
        scan(path, SCAN_KEYWORDS)


@pytest.mark.parametrize("vr", [b"ZZ", b"\x01\x02", b"pn"])
def test_a_bad_vr_is_a_reader_error_at_its_offset(ct_file: bytes, vr: bytes, tmp_path: Path) -> None:
    data = bytearray(ct_file)
    at = _element_offset(data, 0x0010_0010, b"PN")
    data[at + 4:at + 6] = vr
    path = tmp_path / "vr.dcm"
    path.write_bytes(data)
    with pytest.raises(ReaderError, match=rf"at offset {at}: element \(0010,0010\) has an invalid VR") as caught:
        scan(path, SCAN_KEYWORDS)
    assert_says_where(caught.value, path)


def test_tags_out_of_order_are_a_reader_error(tmp_path: Path) -> None:
    body = elements((0x0010_0020, "LO", b"PID-1 "))
    late = explicit(0x0008_0020, "DA", b"20240101")
    path = tmp_path / "order.dcm"
    path.write_bytes(part10(body + late))
    at = len(part10(body))
    with pytest.raises(ReaderError, match=rf"at offset {at}: element \(0008,0020\) is out of order after "
                                          r"\(0010,0020\)"):
        scan(path, SCAN_KEYWORDS)


def test_a_delimiter_outside_any_sequence_is_a_reader_error(tmp_path: Path) -> None:
    path = tmp_path / "delimiter.dcm"
    path.write_bytes(part10(elements((0x0010_0020, "LO", b"PID-1 ")) + implicit(0xFFFEE00D, b"")))
    with pytest.raises(ReaderError, match=r"at offset \d+: an item or delimiter tag \(FFFE,E00D\)"):
        scan(path, SCAN_KEYWORDS)


def test_an_item_never_closed_is_a_reader_error(tmp_path: Path) -> None:
    open_item = implicit(0xFFFEE000, explicit(0x0008_1150, "UI", _uid("1.2")), UNDEFINED)
    path = tmp_path / "open-item.dcm"
    path.write_bytes(part10(elements() + explicit(0x0008_1140, "SQ", open_item + SEQUENCE_END, UNDEFINED)
                            + explicit(0x0010_0010, "PN", b"Doe^J ")))
    with pytest.raises(ReaderError, match=r"\(FFFE,E0DD\) inside an item of \(0008,1140\)"):
        scan(path, SCAN_KEYWORDS)


def test_a_header_only_image_is_truncated_as_the_reader_says(encode: Any, tmp_path: Path) -> None:
    dataset = make_dataset()
    del dataset.PixelData
    path = tmp_path / "header-only.dcm"
    path.write_bytes(encode("explicit-le", dataset=dataset))
    with pytest.raises(ReaderError, match=r"an image \(CT Image Storage\) without Pixel Data: the file ends at "
                                          r"byte \d+"):
        scan(path, SCAN_KEYWORDS)
    with pytest.raises(ReaderError, match="without Pixel Data"):
        reader.read(path, stop_before_pixels=True)


def test_a_non_image_object_without_pixel_data_is_read(tmp_path: Path) -> None:
    path = tmp_path / "sr.dcm"
    path.write_bytes(part10(elements((0x0010_0010, "PN", b"Doe^J "))))
    assert scan(path, ("PatientName", "SOPClassUID")) == {"PatientName": "Doe^J", "SOPClassUID": BasicTextSRStorage}


def test_random_bytes_are_never_another_exception(tmp_path: Path) -> None:
    rng = random.Random(20240315)
    path = tmp_path / "random.dcm"
    for attempt in range(400):
        size = rng.randrange(0, 3000)
        data = rng.randbytes(size)
        if attempt % 2:  # a preamble and DICM, then noise: past the sniff, into the walk
            data = bytes(128) + b"DICM" + data
        path.write_bytes(data)
        result = scanned(path)
        if isinstance(result, ReaderError):
            assert_says_where(result, path)


def test_damaged_headers_are_never_another_exception(encode: Any, sequence_dataset: Any, tmp_path: Path) -> None:
    rng = random.Random(7)
    sources = [encode(encoding, dataset=sequence_dataset(items=2)) for encoding in ("explicit-le", "implicit-le")]
    path = tmp_path / "damaged.dcm"
    for _ in range(1500):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 3)):  # in the header, where the structure is
            data[rng.randrange(len(data) - 600)] = rng.choice([0x00, 0xFF, 0xFE, 0xE0, 0xDD, rng.randrange(256)])
        path.write_bytes(data)
        result = scanned(path)
        if isinstance(result, ReaderError):
            assert_says_where(result, path)


def test_an_empty_file_is_not_dicom(tmp_path: Path) -> None:
    path = tmp_path / "empty.dcm"
    path.write_bytes(b"")
    with pytest.raises(NotDicomError) as caught:
        scan(path, SCAN_KEYWORDS)
    assert_says_where(caught.value, path)


def test_text_is_not_dicom(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Patient notes, not an image\n" * 50)
    with pytest.raises(NotDicomError):
        scan(path, SCAN_KEYWORDS)


@pytest.mark.parametrize("make", [lambda path: path.mkdir(), lambda path: os.mkfifo(path)], ids=["directory", "fifo"])
def test_a_directory_or_fifo_is_a_reader_error_without_waiting(make: Callable[[Path], None], tmp_path: Path) -> None:
    path = tmp_path / "special"
    make(path)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            scan(path, SCAN_KEYWORDS)
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            outcome.append(err)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the scan waited on a special file"
    assert len(outcome) == 1 and isinstance(outcome[0], ReaderError), outcome
    assert "not a regular file" in str(outcome[0]) and repr(str(path)) in str(outcome[0])


def test_a_missing_file_is_a_reader_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "missing.dcm"
    with pytest.raises(ReaderError, match="cannot open") as caught:
        scan(path, SCAN_KEYWORDS)
    assert repr(str(path)) in str(caught.value)


def test_scanning_reads_only_the_header_of_a_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = make_dataset(rows=512, columns=512, frames=8)  # 4 MiB of pixels
    path = _write(dataset, tmp_path / "large.dcm")
    read_sizes: list[int] = []
    real_read, real_pread = os.read, os.pread

    def counting_read(fd: int, count: int) -> bytes:
        data = real_read(fd, count)
        read_sizes.append(len(data))
        return data

    def counting_pread(fd: int, count: int, offset: int) -> bytes:
        data = real_pread(fd, count, offset)
        read_sizes.append(len(data))
        return data

    monkeypatch.setattr(os, "read", counting_read)
    monkeypatch.setattr(os, "pread", counting_pread)
    result = scan(path, SCAN_KEYWORDS)
    monkeypatch.undo()
    assert result == reference(path)
    assert sum(read_sizes) <= 16 * 1024 < path.stat().st_size // 100


def test_the_file_is_left_as_it_was(tmp_path: Path) -> None:
    path = _write(make_dataset(), tmp_path / "ct.dcm")
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    scan(path, SCAN_KEYWORDS)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


def test_sop_instance_uids_of_generated_files_are_read(tmp_path: Path) -> None:
    dataset = make_dataset(instance=7)
    dataset.SOPInstanceUID = generate_uid()
    path = _write(dataset, tmp_path / "uid.dcm")
    assert scan(path, ("SOPInstanceUID",)) == {"SOPInstanceUID": dataset.SOPInstanceUID}


def test_a_sequence_keyword_is_absent_like_in_text_values(sequence_dataset: Any, tmp_path: Path) -> None:
    dataset = sequence_dataset(items=1)
    dataset.ReferencedImageSequence = Sequence([Dataset()])
    path = _write(dataset, tmp_path / "sq.dcm")
    keywords = ("ReferencedSeriesSequence", "ReferencedImageSequence", "PatientID")
    assert scan(path, keywords) == reference(path, keywords) == {"PatientID": PLANTED_PHI["PatientID"]}
