"""JPEG-LS Lossless: bit-exact round trips through the kernel for every combination PS3.5
Table 8.2.3-1 allows, through both encoder paths, and a clear refusal for every other one."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gantry import CodecError
from gantry.pixels import decode_frame, encode_frame
from gantry.uids import JPEG_LS_LOSSLESS

PHOTOMETRICS = ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "YBR_FULL")
DEPTHS = ((8, 1), (8, 2), (8, 5), (8, 8), (16, 9), (16, 10), (16, 12), (16, 15), (16, 16), (32, 16))

# The oracle, written out from the table rather than taken from the codec: (Bits Allocated, largest Bits Stored).
TABLE = {
    "MONOCHROME1": ((8, 16), 16),
    "MONOCHROME2": ((8, 16), 16),
    "PALETTE COLOR": ((8, 16), 16),
    "RGB": ((8, 16), 16),
    "YBR_FULL": ((8,), 8),
}


def allowed(photometric: str, allocated: int, stored: int, signed: int) -> bool:
    allocations, most = TABLE[photometric]
    return (allocated in allocations and 2 <= stored <= most
            and (photometric.startswith("MONOCHROME") or not signed))


COMBINATIONS = [
    pytest.param(photometric, allocated, stored, signed,
                 id=f"{photometric.replace(' ', '_')}-{allocated}-{stored}-{'s' if signed else 'u'}")
    for photometric, (allocated, stored), signed in itertools.product(PHOTOMETRICS, DEPTHS, (0, 1))
]
ALLOWED = [p for p in COMBINATIONS if allowed(*p.values)]
REFUSED = [p for p in COMBINATIONS if not allowed(*p.values)]


@pytest.mark.parametrize("kind", ["random", "gradient"])
@pytest.mark.parametrize("count", [1, 3], ids=["1frame", "3frames"])
@pytest.mark.parametrize(("photometric", "allocated", "stored", "signed"), ALLOWED)
def test_lossless_round_trip(kernel, pixel_info, frames, encoder_path, photometric, allocated, stored, signed,
                             count, kind):
    info = pixel_info(photometric, bits_allocated=allocated, bits_stored=stored, pixel_representation=signed,
                      number_of_frames=count)
    for number, frame in enumerate(frames(info, kind, count=count, seed=allocated * 100 + stored)):
        encoded = encode_frame(kernel, frame, info, JPEG_LS_LOSSLESS)
        assert encoded.photometric_interpretation == photometric  # no colour transform in DICOM JPEG-LS
        assert not encoded.lossy and encoded.method == ""
        decoded = decode_frame(kernel, encoded.data, info, what=f"frame {number + 1}")
        assert decoded.dtype == info.dtype() and decoded.shape == info.frame_shape
        np.testing.assert_array_equal(decoded, frame)


@pytest.mark.parametrize(("photometric", "allocated", "stored", "signed"), REFUSED)
def test_refused_combination(kernel, pixel_info, photometric, allocated, stored, signed):
    info = pixel_info(photometric, bits_allocated=allocated, bits_stored=stored, pixel_representation=signed)
    frame = np.zeros(info.frame_shape, dtype=info.dtype())
    pattern = r"jpegls-lossless: ValueError: JPEG-LS Lossless .*(Bits Allocated|Bits Stored 2 to|unsigned)"
    with pytest.raises(CodecError, match=pattern) as caught:
        encode_frame(kernel, frame, info, JPEG_LS_LOSSLESS)
    assert caught.value.attempts[0][0] == "jpegls-lossless"


@pytest.mark.parametrize("photometric", ["YBR_FULL_422", "YBR_RCT", "YBR_ICT", "YBR_PARTIAL_420", "HSV"])
def test_refused_photometric(kernel, pixel_info, photometric):
    info = pixel_info(photometric, samples_per_pixel=3, bits_allocated=8, bits_stored=8)
    with pytest.raises(CodecError, match=rf"Photometric Interpretation '{photometric}'.*allowed"):
        encode_frame(kernel, np.zeros(info.frame_shape, np.uint8), info, JPEG_LS_LOSSLESS)


@pytest.mark.parametrize(
    ("signed", "value"), [(0, 4096), (1, 2048), (1, -2049), (0, -1)], ids=["u-over", "s-over", "s-under", "u-negative"]
)
def test_values_outside_bits_stored_are_refused(kernel, pixel_info, signed, value):
    info = pixel_info(bits_allocated=16, bits_stored=12, pixel_representation=signed)
    frame = np.zeros(info.frame_shape, dtype=np.int32)
    frame[2, 7] = value
    with pytest.raises(CodecError, match=r"outside .* 12-bit"):
        encode_frame(kernel, frame, info, JPEG_LS_LOSSLESS)


def test_wrong_shape_or_type_is_refused(kernel, pixel_info):
    info = pixel_info(bits_allocated=8, bits_stored=8)
    with pytest.raises(CodecError, match="shaped"):
        encode_frame(kernel, np.zeros((info.rows + 1, info.columns), np.uint8), info, JPEG_LS_LOSSLESS)
    with pytest.raises(CodecError, match="integer type"):
        encode_frame(kernel, np.zeros(info.frame_shape, np.float64), info, JPEG_LS_LOSSLESS)


def test_samples_per_pixel_must_match(kernel, pixel_info):
    info = pixel_info("RGB", samples_per_pixel=1, bits_allocated=8, bits_stored=8)
    with pytest.raises(CodecError, match="RGB has 3 sample"):
        encode_frame(kernel, np.zeros(info.frame_shape, np.uint8), info, JPEG_LS_LOSSLESS)
