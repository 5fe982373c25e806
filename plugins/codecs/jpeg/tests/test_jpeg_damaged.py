"""Damaged input: every case raises CodecError through decode_frame (naming the provider), and
nothing crashes or hangs. libjpeg-turbo never hung or crashed on these (nor on 3,000 random
mutations tried while writing this plugin), so no subprocess isolation is needed."""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest

from gantry import CodecError
from gantry.uids import JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1
from gantry_jpeg.stream import SOS, parse

KINDS = {  # name: (syntax, image fields)
    "lossless-mono16": (JPEG_LOSSLESS_SV1, {"bits_allocated": 16, "bits_stored": 16}),
    "lossless-rgb8": (JPEG_LOSSLESS, {"bits_allocated": 8, "bits_stored": 8, "photometric_interpretation": "RGB"}),
    "baseline-ybr": (JPEG_BASELINE, {"bits_allocated": 8, "bits_stored": 8, "photometric_interpretation": "RGB"}),
    "extended-12": (JPEG_EXTENDED, {"bits_allocated": 16, "bits_stored": 12}),
}


@pytest.fixture(params=list(KINDS))
def sample(request, codec, info, frames):
    """(syntax, info of the encoded data, encoded bytes) for one kind of stream."""
    syntax, fields = KINDS[request.param]
    image = info(**fields)
    encoded = codec.encode(frames(image, "gradient")[0], image, syntax)
    return syntax, info(**{**fields, "photometric_interpretation": encoded.photometric_interpretation}), encoded.data


def refused(codec, data, image, syntax, match=None):
    with pytest.raises(CodecError, match=match) as caught:
        codec.decode(data, image, syntax)
    assert "jpeg-" in str(caught.value)  # names the provider
    return caught.value


def entropy_start(data: bytes) -> int:
    position = data.index(bytes([0xFF, SOS]))
    return position + 2 + int.from_bytes(data[position + 2:position + 4], "big")


def test_the_samples_decode_when_whole(codec, sample):
    syntax, image, data = sample
    assert codec.decode(data, image, syntax).shape == image.frame_shape
    assert codec.decode(data + b"\x00", image, syntax).shape == image.frame_shape  # fragment padding


@pytest.mark.parametrize("cut", ["1", "2", "header", "scan-start", "half", "end-3", "end-1"])
def test_truncated_streams_are_refused(codec, sample, cut):
    syntax, image, data = sample
    start = entropy_start(data)
    at = {"1": 1, "2": 2, "header": start // 2, "scan-start": start + 1, "half": (start + len(data)) // 2,
          "end-3": len(data) - 3, "end-1": len(data) - 1}[cut]
    refused(codec, data[:at], image, syntax, "truncated|SOI|EOI")


@pytest.mark.parametrize("where", ["soi", "sof-marker", "sof-length", "sof-rows", "sof-precision",
                                   "sos-component", "eoi"])
def test_flipped_bytes_in_the_structure_are_refused(codec, sample, where):
    syntax, image, data = sample
    damaged = bytearray(data)
    sof = next(i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC1, 0xC3))
    sos = data.index(bytes([0xFF, SOS]))
    position = {"soi": 1, "sof-marker": sof, "sof-length": sof + 3, "sof-rows": sof + 6,
                "sof-precision": sof + 4, "sos-component": sos + 5, "eoi": len(data) - 1}[where]
    damaged[position] ^= 0x5A
    refused(codec, bytes(damaged), image, syntax)


def test_flipped_bits_in_entropy_data_never_crash(codec, sample):
    """JPEG has no checksum and libjpeg-turbo only warns about bad Huffman codes (imagecodecs
    drops warnings): such damage is often not detectable. The promise here is narrower: each
    flip either raises CodecError or yields an image of the declared geometry and dtype."""
    syntax, image, data = sample
    rng = np.random.default_rng(11)
    start, outcomes = entropy_start(data), {"raised": 0, "decoded": 0}
    for _ in range(60):
        damaged = bytearray(data)
        damaged[rng.integers(start, len(data) - 2)] ^= 1 << int(rng.integers(0, 8))
        try:
            decoded = codec.decode(bytes(damaged), image, syntax)
        except CodecError:
            outcomes["raised"] += 1
        else:
            assert decoded.shape == image.frame_shape and decoded.dtype == image.dtype()
            outcomes["decoded"] += 1
    assert sum(outcomes.values()) == 60


@pytest.mark.parametrize("syntax", [JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1])
@pytest.mark.parametrize("content", ["empty", "random-1", "random-2", "random-3", "soi-then-random", "zeros"])
def test_garbage_is_refused(codec, info, syntax, content):
    rng = np.random.default_rng(len(content))
    data = {"empty": b"", "zeros": bytes(64), "soi-then-random": b"\xff\xd8" + rng.bytes(300)}.get(content) \
        or rng.bytes(int(rng.integers(1, 500)))
    refused(codec, data, info(bits_allocated=16, bits_stored=16), syntax)


def test_bytes_after_eoi_are_refused(codec, sample):
    syntax, image, data = sample
    refused(codec, data + b"\xff\xd8\x00\x01", image, syntax, "follow the EOI")


@pytest.mark.parametrize("fields,match", [
    ({"rows": 40}, "declares 40 x 40"),
    ({"columns": 48}, "declares 48 x 48"),
    ({"samples_per_pixel": 3, "photometric_interpretation": "RGB"}, "Samples per Pixel 3"),
    ({"bits_allocated": 8, "bits_stored": 8}, "16-bit samples"),
    ({"bits_allocated": 32, "bits_stored": 32}, "Bits Allocated 32"),
    ({"bits_stored": 12}, "does not fit Bits Stored 12"),
    ({"photometric_interpretation": "YBR_RCT", "samples_per_pixel": 1}, "YBR_RCT"),
])
def test_valid_stream_of_the_wrong_geometry_or_depth_is_refused(codec, info, frames, fields, match):
    image = info(bits_allocated=16, bits_stored=16)
    data = codec.encode(frames(image, "random")[0], image, JPEG_LOSSLESS_SV1).data
    refused(codec, data, info(**{"bits_allocated": 16, "bits_stored": 16, **fields}), JPEG_LOSSLESS_SV1, match)


def test_lossy_stream_in_a_lossless_syntax_is_refused(codec, info, frames):
    image = info(bits_allocated=8, bits_stored=8)
    data = codec.encode(frames(image, "gradient")[0], image, JPEG_BASELINE).data
    refused(codec, data, image, JPEG_LOSSLESS_SV1, "baseline \\(SOF0\\) stream")


def test_lossless_stream_in_a_lossy_syntax_decodes_exactly(codec, info, frames):
    """The stream header decides how it is decoded (PS3.5 8.2.1); nothing is lost."""
    image = info(bits_allocated=8, bits_stored=8)
    frame = frames(image)[0]
    data = codec.encode(frame, image, JPEG_LOSSLESS_SV1).data
    np.testing.assert_array_equal(codec.decode(data, image, JPEG_BASELINE), frame)


def test_random_mutations_raise_or_decode_cleanly(codec, info, frames):
    """A small fuzz in process: truncations, byte changes, deletions and insertions."""
    image = info(bits_allocated=16, bits_stored=12)
    sources = [codec.encode(frames(image, "gradient")[0], image, JPEG_LOSSLESS_SV1).data,
               codec.encode(frames(image, "gradient")[0], image, JPEG_EXTENDED).data]
    rng = np.random.default_rng(5)
    for trial in range(300):
        data = bytearray(sources[trial % 2])
        kind = trial % 4
        at = int(rng.integers(0, len(data)))
        if kind == 0:
            del data[at:]
        elif kind == 1:
            data[at] = int(rng.integers(0, 256))
        elif kind == 2:
            del data[at:at + int(rng.integers(1, 16))]
        else:
            data[at:at] = rng.bytes(int(rng.integers(1, 16)))
        syntax = JPEG_LOSSLESS_SV1 if trial % 2 == 0 else JPEG_EXTENDED
        try:
            decoded = codec.decode(bytes(data), image, syntax)
        except CodecError:
            continue
        assert decoded.shape == image.frame_shape and decoded.dtype == np.uint16


def test_structure_walk_reads_what_the_decoder_needs():
    frame = np.zeros((16, 24, 3), dtype=np.uint8)
    stream = parse(imagecodecs.jpeg8_encode(frame, level=90, subsampling="422"))
    assert (stream.sof, stream.rows, stream.columns, stream.precision) == (0xC0, 16, 24, 8)
    assert stream.jfif and stream.colour_hint() == "YCbCr" and stream.subsampled



def test_two_streams_joined_into_one_fragment_are_refused(codec, sample):
    """libjpeg-turbo would decode the first and drop the second without a word."""
    syntax, image, data = sample
    refused(codec, data + data, image, syntax, "follow the EOI")


def test_a_marker_inside_the_entropy_coded_data_is_refused(codec, sample):
    """libjpeg-turbo stops at the marker and fills the rest with grey, without an error: the
    stream check must see it, or undecoded bytes would pass as an image."""
    syntax, image, data = sample
    start = entropy_start(data)
    middle = start + (len(data) - start) // 2
    damaged = data[:middle] + b"\xff\xd9" + data[middle:]  # an EOI in the middle of the scan
    refused(codec, damaged, image, syntax)
