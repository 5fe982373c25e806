"""Damaged, truncated, empty, random and mismatched frames raise through the kernel as a
CodecError naming the provider; nothing half-decoded comes back."""

from __future__ import annotations

import numpy as np
import pytest

from gantry import CodecError
from gantry.pixels import decode_frame, encode_frame
from gantry.uids import RLE_LOSSLESS


@pytest.fixture(scope="module")
def encoded(kernel, pixel_info, frames):
    info = pixel_info(rows=16, columns=40, bits_allocated=16, bits_stored=12, pixel_representation=1)
    frame = frames(info, "random", seed=7)[0]
    return info, frame, encode_frame(kernel, frame, info, RLE_LOSSLESS).data


def assert_refused(kernel, data, info, match=None):
    with pytest.raises(CodecError, match=match) as caught:
        decode_frame(kernel, data, info)
    assert [name for name, _ in caught.value.attempts] == ["rle"]
    assert "rle" in str(caught.value)


def test_empty(kernel, encoded):
    assert_refused(kernel, b"", encoded[0], "shorter than its 64-byte header")


@pytest.mark.parametrize("cut", [1, 32, 63, 64, 65, 100, 0.5, -3, -20])
def test_truncated(kernel, encoded, cut):
    info, _, data = encoded
    end = int(len(data) * cut) if isinstance(cut, float) else cut if cut > 0 else len(data) + cut
    assert_refused(kernel, data[:end], info)


@pytest.mark.parametrize("seed", range(8))
def test_random_bytes(kernel, encoded, seed):
    noise = np.random.default_rng(seed).integers(0, 256, 64 + 50 * seed, dtype=np.uint8).tobytes()
    assert_refused(kernel, noise, encoded[0])


@pytest.mark.parametrize(
    ("position", "what"),
    [(0, "segment count"), (4, "first offset"), (8, "second offset, low byte"), (10, "second offset, high byte")],
)
def test_flipped_header_byte(kernel, encoded, position, what):
    info, _, data = encoded
    damaged = bytearray(data)
    damaged[position] ^= 0xFF
    assert_refused(kernel, bytes(damaged), info)


def test_flipped_run_headers(kernel, encoded):
    # Flipping a PackBits count byte changes how much the segment holds: caught by the lengths.
    info, _, data = encoded
    damaged = bytearray(data)
    damaged[64] ^= 0x7F  # the first run's count byte
    assert_refused(kernel, bytes(damaged), info)


@pytest.mark.parametrize("seed", range(6))
def test_flipped_bytes_anywhere_never_crash(kernel, encoded, seed):
    # A flipped byte inside a literal run is a different but well-formed frame: RLE carries no
    # checksum, so no decoder can notice. What must hold is: an error, or a frame of the right form.
    info, frame, data = encoded
    rng = np.random.default_rng(seed)
    damaged = bytearray(data)
    for position in rng.integers(64, len(data), 3):
        damaged[position] ^= int(rng.integers(1, 256))
    try:
        decoded = decode_frame(kernel, bytes(damaged), info)
    except CodecError:
        return
    assert decoded.shape == frame.shape and decoded.dtype == frame.dtype


@pytest.mark.parametrize(
    "change",
    [
        {"rows": 32},  # the stream holds half the pixels
        {"rows": 8},  # twice the pixels
        {"columns": 41},
        {"bits_allocated": 8, "bits_stored": 8},  # 2 segments where 1 is needed
        {"bits_allocated": 32, "bits_stored": 32},
        {"samples_per_pixel": 3, "photometric_interpretation": "RGB", "pixel_representation": 0},
    ],
    ids=["more-rows", "fewer-rows", "wider", "8-bit", "32-bit", "rgb"],
)
def test_wrong_geometry_or_depth(kernel, pixel_info, encoded, change):
    info, _, data = encoded
    fields = {"rows": info.rows, "columns": info.columns, "bits_allocated": 16, "bits_stored": 12,
              "pixel_representation": 1, **change}
    assert_refused(kernel, data, pixel_info(fields.pop("photometric_interpretation", "MONOCHROME2"), **fields))


def test_unsupported_bits_allocated(kernel, pixel_info, encoded):
    info = pixel_info(rows=16, columns=40, bits_allocated=1, bits_stored=1)
    assert_refused(kernel, encoded[2], info, "Bits Allocated 8, 16 or 32, not 1")


def test_one_padding_byte_too_many_is_tolerated(kernel, pixel_info):
    # Seen in the wild (pydicom#1438): each segment decodes to one byte more than the image.
    info = pixel_info(rows=3, columns=5, bits_allocated=8, bits_stored=8)
    frame = np.arange(15, dtype=np.uint8).reshape(3, 5)
    segment = bytes([15]) + frame.tobytes() + b"\x00"  # a 16-byte literal run
    header = np.zeros(16, "<u4")
    header[:2] = [1, 64]
    np.testing.assert_array_equal(decode_frame(kernel, header.tobytes() + segment, info), frame)


def test_odd_segments_and_noop_runs_decode(kernel, pixel_info):
    # Writers that skip the even padding of segments (pydicom#2180) or emit -128 no-ops.
    info = pixel_info("RGB", rows=1, columns=3, bits_allocated=8, bits_stored=8)
    segments = [b"\x80\x02\x01\x02\x03", b"\xfe\x07", b"\x02\x09\x08\x07"]
    header = np.zeros(16, "<u4")
    header[:4] = [3, 64, 69, 71]
    decoded = decode_frame(kernel, header.tobytes() + b"".join(segments), info)
    np.testing.assert_array_equal(decoded, [[[1, 7, 9], [2, 7, 8], [3, 7, 7]]])
