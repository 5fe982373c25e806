"""Damaged, truncated, empty, random and mismatched codestreams raise through the kernel as a
CodecError naming the provider, quickly: CharLS 2.4 burns ~3 s of CPU on many truncated streams,
so the decoder refuses a stream without its EOI marker before CharLS sees it."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gantry import CodecError
from gantry.pixels import decode_frame, encode_frame
from gantry.uids import JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS

QUICK = 1.0  # seconds; a sound decode of these frames takes milliseconds, CharLS's slow failure ~3 s


@pytest.fixture(scope="module")
def encoded(kernel, pixel_info, frames):
    info = pixel_info(rows=32, columns=48, bits_allocated=16, bits_stored=12, pixel_representation=1)
    frame = frames(info, "random", seed=11)[0]
    return info, frame, encode_frame(kernel, frame, info, JPEG_LS_LOSSLESS).data


def assert_refused(kernel, data, info, match=None):
    started = time.perf_counter()
    with pytest.raises(CodecError, match=match) as caught:
        decode_frame(kernel, data, info)
    assert time.perf_counter() - started < QUICK
    assert [name for name, _ in caught.value.attempts] == ["jpegls-lossless"]


def test_empty(kernel, encoded):
    assert_refused(kernel, b"", encoded[0], "does not start with an SOI marker")


def test_every_truncation_is_refused_quickly(kernel, encoded):
    # Each cut point once (the frame is ~2.7 kB): before this check, about one in six cost ~3 s.
    info, _, data = encoded
    for cut in range(len(data)):
        assert_refused(kernel, data[:cut], info)


def test_fragment_padding_after_eoi_is_fine(kernel, encoded):
    info, frame, data = encoded
    np.testing.assert_array_equal(decode_frame(kernel, data + b"\x00", info), frame)


@pytest.mark.parametrize("seed", range(8))
def test_random_bytes(kernel, encoded, seed):
    noise = np.random.default_rng(seed).integers(0, 256, 40 + 60 * seed, dtype=np.uint8).tobytes()
    assert_refused(kernel, noise, encoded[0])


@pytest.mark.parametrize("seed", range(4))
def test_random_scan_data_after_a_valid_header(kernel, encoded, seed):
    info, _, data = encoded
    scan = data.index(b"\xff\xda") + 10  # SOS marker, its 8-byte segment
    noise = np.random.default_rng(seed).integers(0, 128, 300, dtype=np.uint8).tobytes()
    assert_refused(kernel, data[:scan] + noise + b"\xff\xd9", info)


@pytest.mark.parametrize(
    ("offset", "what"),
    [(0, "SOI"), (3, "SOF marker"), (6, "precision"), (8, "rows"), (10, "columns"), (11, "components")],
)
def test_flipped_header_byte(kernel, encoded, offset, what):
    info, _, data = encoded
    damaged = bytearray(data)
    damaged[offset] ^= 0x41
    assert_refused(kernel, bytes(damaged), info)


@pytest.mark.parametrize("seed", range(20))
def test_flipped_scan_bytes_never_crash(kernel, encoded, seed):
    # JPEG-LS has no checksum: a flipped byte in the scan data may decode, to other samples.
    # What must hold: an error, or a frame of the right form, and quickly either way.
    info, frame, data = encoded
    rng = np.random.default_rng(seed)
    damaged = bytearray(data)
    for position in rng.integers(30, len(data) - 2, 2):
        damaged[position] ^= int(rng.integers(1, 256))
    started = time.perf_counter()
    try:
        decoded = decode_frame(kernel, bytes(damaged), info)
    except CodecError:
        decoded = None
    assert time.perf_counter() - started < QUICK
    assert decoded is None or (decoded.shape == frame.shape and decoded.dtype == frame.dtype)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rows": 33}, "32 x 48 with 1 component"),
        ({"columns": 47}, "the dataset says 32 x 47"),
        ({"samples_per_pixel": 3, "photometric_interpretation": "RGB", "pixel_representation": 0}, "with 3"),
        ({"bits_allocated": 8, "bits_stored": 8, "pixel_representation": 0}, "12-bit samples; Bits Allocated is 8"),
        ({"bits_stored": 16}, "12-bit samples; signed Bits Stored is 16"),
        ({"bits_allocated": 32, "bits_stored": 32}, "Bits Allocated 8 or 16, not 32"),
    ],
    ids=["rows", "columns", "rgb", "8-bit", "signed-16", "32-bit"],
)
def test_wrong_geometry_or_depth(kernel, pixel_info, encoded, change, message):
    info, _, data = encoded
    fields = {"rows": 32, "columns": 48, "bits_allocated": 16, "bits_stored": 12, "pixel_representation": 1, **change}
    assert_refused(kernel, data, pixel_info(fields.pop("photometric_interpretation", "MONOCHROME2"), **fields), message)


def test_a_wider_precision_than_bits_stored_is_read(kernel, pixel_info):
    # dcmtk writes precision = Bits Allocated (16 for 12-bit data), the sign extended to 16 bits.
    import imagecodecs

    info = pixel_info(rows=2, columns=2, bits_allocated=16, bits_stored=12, pixel_representation=1)
    data = bytes(imagecodecs.jpegls_encode(np.array([[0xFFFF, 0], [0xF800, 0x07FF]], np.uint16)))
    np.testing.assert_array_equal(decode_frame(kernel, data, info), [[-1, 0], [-2048, 2047]])


def test_hp_colour_transform_is_refused(kernel, pixel_info, encoded):
    # CharLS's HP colour transforms (an 'mrfx' APP8 segment) are not part of DICOM's JPEG-LS.
    info, _, data = encoded
    transform = b"\xff\xe8\x00\x07mrfx\x01"
    assert_refused(kernel, data[:2] + transform + data[2:], info, "HP colour transform 1")


def test_a_jpeg_codestream_is_refused(kernel, pixel_info):
    import imagecodecs

    info = pixel_info(syntax=JPEG_LS_NEAR_LOSSLESS, rows=8, columns=8, bits_allocated=8, bits_stored=8)
    jpeg = bytes(imagecodecs.jpeg8_encode(np.zeros((8, 8), np.uint8)))
    with pytest.raises(CodecError, match=r"jpegls-near-lossless: ValueError: .*not JPEG-LS"):
        decode_frame(kernel, jpeg, info)
