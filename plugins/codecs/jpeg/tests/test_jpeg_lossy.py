"""JPEG Baseline and Extended: lossy round trips within stated tolerances, the colour rules of
PS3.5 8.2.1, and refusals of what Table 8.2.1-1 does not allow.

Tolerances, quality 90, smooth images (observed values in README.md):
- monochrome 8-bit: mean absolute error <= 0.5, max <= 3;
- monochrome 12-bit: mean <= 2, max <= 8;
- YBR_FULL -> YBR_FULL_422 (compared in YBR): mean <= 1, max <= 8;
- RGB -> YBR_FULL_422, converted back to RGB with the PS3.3 formulas: mean <= 1.5, max <= 10.
"""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest

from gantry import CodecError
from gantry.testing import kernel_with
from gantry.uids import JPEG_BASELINE, JPEG_EXTENDED
from gantry_jpeg.stream import parse
import gantry_jpeg.plugin as jpeg_plugin

TOLERANCE = {"mono8": (0.5, 3), "mono12": (2.0, 8), "ybr": (1.0, 8), "rgb": (1.5, 10)}


def ybr_to_rgb(ybr: np.ndarray) -> np.ndarray:
    """PS3.3 C.7.6.3.1.2, inverted (YBR_FULL, 8 bits)."""
    y, cb, cr = (ybr[..., k].astype(np.float64) for k in range(3))
    cb, cr = cb - 128, cr - 128
    return np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=-1)


def errors(decoded: np.ndarray, original: np.ndarray) -> tuple[float, float]:
    diff = np.abs(decoded.astype(np.float64) - original.astype(np.float64))
    return float(diff.mean()), float(diff.max())


BASELINE = [  # input interpretation, what the encoder writes, tolerance key
    ("MONOCHROME1", "MONOCHROME1", "mono8"),
    ("MONOCHROME2", "MONOCHROME2", "mono8"),
    ("RGB", "YBR_FULL_422", "rgb"),
    ("YBR_FULL", "YBR_FULL_422", "ybr"),
    ("YBR_FULL_422", "YBR_FULL_422", "ybr"),
]


@pytest.mark.parametrize("count", [1, 3], ids=["1frame", "3frames"])
@pytest.mark.parametrize("pi,written,tolerance", BASELINE, ids=[b[0] for b in BASELINE])
def test_baseline_round_trip_within_tolerance(codec, info, frames, pi, written, tolerance, count):
    image = info(bits_allocated=8, bits_stored=8, photometric_interpretation=pi, number_of_frames=count)
    for frame in frames(image, "gradient", count):
        encoded = codec.encode(frame, image, JPEG_BASELINE, quality=90)
        assert (encoded.photometric_interpretation, encoded.lossy, encoded.method) == (written, True, "ISO_10918_1")
        stream = parse(encoded.data)
        assert (stream.sof, stream.precision) == (0xC0, 8)  # baseline, Huffman tables optimised
        if written == "YBR_FULL_422":
            assert [(c.h, c.v) for c in stream.components] == [(2, 1), (1, 1), (1, 1)]
        decoded = codec.decode(encoded.data, info(bits_allocated=8, bits_stored=8,
                                                  photometric_interpretation=written), JPEG_BASELINE)
        assert decoded.shape == image.frame_shape and decoded.dtype == np.uint8
        mean, worst = errors(ybr_to_rgb(decoded) if pi == "RGB" else decoded, frame)
        assert mean <= TOLERANCE[tolerance][0] and worst <= TOLERANCE[tolerance][1], (mean, worst)


EXTENDED = [("MONOCHROME1", 8, 8), ("MONOCHROME2", 8, 8), ("MONOCHROME1", 16, 12), ("MONOCHROME2", 16, 12)]


@pytest.mark.parametrize("count", [1, 3], ids=["1frame", "3frames"])
@pytest.mark.parametrize("pi,allocated,stored", EXTENDED, ids=[f"{p}-{s}bit" for p, _, s in EXTENDED])
def test_extended_round_trip_within_tolerance(codec, info, frames, pi, allocated, stored, count):
    image = info(bits_allocated=allocated, bits_stored=stored, photometric_interpretation=pi, number_of_frames=count)
    for frame in frames(image, "gradient", count):
        encoded = codec.encode(frame, image, JPEG_EXTENDED, quality=90)
        assert (encoded.photometric_interpretation, encoded.lossy, encoded.method) == (pi, True, "ISO_10918_1")
        assert parse(encoded.data).precision == stored
        decoded = codec.decode(encoded.data, image, JPEG_EXTENDED)
        assert decoded.dtype == image.dtype()
        mean, worst = errors(decoded, frame)
        limit = TOLERANCE["mono12" if stored == 12 else "mono8"]
        assert mean <= limit[0] and worst <= limit[1], (mean, worst)


@pytest.mark.parametrize("syntax", [JPEG_BASELINE, JPEG_EXTENDED], ids=["baseline", "extended"])
def test_random_data_survives_with_the_right_geometry(codec, info, frames, syntax):
    image = info(bits_allocated=8, bits_stored=8)
    frame = frames(image, "random")[0]
    decoded = codec.decode(codec.encode(frame, image, syntax, quality=75).data, image, syntax)
    assert decoded.shape == frame.shape and errors(decoded, frame)[0] < 40


def test_lower_quality_means_fewer_bytes_and_more_error(codec, info, frames):
    image = info(bits_allocated=8, bits_stored=8)
    frame = frames(image, "random")[0]
    sizes = [len(codec.encode(frame, image, JPEG_BASELINE, quality=q).data) for q in (20, 60, 95)]
    assert sizes == sorted(sizes)


BASELINE_REFUSED = [
    ({"bits_allocated": 16, "bits_stored": 12}, "Bits Allocated 16 / Bits Stored 12"),
    ({"bits_allocated": 16, "bits_stored": 16}, "Bits Allocated 16 / Bits Stored 16"),
    ({"bits_allocated": 8, "bits_stored": 7}, "Bits Allocated 8 / Bits Stored 7"),
    ({"bits_allocated": 8, "bits_stored": 8, "pixel_representation": 1}, "signed samples"),
    ({"bits_allocated": 8, "bits_stored": 8, "photometric_interpretation": "PALETTE COLOR"}, "PALETTE COLOR"),
    ({"bits_allocated": 8, "bits_stored": 8, "photometric_interpretation": "YBR_RCT"}, "YBR_RCT"),
    ({"bits_allocated": 8, "bits_stored": 8, "photometric_interpretation": "YBR_ICT"}, "YBR_ICT"),
]
EXTENDED_REFUSED = [
    ({"bits_allocated": 16, "bits_stored": 16}, "Bits Allocated 16 / Bits Stored 16"),
    ({"bits_allocated": 16, "bits_stored": 10}, "Bits Allocated 16 / Bits Stored 10"),
    ({"bits_allocated": 16, "bits_stored": 12, "pixel_representation": 1}, "signed samples"),
    ({"bits_allocated": 8, "bits_stored": 8, "photometric_interpretation": "RGB"}, "Photometric Interpretation RGB"),
    ({"bits_allocated": 8, "bits_stored": 8, "photometric_interpretation": "YBR_FULL"}, "YBR_FULL"),
]


@pytest.mark.parametrize("fields,match", BASELINE_REFUSED, ids=[m for _, m in BASELINE_REFUSED])
def test_baseline_refuses_what_table_8_2_1_1_does_not_allow(codec, info, fields, match):
    image = info(**fields)
    with pytest.raises(CodecError, match=match):
        codec.encode(np.zeros(image.frame_shape, dtype=image.dtype()), image, JPEG_BASELINE)


@pytest.mark.parametrize("fields,match", EXTENDED_REFUSED, ids=[m for _, m in EXTENDED_REFUSED])
def test_extended_refuses_what_table_8_2_1_1_does_not_allow(codec, info, fields, match):
    image = info(**fields)
    with pytest.raises(CodecError, match=match):
        codec.encode(np.zeros(image.frame_shape, dtype=image.dtype()), image, JPEG_EXTENDED)


@pytest.mark.parametrize("quality", [0, 101, 90.5, True])
def test_quality_out_of_range_is_refused(codec, info, quality):
    image = info(bits_allocated=8, bits_stored=8)
    with pytest.raises(CodecError, match="quality must be an integer from 1 to 100"):
        codec.encode(np.zeros(image.frame_shape, dtype=np.uint8), image, JPEG_BASELINE, quality=quality)


def test_rgb_kept_as_rgb_when_the_site_pins_the_rgb_encoder(info, frames):
    kernel = kernel_with({"jpeg": jpeg_plugin},
                         config={"plugins": {"pin": {"encoder": {JPEG_BASELINE: "jpeg-baseline-rgb"}}}})
    from gantry.pixels import EncodeOptions, decode_frame, encode_frame

    image = info(bits_allocated=8, bits_stored=8, photometric_interpretation="RGB", transfer_syntax=JPEG_BASELINE)
    frame = frames(image, "gradient")[0]
    encoded = encode_frame(kernel, frame, image, JPEG_BASELINE, EncodeOptions(quality=90))
    assert (encoded.photometric_interpretation, encoded.lossy) == ("RGB", True)
    stream = parse(encoded.data)
    assert stream.adobe_transform == 0 and stream.colour_hint() == "RGB" and not stream.subsampled
    mean, worst = errors(decode_frame(kernel, encoded.data, image), frame)
    assert mean <= 1.5 and worst <= 10


def test_rgb_declared_stream_marked_ycbcr_comes_back_as_rgb(codec, info, frames):
    """A writer that compressed to YCbCr but left Photometric Interpretation RGB: the JFIF marker
    says YCbCr, so the decoder converts, and the samples are RGB as declared."""
    image = info(bits_allocated=8, bits_stored=8, photometric_interpretation="RGB")
    frame = frames(image, "gradient")[0]
    data = imagecodecs.jpeg8_encode(frame, level=95)  # RGB -> YCbCr with JFIF, libjpeg's default
    assert parse(data).colour_hint() == "YCbCr"
    mean, worst = errors(codec.decode(data, image, JPEG_BASELINE), frame)
    assert mean <= 1.5 and worst <= 10


def test_ybr_declared_stream_marked_rgb_comes_back_as_ybr(codec, info, frames):
    image = info(bits_allocated=8, bits_stored=8, photometric_interpretation="RGB")
    frame = frames(image, "gradient")[0]
    data = imagecodecs.jpeg8_encode(frame, level=95, colorspace="RGB", outcolorspace="RGB")
    decoded = codec.decode(data, info(bits_allocated=8, bits_stored=8, photometric_interpretation="YBR_FULL"),
                           JPEG_BASELINE)
    mean, worst = errors(ybr_to_rgb(decoded), frame)
    assert mean <= 1.5 and worst <= 10


def test_ybr_declared_stream_is_not_converted(codec, info, frames):
    """YBR stays YBR (the contract): the decoded Y plane is the luma, not the red channel."""
    image = info(bits_allocated=8, bits_stored=8, photometric_interpretation="RGB")
    frame = frames(image, "gradient")[0]
    encoded = codec.encode(frame, image, JPEG_BASELINE, quality=95)
    decoded = codec.decode(encoded.data, info(bits_allocated=8, bits_stored=8,
                                              photometric_interpretation="YBR_FULL_422"), JPEG_BASELINE)
    luma = 0.299 * frame[..., 0] + 0.587 * frame[..., 1] + 0.114 * frame[..., 2]
    assert errors(decoded[..., 0], luma)[0] < 1.0


def test_signed_lossy_stream_is_sign_extended(codec, info):
    """Table 8.2.1-1 allows unsigned only, but signed 12-bit streams exist: they decode as
    two's complement within Bits Stored."""
    image = info(bits_allocated=16, bits_stored=12, pixel_representation=1)
    raw = np.full(image.frame_shape, 0xF00, dtype=np.uint16)  # -256 as 12-bit two's complement
    data = imagecodecs.jpeg8_encode(raw, level=95, bitspersample=12)
    decoded = codec.decode(data, image, JPEG_EXTENDED)
    assert decoded.dtype == np.int16 and abs(int(np.median(decoded)) + 256) <= 1
