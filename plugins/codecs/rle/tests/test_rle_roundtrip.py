"""Bit-exact round trips through the kernel for every combination RLE Lossless allows, and a
clear refusal for every one it does not (PS3.5 Table 8.2.2-1, plus 32-bit monochrome)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gantry import CodecError
from gantry.pixels import EncodeOptions, decode_frame, encode_frame
from gantry.uids import RLE_LOSSLESS

PHOTOMETRICS = ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "YBR_FULL")
DEPTHS = ((8, 1), (8, 6), (8, 8), (16, 10), (16, 12), (16, 15), (16, 16), (32, 24), (32, 32))  # (allocated, stored)

# The oracle, written out from the table rather than taken from the codec.
ALLOWED_ALLOCATED = {
    "MONOCHROME1": (8, 16, 32),
    "MONOCHROME2": (8, 16, 32),
    "PALETTE COLOR": (8, 16),
    "RGB": (8, 16),
    "YBR_FULL": (8,),
}


def allowed(photometric: str, allocated: int, signed: int) -> bool:
    monochrome = photometric.startswith("MONOCHROME")
    return allocated in ALLOWED_ALLOCATED[photometric] and (monochrome or not signed)


COMBINATIONS = [
    pytest.param(photometric, allocated, stored, signed,
                 id=f"{photometric.replace(' ', '_')}-{allocated}-{stored}-{'s' if signed else 'u'}")
    for photometric, (allocated, stored), signed in itertools.product(PHOTOMETRICS, DEPTHS, (0, 1))
]
ALLOWED = [p for p in COMBINATIONS if allowed(p.values[0], p.values[1], p.values[3])]
REFUSED = [p for p in COMBINATIONS if not allowed(p.values[0], p.values[1], p.values[3])]


@pytest.mark.parametrize("kind", ["random", "gradient"])
@pytest.mark.parametrize("count", [1, 3], ids=["1frame", "3frames"])
@pytest.mark.parametrize(("photometric", "allocated", "stored", "signed"), ALLOWED)
def test_lossless_round_trip(kernel, pixel_info, frames, photometric, allocated, stored, signed, count, kind):
    info = pixel_info(photometric, bits_allocated=allocated, bits_stored=stored, pixel_representation=signed,
                      number_of_frames=count)
    for number, frame in enumerate(frames(info, kind, count=count, seed=allocated * 100 + stored)):
        encoded = encode_frame(kernel, frame, info, RLE_LOSSLESS, EncodeOptions())
        assert encoded.photometric_interpretation == photometric
        assert not encoded.lossy and encoded.method == ""
        decoded = decode_frame(kernel, encoded.data, info, what=f"frame {number + 1}")
        assert decoded.dtype == info.dtype() and decoded.shape == info.frame_shape
        np.testing.assert_array_equal(decoded, frame)


@pytest.mark.parametrize(("photometric", "allocated", "stored", "signed"), REFUSED)
def test_refused_combination(kernel, pixel_info, frames, photometric, allocated, stored, signed):
    info = pixel_info(photometric, bits_allocated=allocated, bits_stored=stored, pixel_representation=signed)
    frame = np.zeros(info.frame_shape, dtype=info.dtype())
    with pytest.raises(CodecError, match=r"rle: ValueError: RLE Lossless .*(Bits Allocated|unsigned)") as caught:
        encode_frame(kernel, frame, info, RLE_LOSSLESS)
    assert caught.value.attempts[0][0] == "rle"


@pytest.mark.parametrize(
    ("photometric", "samples"),
    [("YBR_FULL_422", 3), ("YBR_RCT", 3), ("YBR_ICT", 3), ("YBR_PARTIAL_420", 3), ("HSV", 3)],
)
def test_refused_photometric(kernel, pixel_info, photometric, samples):
    info = pixel_info(photometric, samples_per_pixel=samples, bits_allocated=8, bits_stored=8)
    with pytest.raises(CodecError, match=rf"Photometric Interpretation '{photometric}'.*allowed"):
        encode_frame(kernel, np.zeros(info.frame_shape, np.uint8), info, RLE_LOSSLESS)


def test_refused_samples_mismatch(kernel, pixel_info):
    info = pixel_info("RGB", samples_per_pixel=1, bits_allocated=8, bits_stored=8)
    with pytest.raises(CodecError, match="RGB has 3 sample"):
        encode_frame(kernel, np.zeros(info.frame_shape, np.uint8), info, RLE_LOSSLESS)


@pytest.mark.parametrize(
    ("signed", "value"), [(0, 4096), (1, 2048), (1, -2049), (0, -1)], ids=["u-over", "s-over", "s-under", "u-negative"]
)
def test_values_outside_bits_stored_are_refused(kernel, pixel_info, signed, value):
    # Encoding them would not round-trip: decoding keeps the Bits Stored bits only (PS3.5 8.1.1).
    info = pixel_info(bits_allocated=16, bits_stored=12, pixel_representation=signed)
    frame = np.zeros(info.frame_shape, dtype=np.int32)
    frame[3, 5] = value
    with pytest.raises(CodecError, match=r"outside .* 12-bit"):
        encode_frame(kernel, frame, info, RLE_LOSSLESS)


def test_wrong_shape_or_type_is_refused(kernel, pixel_info):
    info = pixel_info(bits_allocated=8, bits_stored=8)
    with pytest.raises(CodecError, match="shaped"):
        encode_frame(kernel, np.zeros((info.rows, info.columns + 1), np.uint8), info, RLE_LOSSLESS)
    with pytest.raises(CodecError, match="integer type"):
        encode_frame(kernel, np.zeros(info.frame_shape, np.float32), info, RLE_LOSSLESS)


def test_signed_stored_with_high_bits_set_decodes_sign_extended(kernel, pixel_info):
    # Another writer may leave the sign unextended (0x0FFF for -1 at 12 bits, as G.2's padded
    # composite pixel code reads); decoding sign-extends from Bits Stored either way.
    from gantry_rle.packbits import encode_segment

    info = pixel_info(rows=2, columns=3, bits_allocated=16, bits_stored=12, pixel_representation=1)
    words = np.array([[0x0FFF, 0x0800, 0x07FF], [0xFFFF, 0xF800, 0x0001]], dtype=">u2")
    planes = words.view(np.uint8).reshape(2, 3, 2)
    segments = [encode_segment(planes[:, :, k]) for k in (0, 1)]
    segments = [s + b"\x00" * (len(s) % 2) for s in segments]
    header = np.zeros(16, "<u4")
    header[:3] = [2, 64, 64 + len(segments[0])]
    decoded = decode_frame(kernel, header.tobytes() + b"".join(segments), info)
    np.testing.assert_array_equal(decoded, [[-1, -2048, 2047], [-1, -2048, 1]])
