"""JPEG Lossless (Process 14 and Process 14 SV1): bit-exact round trips over every combination
PS3.5 Table 8.2.1-2 allows, and clear refusals of the rest."""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest

from gantry import CodecError
from gantry.uids import JPEG_LOSSLESS, JPEG_LOSSLESS_SV1
from gantry_jpeg.stream import parse

SYNTAXES = {"p14": JPEG_LOSSLESS, "sv1": JPEG_LOSSLESS_SV1}
# (Bits Allocated, Bits Stored): every depth class, odd ones included.
DEPTHS = [(8, 1), (8, 2), (8, 7), (8, 8), (16, 8), (16, 10), (16, 12), (16, 15), (16, 16)]
PHOTOMETRIC = ["MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "YBR_FULL"]
CONTENT = [("random", 1), ("gradient", 1), ("random", 3)]


def allowed(pi: str, signed: bool) -> bool:
    # Table 8.2.1-2: signed samples only for MONOCHROME1/2.
    return not signed or pi.startswith("MONOCHROME")


@pytest.mark.parametrize("content,count", CONTENT, ids=["random", "gradient", "random-3frames"])
@pytest.mark.parametrize("pi", PHOTOMETRIC)
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("depth", DEPTHS, ids=[f"ba{a}-bs{s}" for a, s in DEPTHS])
@pytest.mark.parametrize("syntax", list(SYNTAXES), ids=list(SYNTAXES))
def test_round_trip_is_bit_exact_or_refused(codec, info, frames, syntax, depth, signed, pi, content, count):
    image = info(bits_allocated=depth[0], bits_stored=depth[1], pixel_representation=int(signed),
                 photometric_interpretation=pi, number_of_frames=count)
    stack = frames(image, content, count)
    if not allowed(pi, signed):
        with pytest.raises(CodecError, match=f"cannot encode signed samples.*{pi}"):
            codec.encode(stack[0], image, SYNTAXES[syntax])
        return
    for frame in stack:
        encoded = codec.encode(frame, image, SYNTAXES[syntax])
        assert (encoded.photometric_interpretation, encoded.lossy, encoded.method) == (pi, False, "")
        decoded = codec.decode(encoded.data, image, SYNTAXES[syntax])
        assert decoded.dtype == image.dtype() and decoded.shape == image.frame_shape
        np.testing.assert_array_equal(decoded, frame)


@pytest.mark.parametrize("bits", [2, 8, 12, 16])
def test_encoder_writes_process_14_selection_value_1(codec, info, frames, bits):
    image = info(bits_allocated=8 if bits <= 8 else 16, bits_stored=bits)
    stream = parse(codec.encode(frames(image)[0], image, JPEG_LOSSLESS_SV1).data)
    assert (stream.sof, stream.predictor, stream.point_transform, stream.precision) == (0xC3, 1, 0, bits)


def test_one_bit_samples_are_coded_at_precision_two(codec, info, frames):
    image = info(bits_allocated=8, bits_stored=1)
    assert parse(codec.encode(frames(image)[0], image, JPEG_LOSSLESS).data).precision == 2


@pytest.mark.parametrize("predictor", range(1, 8))
@pytest.mark.parametrize("samples", [1, 3])
def test_decodes_every_process_14_predictor(codec, info, frames, predictor, samples):
    """Streams from other encoders: libjpeg-turbo with each selection value 1..7."""
    pi = "MONOCHROME2" if samples == 1 else "RGB"
    image = info(bits_allocated=16, bits_stored=12, photometric_interpretation=pi)
    frame = frames(image, "gradient")[0]
    data = imagecodecs.jpeg8_encode(frame, lossless=True, predictor=predictor, bitspersample=12)
    assert parse(data).predictor == predictor
    np.testing.assert_array_equal(codec.decode(data, image, JPEG_LOSSLESS), frame)


def test_decodes_liblj92_streams(codec, info, frames):
    """imagecodecs' other lossless encoder (liblj92, selection value 6)."""
    image = info(bits_allocated=16, bits_stored=16)
    frame = frames(image)[0]
    data = imagecodecs.ljpeg_encode(frame, bitspersample=16)
    assert parse(data).predictor == 6
    np.testing.assert_array_equal(codec.decode(data, image, JPEG_LOSSLESS), frame)


@pytest.mark.parametrize("bits", [8, 12, 16])
def test_signed_values_are_sign_extended_from_bits_stored(codec, info, bits):
    image = info(bits_allocated=8 if bits == 8 else 16, bits_stored=bits, pixel_representation=1)
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    frame = np.zeros(image.frame_shape, dtype=image.dtype())
    frame[0, :6] = [low, low + 1, -1, 0, 1, high]
    encoded = codec.encode(frame, image, JPEG_LOSSLESS_SV1)
    # In the stream the samples are the unsigned two's complement patterns within Bits Stored.
    raw = imagecodecs.jpeg8_decode(encoded.data)
    assert raw[0, :6].tolist() == [v & ((1 << bits) - 1) for v in [low, low + 1, -1, 0, 1, high]]
    decoded = codec.decode(encoded.data, image, JPEG_LOSSLESS_SV1)
    assert decoded[0, :6].tolist() == [low, low + 1, -1, 0, 1, high]


def test_signed_stream_narrower_than_bits_stored_extends_from_its_precision(codec, info):
    """A 12-bit stream in a Bits Stored 16 dataset holds 12-bit two's complement values."""
    image = info(bits_allocated=16, bits_stored=16, pixel_representation=1)
    raw = np.zeros(image.frame_shape, dtype=np.uint16)
    raw[0, :3] = [0x800, 0xFFF, 0x7FF]
    data = imagecodecs.jpeg8_encode(raw, lossless=True, predictor=1, bitspersample=12)
    assert codec.decode(data, image, JPEG_LOSSLESS)[0, :3].tolist() == [-2048, -1, 2047]


@pytest.mark.parametrize("value,signed,match", [
    (4096, False, "do not fit 12 unsigned bits"),
    (-1, False, "do not fit 12 unsigned bits"),
    (2048, True, "do not fit 12 signed bits"),
    (-2049, True, "do not fit 12 signed bits"),
])
def test_values_outside_bits_stored_are_refused(codec, info, value, signed, match):
    image = info(bits_allocated=16, bits_stored=12, pixel_representation=int(signed))
    frame = np.zeros(image.frame_shape, dtype=np.int32)
    frame[3, 4] = value
    with pytest.raises(CodecError, match=match):
        codec.encode(frame, image, JPEG_LOSSLESS_SV1)


@pytest.mark.parametrize("fields,match", [
    ({"bits_allocated": 32, "bits_stored": 24}, "Bits Allocated 32 / Bits Stored 24"),
    ({"photometric_interpretation": "YBR_FULL_422"}, "Photometric Interpretation YBR_FULL_422"),
    ({"photometric_interpretation": "YBR_RCT"}, "Photometric Interpretation YBR_RCT"),
    ({"photometric_interpretation": "YBR_ICT"}, "Photometric Interpretation YBR_ICT"),
    ({"photometric_interpretation": "RGB", "samples_per_pixel": 1}, "needs Samples per Pixel 3"),
])
def test_combinations_outside_table_8_2_1_2_are_refused(codec, info, fields, match):
    image = info(**fields)
    with pytest.raises(CodecError, match=match):
        codec.encode(np.zeros(image.frame_shape, dtype=np.uint16), image, JPEG_LOSSLESS_SV1)


@pytest.mark.parametrize("array,match", [
    (np.zeros((48, 41), dtype=np.uint16), "shape"),
    (np.zeros((48, 40), dtype=np.float32), "dtype float32"),
    ([[0]], "numpy array"),
])
def test_frames_that_do_not_match_info_are_refused(codec, info, array, match):
    with pytest.raises(CodecError, match=match):
        codec.encode(array, info(bits_allocated=16, bits_stored=12), JPEG_LOSSLESS)
