"""Independent decoders and encoders against ours.

- Ours -> pydicom: frames we encode, encapsulated in a real dataset, read by ``ds.pixel_array``
  (pydicom's HTJ2K path over pylibjpeg-openjpeg, a separate OpenJPEG build).
- Ours -> OpenJPH (``imagecodecs.htj2k_decode``): a second, unrelated HTJ2K decoder reads our
  lossless streams, including those whose SIZ precision we rewrote to Bits Stored.
- OpenJPH's own streams -> ours: with its default precision (8 or 16 bits, whatever Bits Stored).
"""

from __future__ import annotations

import numpy as np
import pytest

from gantry import CodecError
from gantry.uids import HTJ2K, HTJ2K_LOSSLESS, HTJ2K_LOSSLESS_RPCL

LOSSLESS = [
    dict(allocated=8, stored=8),
    dict(allocated=16, stored=12, signed=True),
    dict(allocated=16, stored=12),
    dict(allocated=16, stored=16),
    dict(allocated=16, stored=16, signed=True),
    dict(allocated=8, stored=5, photometric="MONOCHROME1"),
    dict(allocated=8, stored=3, signed=True),
    dict(allocated=16, stored=15, signed=True),
    dict(allocated=8, stored=8, photometric="RGB"),
    dict(allocated=16, stored=12, photometric="RGB"),
    dict(allocated=16, stored=16, photometric="RGB"),
    dict(allocated=16, stored=10, photometric="YBR_FULL"),
    dict(allocated=8, stored=8, photometric="PALETTE COLOR"),
]
SYNTAXES = [pytest.param(HTJ2K_LOSSLESS, id="201"), pytest.param(HTJ2K_LOSSLESS_RPCL, id="202")]


def _id(options: dict) -> str:
    return "-".join(str(v) for v in options.values())


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("options", LOSSLESS, ids=_id)
@pytest.mark.parametrize("frames", [1, 3])
def test_pydicom_reads_our_lossless_frames(codec, make_info, pixels, pydicom_decode, syntax, options, frames):
    info = make_info(rows=31, columns=26, frames=frames, **options)
    arrays = [pixels(info, "random" if index % 2 == 0 else "gradient", seed=index) for index in range(frames)]
    encoded = [codec.encode(array, info, syntax) for array in arrays]
    theirs = pydicom_decode([e.data for e in encoded], info, syntax, encoded[0].photometric_interpretation)
    np.testing.assert_array_equal(theirs, np.stack(arrays) if frames > 1 else arrays[0])


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("options", LOSSLESS, ids=_id)
def test_openjph_reads_our_lossless_frames(codec, make_info, pixels, syntax, options):
    import imagecodecs

    info = make_info(rows=37, columns=29, **options)
    array = pixels(info, "random")
    theirs = imagecodecs.htj2k_decode(codec.encode(array, info, syntax).data, planar=False)  # else YBR_FULL is planar
    assert theirs.shape == array.shape
    np.testing.assert_array_equal(theirs.astype(np.int64), array)


@pytest.mark.parametrize("options", [dict(allocated=16, stored=12), dict(allocated=16, stored=16, signed=True),
                                     dict(allocated=8, stored=8, photometric="RGB"), dict(allocated=16, stored=10)],
                         ids=_id)
def test_pydicom_and_openjph_read_our_lossy_frames_as_we_do(codec, make_info, pixels, pydicom_decode, options):
    import imagecodecs

    info = make_info(rows=64, columns=64, **options)
    encoded = codec.encode(pixels(info, "smooth"), info, HTJ2K)
    ours = codec.decode(encoded.data, info, HTJ2K, encoded.photometric_interpretation)
    theirs = pydicom_decode([encoded.data], info, HTJ2K, encoded.photometric_interpretation)
    assert np.abs(theirs.astype(np.int64) - ours).max() <= 1  # two OpenJPEG builds: rounding at most
    openjph = imagecodecs.htj2k_decode(encoded.data)  # no saturation in these images, so no wrap
    assert np.abs(openjph.astype(np.int64) - ours).max() <= 2  # float rounding differs between decoders


@pytest.mark.parametrize("options", [dict(allocated=16, stored=12), dict(allocated=16, stored=12, signed=True),
                                     dict(allocated=8, stored=6), dict(allocated=16, stored=12, photometric="RGB")],
                         ids=_id)
def test_we_read_openjph_streams_at_its_default_precision(codec, make_info, pixels, options):
    import imagecodecs

    info = make_info(rows=40, columns=33, **options)
    array = pixels(info, "random")
    data = imagecodecs.htj2k_encode(array)  # precision 8 or 16, colour transform for RGB
    photometric = "YBR_RCT" if info.samples_per_pixel == 3 else info.photometric_interpretation
    np.testing.assert_array_equal(codec.decode(data, info, HTJ2K_LOSSLESS, photometric), array)


def test_values_beyond_bits_stored_in_a_wider_stream_are_rejected(codec, make_info, pixels):
    import imagecodecs

    info = make_info(allocated=16, stored=12)
    data = imagecodecs.htj2k_encode(pixels(info, "random") | 0x8000)  # 16-bit samples
    with pytest.raises(CodecError, match="outside Bits Stored 12"):
        codec.decode(data, info, HTJ2K_LOSSLESS)
