"""Independent cross-checks with pydicom's own RLE codec (pure numpy/Python, always available):
pydicom decodes what we encode, and we decode what pydicom encodes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gantry.pixels import decode_frame, encode_frame
from gantry.uids import RLE_LOSSLESS

CASES = [
    pytest.param(photometric, allocated, stored, signed, id=f"{photometric}-{allocated}-{stored}-{'s' if signed else 'u'}")
    for photometric, (allocated, stored), signed in itertools.product(
        ("MONOCHROME2", "RGB", "YBR_FULL"), ((8, 8), (8, 5), (16, 12), (16, 16), (32, 32)), (0, 1)
    )
    if (photometric == "MONOCHROME2" or (not signed and allocated <= 16))
    and not (photometric == "YBR_FULL" and allocated != 8)
]


@pytest.mark.parametrize(("photometric", "allocated", "stored", "signed"), CASES)
def test_pydicom_decodes_ours(kernel, pixel_info, frames, dataset, photometric, allocated, stored, signed):
    info = pixel_info(photometric, rows=16, columns=140, bits_allocated=allocated, bits_stored=stored,
                      pixel_representation=signed, number_of_frames=3)
    originals = frames(info, "random", count=2, seed=stored) + frames(info, "gradient", count=1)
    fragments = [encode_frame(kernel, frame, info, RLE_LOSSLESS).data for frame in originals]
    ds = dataset(info, fragments)
    # pydicom would convert YBR_FULL to RGB by default; the samples as stored are compared.
    theirs = ds.pixel_array if photometric != "YBR_FULL" else _as_stored(ds)
    np.testing.assert_array_equal(theirs, np.stack(originals))


@pytest.mark.parametrize(("photometric", "allocated", "stored", "signed"), [c for c in CASES if c.values[1] != 32])
def test_we_decode_pydicoms(kernel, pixel_info, frames, photometric, allocated, stored, signed):
    from pydicom.pixels.encoders import RLELosslessEncoder

    info = pixel_info(photometric, rows=16, columns=140, bits_allocated=allocated, bits_stored=stored,
                      pixel_representation=signed)
    for frame in frames(info, "random", count=1, seed=3) + frames(info, "gradient"):
        theirs = RLELosslessEncoder.encode(
            frame, rows=info.rows, columns=info.columns, samples_per_pixel=info.samples_per_pixel,
            bits_allocated=allocated, bits_stored=stored, pixel_representation=signed,
            photometric_interpretation=photometric, number_of_frames=1, planar_configuration=0,
        )
        np.testing.assert_array_equal(decode_frame(kernel, theirs, info), frame)


def _as_stored(ds):
    from pydicom.pixels import pixel_array

    return pixel_array(ds, as_rgb=False)
