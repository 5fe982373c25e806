"""HTJ2K Lossless (1.2.840.10008.1.2.4.201) and HTJ2K Lossless RPCL (.202): bit-exact round trips
for every combination the syntaxes allow, and a clear refusal for every one they do not (PS3.5
8.2.14, which has the same table as 8.2.4 for JPEG 2000)."""

from __future__ import annotations

import numpy as np
import pytest

from gantry import CodecError
from gantry.uids import HTJ2K_LOSSLESS, HTJ2K_LOSSLESS_RPCL
from gantry_j2k import codestream

# (Bits Allocated, Bits Stored): the usual depths and odd ones.
DEPTHS = [(8, 8), (16, 12), (16, 16), (8, 1), (8, 5), (16, 10), (16, 15)]
PHOTOMETRICS = ["MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT",
                "YBR_ICT"]
# What the encoded data is: RGB samples (YBR_RCT / YBR_ICT arrays are RGB) get the reversible
# colour transform; YBR_FULL (YBR_FULL_422 arrays are full-resolution YBR_FULL) is kept as is.
ENCODED_AS = {"RGB": "YBR_RCT", "YBR_RCT": "YBR_RCT", "YBR_ICT": "YBR_RCT", "YBR_FULL": "YBR_FULL",
              "YBR_FULL_422": "YBR_FULL"}
# (content of each frame): one random frame, one gradient frame, three frames.
FRAMES = {"random": ["random"], "gradient": ["gradient"], "3frames": ["random", "gradient", "random"]}
SYNTAXES = [pytest.param(HTJ2K_LOSSLESS, id="201"), pytest.param(HTJ2K_LOSSLESS_RPCL, id="202")]


def allowed(photometric: str, signed: bool) -> bool:
    return not signed or photometric in ("MONOCHROME1", "MONOCHROME2")


CASES = [pytest.param(depth, signed, photometric, frames,
                      id=f"{depth[0]}-{depth[1]}bit-{'signed' if signed else 'unsigned'}-{photometric}-{frames}")
         for depth in DEPTHS for signed in (False, True) for photometric in PHOTOMETRICS for frames in FRAMES
         if allowed(photometric, signed)]
REFUSED = [pytest.param(depth, photometric, id=f"{depth[0]}-{depth[1]}bit-signed-{photometric}")
           for depth in DEPTHS for photometric in PHOTOMETRICS if not allowed(photometric, True)]


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize(("depth", "signed", "photometric", "frames"), CASES)
def test_round_trip_is_bit_exact(codec, make_info, pixels, syntax, depth, signed, photometric, frames):
    info = make_info(allocated=depth[0], stored=depth[1], signed=signed, photometric=photometric,
                     frames=len(FRAMES[frames]))
    for index, content in enumerate(FRAMES[frames]):
        array = pixels(info, content, seed=index)
        encoded = codec.encode(array, info, syntax)
        assert encoded.photometric_interpretation == ENCODED_AS.get(photometric, photometric)
        assert not encoded.lossy and encoded.method == ""
        stream = codestream.read(encoded.data)  # a raw codestream (SOC first), not JP2
        assert (stream.precision, stream.signed, stream.reversible) == (depth[1], signed, True)
        assert stream.mct == (encoded.photometric_interpretation == "YBR_RCT")
        assert codestream.CAP in stream.markers  # HTJ2K (Part 15) capabilities
        assert (codestream.TLM in stream.markers) == (syntax == HTJ2K_LOSSLESS_RPCL)
        decoded = codec.decode(encoded.data, info, syntax, encoded.photometric_interpretation)
        assert decoded.dtype == info.dtype() and decoded.shape == info.frame_shape
        np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize(("depth", "photometric"), REFUSED)
def test_signed_colour_and_palette_are_refused(codec, make_info, syntax, depth, photometric):
    info = make_info(allocated=depth[0], stored=depth[1], signed=True, photometric=photometric)
    array = np.zeros(info.frame_shape, info.dtype())
    with pytest.raises(CodecError, match="Pixel Representation 1") as caught:
        codec.encode(array, info, syntax)
    assert "htj2k-imagecodecs" in str(caught.value)


@pytest.mark.parametrize(("options", "message"), [
    pytest.param(dict(photometric="YBR_PARTIAL_420"), "YBR_PARTIAL_420 cannot be encoded", id="ybr-partial-420"),
    pytest.param(dict(photometric="ARGB"), "ARGB cannot be encoded", id="argb"),
    pytest.param(dict(allocated=32, stored=24), "Bits Stored 24: this encoder handles 1 to 16", id="24-bit"),
])
def test_what_the_syntax_or_encoder_cannot_hold_is_refused(codec, make_info, options, message):
    info = make_info(**options)
    with pytest.raises(CodecError, match=message):
        codec.encode(np.zeros(info.frame_shape, info.dtype()), info, HTJ2K_LOSSLESS)


def test_samples_per_pixel_must_match_the_photometric_interpretation(codec, make_info):
    import attrs

    info = attrs.evolve(make_info(photometric="RGB"), samples_per_pixel=1)
    with pytest.raises(CodecError, match="RGB needs Samples per Pixel 3, not 1"):
        codec.encode(np.zeros(info.frame_shape, info.dtype()), info, HTJ2K_LOSSLESS)


@pytest.mark.parametrize(("array", "message"), [
    pytest.param(np.full((23, 17), 4096, np.uint16), "outside the range of Bits Stored 12", id="above-bits-stored"),
    pytest.param(np.zeros((17, 23), np.uint16), r"array shape \(17, 23\) does not match", id="wrong-shape"),
    pytest.param(np.zeros((23, 17), np.float32), "integer samples expected", id="float"),
])
def test_arrays_that_do_not_match_the_description_are_refused(codec, make_info, array, message):
    info = make_info(allocated=16, stored=12)
    with pytest.raises(CodecError, match=message):
        codec.encode(array, info, HTJ2K_LOSSLESS)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (7, 1), (300, 257)], ids=str)
def test_odd_and_large_sizes(codec, make_info, pixels, shape):
    info = make_info(rows=shape[0], columns=shape[1], allocated=16, stored=12, signed=True)
    array = pixels(info, "random", seed=3)
    encoded = codec.encode(array, info, HTJ2K_LOSSLESS)
    np.testing.assert_array_equal(codec.decode(encoded.data, info, HTJ2K_LOSSLESS), array)


def test_decodes_a_frame_padded_to_even_length(codec, make_info, pixels):
    """Fragments have even lengths: an odd codestream arrives with one 0x00 after EOC."""
    info = make_info()
    for seed in range(6):
        array = pixels(info, "random", seed=seed)
        data = codec.encode(array, info, HTJ2K_LOSSLESS).data
        if len(data) % 2:
            np.testing.assert_array_equal(codec.decode(data + b"\x00", info, HTJ2K_LOSSLESS), array)
            return
    pytest.fail("no odd-length codestream in six tries")
