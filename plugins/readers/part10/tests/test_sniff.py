"""The sniff: tell DICOM from anything else by the first 256 bytes, and never raise."""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile
from typing import Any

import pytest

from gantry import NotDicomError
from gantry.testing.datasets import make_dataset
from gantry_part10.sniff import has_preamble, looks_like_dicom, raw_encoding

HEAD = 256


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("study/image.dcm", b"\x00" * 128 + b"DICM")
    return buffer.getvalue()


NOT_DICOM: dict[str, bytes] = {
    "empty": b"",
    "one byte": b"\x08",
    "text": b"Scan protocol notes\nPatient positioned head first supine.\n" * 4,
    "png header": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00",
    "zip archive": _zip_bytes(),
    "json document": json.dumps({"PatientID": "x", "Rows": 16, "tags": list(range(40))}).encode(),
    "128 zero bytes": b"\x00" * 128,
    "132 zero bytes": b"\x00" * 132,
    "128 zeros then not DICM": b"\x00" * 128 + b"DICO" + b"\x00" * 124,
    "DICM one byte early": b"\x00" * 127 + b"DICM" + b"\x00" * 125,
    "DS_Store": b"\x00\x00\x00\x01Bud1" + b"\x00" * 100,
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "xml": b'<?xml version="1.0" encoding="UTF-8"?>\n<NativeDicomModel></NativeDicomModel>\n',
    # Group 0008 first, but the VR is not one and, read as an implicit length, it is odd.
    "group 0008 then rubbish": b"\x08\x00\x16\x00YX\x03\x00abc" + b"\x00" * 40,
    # Two well-formed headers in descending tag order.
    "descending tags": b"\x08\x00\x18\x00UI\x02\x001\x00" + b"\x08\x00\x16\x00UI\x02\x001\x00" + b"\x00" * 8,
    # Implicit VR, a value of odd length.
    "odd implicit length": b"\x08\x00\x16\x00\x03\x00\x00\x00abc" + b"\x00" * 30,
}


def _random_bytes(seed: int, length: int) -> bytes:
    return random.Random(seed).randbytes(length)


# -- accepted -----------------------------------------------------------------------------------


def test_every_encoding_is_recognised(encode: Any, encoding: str, kernel: Any) -> None:
    data = encode(encoding)
    head = data[:HEAD]
    assert looks_like_dicom(head)
    assert kernel.is_dicom(data)
    assert has_preamble(head) == (not encoding.startswith("raw-"))


@pytest.mark.parametrize(("encoding_name", "expected"),
                         [("raw-implicit", "implicit"), ("raw-explicit", "explicit")])
def test_raw_datasets_are_recognised_with_their_vr_encoding(encode: Any, encoding_name: str,
                                                           expected: str) -> None:
    head = encode(encoding_name)[:HEAD]
    assert not has_preamble(head)
    assert raw_encoding(head) == expected
    assert looks_like_dicom(head)


def test_part10_is_recognised_by_the_prefix_alone() -> None:
    # What follows DICM is the reader's business, not the sniff's.
    assert looks_like_dicom(b"\x00" * 128 + b"DICM")
    assert looks_like_dicom(b"\xff" * 128 + b"DICM" + b"\xff" * 124)


def test_a_raw_dataset_is_recognised_from_its_first_header_when_the_value_runs_past_the_head() -> None:
    # (0008,0008) CS with a 600-byte value: only one header is visible in 256 bytes.
    head = (b"\x08\x00\x08\x00CS" + struct.pack("<H", 600) + b"ORIGINAL\\" * 80)[:HEAD]
    assert raw_encoding(head) == "explicit"


def test_a_raw_dataset_is_recognised_when_the_next_header_is_cut_by_the_end_of_the_head() -> None:
    # The first value ends 6 bytes before byte 256: the second header does not fit. (The sniff
    # used to reject this: it wanted the first *value* to run past the head.)
    first = b"\x08\x00\x08\x00CS" + struct.pack("<H", 242) + b"A" * 242
    head = (first + b"\x08\x00\x16\x00UI\x1a\x00")[:HEAD]
    assert len(first) == 250
    assert raw_encoding(head) == "explicit"
    # The same with a long-VR second header (12 bytes) of which only 8 fit.
    first = b"\x08\x00\x08\x00CS" + struct.pack("<H", 240) + b"A" * 240
    head = (first + b"\x08\x00\x10\x01SQ\x00\x00\xff\xff\xff\xff")[:HEAD]
    assert len(head) == HEAD and len(first) == 248
    assert raw_encoding(head) == "explicit"


@pytest.mark.parametrize("explicit", [True, False], ids=["explicit", "implicit"])
def test_a_raw_dataset_starting_with_a_sequence_of_undefined_length_is_recognised(explicit: bool) -> None:
    # (0008,0006) Language Code Sequence, undefined length, first item header follows.
    if explicit:
        head = b"\x08\x00\x06\x00SQ\x00\x00\xff\xff\xff\xff" + b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
    else:
        head = b"\x08\x00\x06\x00\xff\xff\xff\xff" + b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
    assert raw_encoding(head) == ("explicit" if explicit else "implicit")


def test_a_real_raw_file_whose_first_value_ends_near_byte_256_is_read(kernel: Any, encode: Any) -> None:
    ds = make_dataset()
    ds.ImageType = ["A" * 16] * 14 + ["ABC"]  # 241 characters, padded to 242
    data = encode("raw-explicit", dataset=ds)
    assert struct.unpack_from("<H", data, 6)[0] == 242  # (0008,0008) comes first
    assert kernel.is_dicom(data)
    assert kernel.read(data).ImageType[-1] == "ABC"


def test_a_real_raw_file_starting_with_an_undefined_length_sequence_is_read(kernel: Any, encode: Any) -> None:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    for encoding in ("raw-explicit", "raw-implicit"):
        ds = make_dataset()
        language = Dataset()
        language.CodeValue, language.CodingSchemeDesignator, language.CodeMeaning = "eng", "RFC5646", "English"
        ds.LanguageCodeSequence = Sequence([language])  # (0008,0006): the first element
        ds["LanguageCodeSequence"].is_undefined_length = True
        data = encode(encoding, dataset=ds)
        assert data[4:8] in (b"SQ\x00\x00", b"\xff\xff\xff\xff")
        assert kernel.is_dicom(data), encoding
        assert kernel.read(data).LanguageCodeSequence[0].CodeValue == "eng"


# -- rejected -----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", list(NOT_DICOM.values()), ids=list(NOT_DICOM))
def test_not_dicom_is_rejected(data: bytes, kernel: Any) -> None:
    assert not looks_like_dicom(data[:HEAD])
    assert not kernel.is_dicom(data)
    with pytest.raises(NotDicomError, match=rf"{len(data)} bytes"):
        kernel.read(data)


@pytest.mark.parametrize("seed", range(8))
def test_random_bytes_are_rejected(seed: int, kernel: Any) -> None:
    data = _random_bytes(seed, 64 + seed * 100)
    assert not looks_like_dicom(data[:HEAD])
    with pytest.raises(NotDicomError):
        kernel.read(data)


def test_a_not_dicom_file_on_disk_is_rejected_with_its_path(tmp_path: Any, kernel: Any) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(NOT_DICOM["text"])
    with pytest.raises(NotDicomError, match="notes.txt"):
        kernel.read(path)


# -- never raises -------------------------------------------------------------------------------


def _fuzz_heads(encode: Any) -> list[bytes]:
    """Random bytes, random bytes in DICOM's clothes, and damaged heads of real files."""
    rng = random.Random(20240315)
    real = [encode(name)[:HEAD] for name in ("explicit-le", "raw-implicit", "raw-explicit")]
    heads = []
    for number in range(3000):
        length = rng.choice([0, 1, 3, 4, 7, 8, 11, 12, 13, 127, 128, 131, 132, 133, 200, 255, 256])
        kind = number % 4
        if kind == 0:
            heads.append(rng.randbytes(length))
        elif kind == 1:  # a plausible first header, then noise
            vr = rng.choice([b"SQ", b"OB", b"UI", b"CS", b"UN", b"\xff\xff", b"\x00\x00"])
            heads.append((rng.choice([b"\x08\x00", b"\x02\x00"]) + rng.randbytes(2) + vr
                          + rng.randbytes(max(length - 6, 0)))[:length])
        elif kind == 2:  # a real head, cut
            heads.append(rng.choice(real)[:length])
        else:  # a real head with bytes flipped
            head = bytearray(rng.choice(real))
            for _ in range(rng.randint(1, 8)):
                head[rng.randrange(len(head))] = rng.randrange(256)
            heads.append(bytes(head))
    heads += [b"\x08\x00\x16\x00SQ\x00\x00", b"\x08\x00\x16\x00SQ\x00\x00\xff\xff\xff",
              b"\x08\x00\x16\x00\xff\xff\xff\xff", b"\x08\x00\x16\x00UI\xff\xff" + b"\x00" * 248]
    return heads


def test_the_sniff_never_raises(encode: Any) -> None:
    # looks_like_dicom guards itself; the reader calls has_preamble and raw_encoding unguarded,
    # so they must not raise either.
    for head in _fuzz_heads(encode):
        for sample in (head, bytearray(head)):
            assert looks_like_dicom(sample) in (True, False)
            assert has_preamble(sample) in (True, False)
            assert raw_encoding(sample) in ("explicit", "implicit", None)


def test_random_bytes_are_almost_never_taken_for_dicom() -> None:
    rng = random.Random(7)
    accepted = sum(looks_like_dicom(rng.randbytes(HEAD)) for _ in range(5000))
    assert accepted == 0
