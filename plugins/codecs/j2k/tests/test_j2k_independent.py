"""Independent decoders and encoders against ours.

- Ours -> pydicom: frames we encode, encapsulated in a real dataset, read by ``ds.pixel_array``
  (pydicom's JPEG 2000 path over pylibjpeg-openjpeg, a separate OpenJPEG build).
- pylibjpeg-openjpeg's encoder -> ours: streams we did not write decode to the original.
- Streams whose header differs from the dataset in the ways real files do (precision above Bits
  Stored, signed pixels written as unsigned samples, a JP2 wrapper) still decode correctly.
"""

from __future__ import annotations

import numpy as np
import pytest

from gantry import CodecError
from gantry.uids import JPEG2000, JPEG2000_LOSSLESS

LOSSLESS = [
    dict(allocated=8, stored=8),
    dict(allocated=16, stored=12, signed=True),
    dict(allocated=16, stored=16),
    dict(allocated=16, stored=16, signed=True),
    dict(allocated=8, stored=5, photometric="MONOCHROME1"),
    dict(allocated=16, stored=15, signed=True),
    dict(allocated=8, stored=8, photometric="RGB"),
    dict(allocated=16, stored=12, photometric="RGB"),
    dict(allocated=16, stored=16, photometric="YBR_FULL"),
    dict(allocated=8, stored=8, photometric="PALETTE COLOR"),
]


def _id(options: dict) -> str:
    return "-".join(str(v) for v in options.values())


@pytest.mark.parametrize("options", LOSSLESS, ids=_id)
@pytest.mark.parametrize("frames", [1, 3])
def test_pydicom_reads_our_lossless_frames(codec, make_info, pixels, pydicom_decode, options, frames):
    info = make_info(rows=31, columns=26, frames=frames, **options)
    arrays = [pixels(info, "random" if index % 2 == 0 else "gradient", seed=index) for index in range(frames)]
    encoded = [codec.encode(array, info, JPEG2000_LOSSLESS) for array in arrays]
    theirs = pydicom_decode([e.data for e in encoded], info, JPEG2000_LOSSLESS,
                            encoded[0].photometric_interpretation)
    np.testing.assert_array_equal(theirs, np.stack(arrays) if frames > 1 else arrays[0])


@pytest.mark.parametrize("options", [dict(allocated=16, stored=12), dict(allocated=16, stored=16, signed=True),
                                     dict(allocated=8, stored=8, photometric="RGB")], ids=_id)
def test_pydicom_reads_our_lossy_frames_as_we_do(codec, make_info, pixels, pydicom_decode, options):
    info = make_info(rows=64, columns=64, **options)
    encoded = codec.encode(pixels(info, "smooth"), info, JPEG2000)
    ours = codec.decode(encoded.data, info, JPEG2000, encoded.photometric_interpretation)
    theirs = pydicom_decode([encoded.data], info, JPEG2000, encoded.photometric_interpretation)
    assert np.abs(theirs.astype(np.int64) - ours).max() <= 1  # two OpenJPEG builds: rounding at most


@pytest.mark.parametrize(("options", "mct"), [
    (dict(allocated=16, stored=12, signed=True), False),
    (dict(allocated=8, stored=7), False),
    (dict(allocated=8, stored=8, photometric="RGB"), True),
], ids=["12bit-signed", "7bit", "rgb-mct"])
def test_we_read_pylibjpeg_openjpeg_streams(codec, make_info, pixels, options, mct):
    import openjpeg

    info = make_info(rows=40, columns=33, **options)
    array = pixels(info, "random")
    data = openjpeg.encode(array, bits_stored=info.bits_stored, use_mct=mct,
                           photometric_interpretation=1 if mct else 2)  # RGB, MONOCHROME
    photometric = "YBR_RCT" if mct else info.photometric_interpretation
    np.testing.assert_array_equal(codec.decode(data, info, JPEG2000_LOSSLESS, photometric), array)


def test_precision_above_bits_stored_decodes_when_the_values_fit(codec, make_info, pixels):
    import imagecodecs

    info = make_info(allocated=16, stored=12)
    array = pixels(info, "random")
    data = imagecodecs.jpeg2k_encode(array, level=0, codecformat="J2K", reversible=True)  # precision 16
    np.testing.assert_array_equal(codec.decode(data, info, JPEG2000_LOSSLESS), array)
    too_big = imagecodecs.jpeg2k_encode(array | 0x8000, level=0, codecformat="J2K", reversible=True)
    with pytest.raises(CodecError, match="outside Bits Stored 12"):
        codec.decode(too_big, info, JPEG2000_LOSSLESS)


def test_signed_pixels_written_as_unsigned_samples_are_sign_extended(codec, make_info, pixels):
    """Some encoders wrote Pixel Representation 1 data as unsigned samples of its bit pattern;
    pydicom reinterprets them and so do we."""
    import imagecodecs

    info = make_info(allocated=16, stored=12, signed=True)
    array = pixels(info, "random")
    pattern = (array.astype(np.int32) & 0xFFF).astype(np.uint16)
    data = imagecodecs.jpeg2k_encode(pattern, level=0, codecformat="J2K", bitspersample=12, reversible=True)
    np.testing.assert_array_equal(codec.decode(data, info, JPEG2000_LOSSLESS), array)


def test_a_jp2_wrapped_frame_is_read(codec, make_info, pixels):
    import imagecodecs

    info = make_info(allocated=8, stored=8)
    array = pixels(info, "random")
    data = imagecodecs.jpeg2k_encode(array, level=0, codecformat="JP2", reversible=True)
    assert data[4:8] == b"jP  "
    np.testing.assert_array_equal(codec.decode(data, info, JPEG2000_LOSSLESS), array)


def test_decodes_24_bit_streams_it_does_not_encode(codec, make_info, pixels):
    import imagecodecs

    info = make_info(allocated=32, stored=24)
    array = pixels(info, "random")
    data = imagecodecs.jpeg2k_encode(array, level=0, codecformat="J2K", bitspersample=24, reversible=True)
    np.testing.assert_array_equal(codec.decode(data, info, JPEG2000_LOSSLESS), array)
