"""JPEG-LS Near-Lossless: decode(encode(x)) is within NEAR of x for every sample (the tolerance is
the NEAR parameter itself, T.87's guarantee), the frame is marked lossy (ISO_14495_1), and what the
transfer syntax does not allow is refused."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gantry import CodecError
from gantry.pixels import EncodeOptions, decode_frame, encode_frame
from gantry.uids import JPEG_LS_NEAR_LOSSLESS

PHOTOMETRICS = ("MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL")
DEPTHS = ((8, 3), (8, 8), (16, 10), (16, 12), (16, 15), (16, 16))
TABLE = {"MONOCHROME1": (8, 16), "MONOCHROME2": (8, 16), "RGB": (8, 16), "YBR_FULL": (8,)}

CASES = [
    pytest.param(photometric, allocated, stored, signed,
                 id=f"{photometric}-{allocated}-{stored}-{'s' if signed else 'u'}")
    for photometric, (allocated, stored), signed in itertools.product(PHOTOMETRICS, DEPTHS, (0, 1))
    if allocated in TABLE[photometric] and (photometric.startswith("MONOCHROME") or not signed)
]


def max_error(decoded: np.ndarray, original: np.ndarray) -> int:
    return int(np.abs(decoded.astype(np.int64) - original.astype(np.int64)).max())


@pytest.mark.parametrize("near", [1, 3])
@pytest.mark.parametrize("kind", ["random", "gradient"])
@pytest.mark.parametrize(("photometric", "allocated", "stored", "signed"), CASES)
def test_error_within_near(kernel, pixel_info, frames, photometric, allocated, stored, signed, kind, near):
    info = pixel_info(photometric, JPEG_LS_NEAR_LOSSLESS, bits_allocated=allocated, bits_stored=stored,
                      pixel_representation=signed, number_of_frames=2)
    # Signed samples within NEAR of either end are refused (see test_signed_extremes_are_refused).
    for frame in frames(info, kind, count=2, seed=stored, margin=near if signed else 0):
        encoded = encode_frame(kernel, frame, info, JPEG_LS_NEAR_LOSSLESS, EncodeOptions(near=near))
        assert encoded.lossy and encoded.method == "ISO_14495_1"
        assert encoded.photometric_interpretation == photometric
        decoded = decode_frame(kernel, encoded.data, info)
        assert decoded.dtype == info.dtype() and decoded.shape == info.frame_shape
        assert max_error(decoded, frame) <= near
        low, high = (-(1 << (stored - 1)), (1 << (stored - 1)) - 1) if signed else (0, (1 << stored) - 1)
        assert low <= int(decoded.min()) and int(decoded.max()) <= high  # never outside Bits Stored


def test_unsigned_extremes_stay_in_range(kernel, pixel_info):
    # Precision = Bits Stored keeps reconstruction within 0..4095; at precision 16 a 4095 could
    # come back as 4097, which the 12 Bits Stored would turn into 1.
    info = pixel_info(syntax=JPEG_LS_NEAR_LOSSLESS, bits_allocated=16, bits_stored=12)
    frame = np.full(info.frame_shape, 4095, np.uint16)
    frame[::2, ::3] = 4090
    frame[1::4] = 0
    encoded = encode_frame(kernel, frame, info, JPEG_LS_NEAR_LOSSLESS, EncodeOptions(near=5))
    assert max_error(decode_frame(kernel, encoded.data, info), frame) <= 5


@pytest.mark.parametrize("value", [2047, -2048, 2046, -2047], ids=["max", "min", "max-1", "min+1"])
def test_signed_extremes_are_refused(kernel, pixel_info, value):
    # 2047 and -2048 are neighbours as coded 12-bit samples (0x7FF, 0x800): an error of 2 could
    # turn one into the other, so values within NEAR of either end are refused.
    info = pixel_info(syntax=JPEG_LS_NEAR_LOSSLESS, bits_allocated=16, bits_stored=12, pixel_representation=1)
    frame = np.zeros(info.frame_shape, np.int16)
    frame[0, 0] = value
    with pytest.raises(CodecError, match=r"NEAR 2 can encode signed 12-bit values -2046\.\.2045 only"):
        encode_frame(kernel, frame, info, JPEG_LS_NEAR_LOSSLESS, EncodeOptions(near=2))


def test_near_zero_is_lossless(kernel, pixel_info, frames):
    info = pixel_info(syntax=JPEG_LS_NEAR_LOSSLESS, bits_allocated=16, bits_stored=12, pixel_representation=1)
    frame = frames(info, "random")[0]
    encoded = encode_frame(kernel, frame, info, JPEG_LS_NEAR_LOSSLESS, EncodeOptions(near=0))
    assert not encoded.lossy and encoded.method == ""  # no loss, so nothing to record (A.4.3)
    np.testing.assert_array_equal(decode_frame(kernel, encoded.data, info), frame)


@pytest.mark.parametrize(("stored", "near", "largest"), [(8, 128, 127), (12, 256, 255), (2, 2, 1), (16, -1, 255)])
def test_near_out_of_range_is_refused(kernel, pixel_info, stored, near, largest):
    info = pixel_info(syntax=JPEG_LS_NEAR_LOSSLESS, bits_allocated=8 if stored <= 8 else 16, bits_stored=stored)
    frame = np.zeros(info.frame_shape, info.dtype())
    with pytest.raises(CodecError, match=rf"NEAR must be 0 to {largest} for {stored}-bit samples, not {near}"):
        encode_frame(kernel, frame, info, JPEG_LS_NEAR_LOSSLESS, EncodeOptions(near=near))


@pytest.mark.parametrize(
    ("photometric", "allocated", "stored", "signed", "reason"),
    [
        ("PALETTE COLOR", 8, 8, 0, "Photometric Interpretation 'PALETTE COLOR'"),  # lossless only
        ("YBR_FULL", 16, 12, 0, "allows Bits Allocated 8"),
        ("RGB", 16, 12, 1, "must be unsigned"),
        ("MONOCHROME2", 16, 1, 0, "Bits Stored 2 to 16"),
        ("MONOCHROME2", 32, 16, 0, "allows Bits Allocated 8 or 16"),
        ("YBR_FULL_422", 8, 8, 0, "Photometric Interpretation 'YBR_FULL_422'"),
    ],
)
def test_refused(kernel, pixel_info, photometric, allocated, stored, signed, reason):
    info = pixel_info(photometric, JPEG_LS_NEAR_LOSSLESS, bits_allocated=allocated, bits_stored=stored,
                      pixel_representation=signed, samples_per_pixel=3 if "YBR" in photometric or photometric == "RGB" else 1)
    with pytest.raises(CodecError, match=rf"jpegls-near-lossless: ValueError: .*{reason}"):
        encode_frame(kernel, np.zeros(info.frame_shape, info.dtype()), info, JPEG_LS_NEAR_LOSSLESS)


def test_fallback_needs_charls_below_16_bits(kernel, pixel_info, frames, monkeypatch):
    # Without CharLS's C API, imagecodecs writes precision 8 or 16 only: near-lossless is then
    # refused where Bits Stored differs, and works where it does not.
    from gantry_jpegls import charls

    monkeypatch.setattr(charls, "library", lambda: None)
    info = pixel_info(syntax=JPEG_LS_NEAR_LOSSLESS, bits_allocated=16, bits_stored=12)
    with pytest.raises(CodecError, match="needs CharLS's C library"):
        encode_frame(kernel, frames(info, "random")[0], info, JPEG_LS_NEAR_LOSSLESS)
    info = pixel_info(syntax=JPEG_LS_NEAR_LOSSLESS, bits_allocated=16, bits_stored=16, pixel_representation=1)
    frame = frames(info, "random", margin=2)[0]
    encoded = encode_frame(kernel, frame, info, JPEG_LS_NEAR_LOSSLESS, EncodeOptions(near=2))
    assert max_error(decode_frame(kernel, encoded.data, info), frame) <= 2
