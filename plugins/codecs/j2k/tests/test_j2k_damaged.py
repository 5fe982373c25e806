"""Damaged frames raise through ``decode_frame`` as a CodecError naming the provider.

Truncation, insertions and damage to the markers are found (the tile-part lengths, EOC and the
header are checked before OpenJPEG runs, and OpenJPEG is strict about the rest). Damage inside
entropy-coded data cannot always be found: JPEG 2000 has no checksum, so such a frame may decode
to wrong samples of the right shape. Fuzzing (tens of thousands of mutations) found no crash and
no decode slower than 0.05 s, so the decodes here run in-process.
"""

from __future__ import annotations

import numpy as np
import pytest

from gantry import CodecError
from gantry.uids import JPEG2000, JPEG2000_LOSSLESS

SYNTAXES = [pytest.param(JPEG2000_LOSSLESS, id="lossless"), pytest.param(JPEG2000, id="lossy")]
KINDS = [pytest.param(dict(allocated=16, stored=12, signed=True), id="mono12"),
         pytest.param(dict(allocated=8, stored=8, photometric="RGB"), id="rgb8")]


@pytest.fixture
def stored(codec, make_info, pixels):
    """(encoded frame, pixel description with its encoded photometric interpretation)."""
    import attrs

    def make(syntax, options):
        info = make_info(rows=48, columns=40, **options)
        encoded = codec.encode(pixels(info, "smooth"), info, syntax)
        return encoded.data, attrs.evolve(info, photometric_interpretation=encoded.photometric_interpretation)

    return make


def _rejected(codec, data, info, syntax):
    with pytest.raises(CodecError) as caught:
        codec.decode(data, info, syntax)
    assert "j2k-openjpeg" in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("options", KINDS)
def test_truncated_frames_are_rejected(codec, stored, syntax, options):
    data, info = stored(syntax, options)
    cuts = sorted({1, 2, 3, 10, 45, len(data) // 3, len(data) // 2, len(data) - 20, len(data) - 3,
                   len(data) - 2, len(data) - 1})
    for cut in cuts:
        message = _rejected(codec, data[:cut], info, syntax)
        assert "truncated" in message or "not a JPEG 2000 codestream" in message, (cut, message)


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("options", KINDS)
def test_damaged_markers_are_rejected(codec, stored, syntax, options):
    data, info = stored(syntax, options)
    sot = data.index(b"\xff\x90")
    damage = {
        "SOC": 1, "SIZ marker": 3, "SIZ length": 5, "image width": 9, "COD marker": data.index(b"\xff\x52") + 1,
        "SOT marker": sot + 1, "Psot": sot + 7, "EOC": len(data) - 1,
    }
    for what, offset in damage.items():
        broken = bytearray(data)
        broken[offset] ^= 0x5A
        _rejected(codec, bytes(broken), info, syntax)


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_inserted_bytes_are_rejected(codec, stored, syntax):
    data, info = stored(syntax, dict(allocated=16, stored=12))
    middle = len(data) // 2
    _rejected(codec, data[:middle] + b"\x00\x11\x22" + data[middle:], info, syntax)
    _rejected(codec, data + b"junk", info, syntax)


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_empty_and_random_bytes_are_rejected(codec, make_info, syntax):
    info = make_info()
    assert "not a JPEG 2000 codestream" in _rejected(codec, b"", info, syntax)
    rng = np.random.default_rng(7)
    for _ in range(20):
        _rejected(codec, rng.bytes(int(rng.integers(1, 2000))), info, syntax)
    _rejected(codec, b"\xff\x4f\xff\x51" + rng.bytes(300), info, syntax)  # a plausible start


def test_flips_in_entropy_coded_data_never_crash_nor_mislead_on_shape(codec, stored):
    """The documented limit: such damage may go unnoticed, but what comes back is the right shape
    and dtype (the kernel checks it) or an error."""
    data, info = stored(JPEG2000_LOSSLESS, dict(allocated=16, stored=12, signed=True))
    start = data.index(b"\xff\x93") + 2
    rng = np.random.default_rng(11)
    for _ in range(50):
        broken = bytearray(data)
        broken[int(rng.integers(start, len(data) - 2))] ^= int(rng.integers(1, 256))
        try:
            decoded = codec.decode(bytes(broken), info, JPEG2000_LOSSLESS)
        except CodecError:
            continue
        assert decoded.shape == info.frame_shape and decoded.dtype == info.dtype()


@pytest.mark.parametrize(("change", "message"), [
    pytest.param(dict(rows=47), "the dataset says 47x40 of 1", id="rows"),
    pytest.param(dict(columns=41), "the dataset says 48x41 of 1", id="columns"),
    pytest.param(dict(photometric="RGB"), "the dataset says 48x40 of 3", id="samples"),
    pytest.param(dict(allocated=8, stored=8), "holds 12-bit samples; Bits Allocated is 8", id="bits-allocated"),
    pytest.param(dict(stored=10), "outside Bits Stored 10", id="bits-stored"),
])
def test_a_valid_stream_of_another_description_is_rejected(codec, make_info, value_limits, change, message):
    info = make_info(rows=48, columns=40, allocated=16, stored=12, signed=True)
    array = np.zeros(info.frame_shape, info.dtype())
    array[0, :2] = value_limits(info)  # the full signed 12-bit range
    data = codec.encode(array, info, JPEG2000_LOSSLESS).data
    wrong = make_info(**{**dict(rows=48, columns=40, allocated=16, stored=12, signed=True), **change})
    assert message in _rejected(codec, data, wrong, JPEG2000_LOSSLESS)
