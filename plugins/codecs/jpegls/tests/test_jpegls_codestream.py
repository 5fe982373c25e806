"""What the encoder writes, read back from the codestream itself (not through CharLS): precision =
Bits Stored, the frame's geometry, NEAR, interleave, no SPIFF header, no colour transform."""

from __future__ import annotations

import numpy as np
import pytest

from gantry.pixels import EncodeOptions, encode_frame
from gantry.uids import JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS
from gantry_jpegls.markers import read_header


def markers_before_scan(data: bytes) -> list[int]:
    position, found = 2, []
    while data[position + 1] != 0xDA:
        found.append(data[position + 1])
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return found


@pytest.mark.parametrize(
    ("photometric", "allocated", "stored", "signed", "syntax", "near"),
    [
        ("MONOCHROME2", 16, 12, 1, JPEG_LS_LOSSLESS, 0),
        ("MONOCHROME1", 8, 5, 0, JPEG_LS_LOSSLESS, 0),
        ("MONOCHROME2", 16, 16, 0, JPEG_LS_NEAR_LOSSLESS, 4),
        ("RGB", 16, 10, 0, JPEG_LS_NEAR_LOSSLESS, 1),
        ("YBR_FULL", 8, 8, 0, JPEG_LS_LOSSLESS, 0),
    ],
)
def test_header_says_what_dicom_says(kernel, pixel_info, frames, photometric, allocated, stored, signed, syntax, near):
    info = pixel_info(photometric, syntax, rows=9, columns=31, bits_allocated=allocated, bits_stored=stored,
                      pixel_representation=signed)
    frame = frames(info, "random", margin=near if signed else 0)[0]
    data = encode_frame(kernel, frame, info, syntax, EncodeOptions(near=near)).data
    header = read_header(data)
    assert (header.precision, header.rows, header.columns, header.components) == (stored, 9, 31, info.samples_per_pixel)
    assert header.near == near and header.colour_transform == 0
    assert header.interleave == (2 if info.samples_per_pixel == 3 else 0)
    assert 0xE8 not in markers_before_scan(data)  # neither SPIFF nor a colour transform segment
    assert data.endswith(b"\xff\xd9")


def test_fallback_strips_spiff_and_sign_extends_to_its_precision(kernel, pixel_info, monkeypatch):
    from gantry_jpegls import charls

    monkeypatch.setattr(charls, "library", lambda: None)
    info = pixel_info(bits_allocated=16, bits_stored=12, pixel_representation=1, rows=2, columns=2)
    data = encode_frame(kernel, np.array([[-1, 0], [-2048, 2047]], np.int16), info, JPEG_LS_LOSSLESS).data
    assert read_header(data).precision == 16  # imagecodecs cannot write 12
    assert 0xE8 not in markers_before_scan(data)
    import imagecodecs

    # Coded as 16-bit two's complement, so decoders that extend from the codestream's precision
    # (pydicom's rule) read the same values as ours, which extends from Bits Stored.
    np.testing.assert_array_equal(imagecodecs.jpegls_decode(data).view(np.int16), [[-1, 0], [-2048, 2047]])


def test_signed_samples_are_coded_as_bits_stored_bit_patterns(kernel, pixel_info):
    import imagecodecs

    info = pixel_info(bits_allocated=16, bits_stored=12, pixel_representation=1, rows=2, columns=2)
    data = encode_frame(kernel, np.array([[-1, 0], [-2048, 2047]], np.int16), info, JPEG_LS_LOSSLESS).data
    np.testing.assert_array_equal(imagecodecs.jpegls_decode(data), [[0xFFF, 0], [0x800, 0x7FF]])


def test_read_header_refuses_other_jpeg_and_damage():
    with pytest.raises(ValueError, match="SOI"):
        read_header(b"\x00\x01")
    with pytest.raises(ValueError, match="not JPEG-LS"):
        read_header(b"\xff\xd8\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00")
    with pytest.raises(ValueError, match="cut short"):
        read_header(b"\xff\xd8\xff\xf7\x00\x0b\x08\x00")
    with pytest.raises(ValueError, match="before any frame header"):
        read_header(b"\xff\xd8\xff\xda\x00\x08\x01\x01\x00\x00\x00\x00")


@pytest.mark.parametrize("damage", ["precision", "EOI"])
def test_a_codestream_unlike_the_one_asked_for_is_not_handed_on(kernel, pixel_info, frames, monkeypatch, damage):
    """Lossless frames are not decoded again after encoding: their header and end are read back."""
    from gantry import CodecError
    from gantry_jpegls import charls

    info = pixel_info(bits_allocated=16, bits_stored=12)
    frame = frames(info, "random")[0]
    written = charls.encode(frame.astype(np.uint16), 16 if damage == "precision" else 12, 0)
    if damage == "EOI":
        written = written[:-2]
    monkeypatch.setattr(charls, "encode", lambda samples, bits, near: written)
    with pytest.raises(CodecError, match=damage):
        encode_frame(kernel, frame, info, JPEG_LS_LOSSLESS)
