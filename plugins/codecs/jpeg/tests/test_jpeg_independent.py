"""What our encoder writes, read by decoders that are not ours.

- pydicom's own JPEG decoders, through a real Dataset with encapsulated Pixel Data, when one of
  their plugins is installed (pylibjpeg + pylibjpeg-libjpeg, Pillow or GDCM). None is a
  dependency of this project, so in its environment these tests skip, saying so.
- imagecodecs' jpegsof3 decoder (Chris Rorden's, from dcm2niix): a lossless decoder that shares
  no code with libjpeg-turbo. Always available.
"""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest

from gantry.uids import JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1

LOSSLESS = [  # (Bits Allocated, Bits Stored, signed, interpretation)
    (8, 8, False, "MONOCHROME2"), (16, 12, False, "MONOCHROME2"), (16, 16, False, "MONOCHROME1"),
    (16, 12, True, "MONOCHROME2"), (16, 16, True, "MONOCHROME2"), (8, 8, True, "MONOCHROME2"),
    (16, 10, False, "MONOCHROME2"), (8, 8, False, "RGB"), (16, 16, False, "RGB"),
    (8, 8, False, "YBR_FULL"), (16, 12, False, "YBR_FULL"), (16, 16, False, "YBR_FULL"),
]
IDS = [f"{pi}-{'s' if signed else 'u'}{stored}of{allocated}" for allocated, stored, signed, pi in LOSSLESS]


def pydicom_array(encoded: list[bytes], info, syntax: str) -> np.ndarray:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import SecondaryCaptureImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, generate_uid()
    ds.Rows, ds.Columns, ds.SamplesPerPixel = info.rows, info.columns, info.samples_per_pixel
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = info.bits_allocated, info.bits_stored, info.bits_stored - 1
    ds.PixelRepresentation, ds.PhotometricInterpretation = info.pixel_representation, info.photometric_interpretation
    if info.samples_per_pixel == 3:
        ds.PlanarConfiguration = 0
    ds.NumberOfFrames = len(encoded)
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    # as_rgb=False: the samples as stored, YBR left YBR, as our decoder returns them.
    ds.pixel_array_options(as_rgb=False)
    return ds.pixel_array


def require_pydicom_decoder(syntax: str) -> None:
    from pydicom.pixels.decoders.base import get_decoder

    decoder = get_decoder(syntax)
    if not decoder.is_available:
        pytest.skip(f"pydicom has no JPEG decoder here for {syntax}: {'; '.join(decoder.missing_dependencies)}")


@pytest.mark.parametrize("syntax", [JPEG_LOSSLESS, JPEG_LOSSLESS_SV1], ids=["p14", "sv1"])
@pytest.mark.parametrize("allocated,stored,signed,pi", LOSSLESS, ids=IDS)
def test_pydicom_reads_our_lossless_frames_exactly(codec, info, frames, syntax, allocated, stored, signed, pi):
    require_pydicom_decoder(syntax)
    image = info(bits_allocated=allocated, bits_stored=stored, pixel_representation=int(signed),
                 photometric_interpretation=pi, number_of_frames=2)
    stack = frames(image, "random", 2)
    encoded = [codec.encode(frame, image, syntax).data for frame in stack]
    np.testing.assert_array_equal(pydicom_array(encoded, image, syntax), stack)


LOSSY = [(JPEG_BASELINE, 8, 8, "MONOCHROME2"), (JPEG_BASELINE, 8, 8, "RGB"), (JPEG_BASELINE, 8, 8, "YBR_FULL"),
         (JPEG_EXTENDED, 8, 8, "MONOCHROME1"), (JPEG_EXTENDED, 16, 12, "MONOCHROME2")]


@pytest.mark.parametrize("syntax,allocated,stored,pi", LOSSY,
                         ids=[f"{s[-2:]}-{pi}-{b}" for s, _, b, pi in LOSSY])
def test_pydicom_reads_our_lossy_frames_as_we_do(codec, info, frames, syntax, allocated, stored, pi):
    """Lossy decoders may round differently (upsampling, IDCT): within 2 of ours."""
    require_pydicom_decoder(syntax)
    image = info(bits_allocated=allocated, bits_stored=stored, photometric_interpretation=pi, number_of_frames=2)
    results = [codec.encode(frame, image, syntax) for frame in frames(image, "gradient", 2)]
    written = info(bits_allocated=allocated, bits_stored=stored, number_of_frames=2,
                   photometric_interpretation=results[0].photometric_interpretation)
    ours = np.stack([codec.decode(r.data, written, syntax) for r in results])
    theirs = pydicom_array([r.data for r in results], written, syntax)
    assert theirs.shape == ours.shape
    assert np.abs(theirs.astype(np.int32) - ours.astype(np.int32)).max() <= 2


@pytest.mark.parametrize("allocated,stored,signed,pi", LOSSLESS, ids=IDS)
def test_jpegsof3_reads_our_lossless_frames_exactly(codec, info, frames, allocated, stored, signed, pi):
    image = info(bits_allocated=allocated, bits_stored=stored, pixel_representation=int(signed),
                 photometric_interpretation=pi)
    frame = frames(image, "random")[0]
    raw = imagecodecs.jpegsof3_decode(codec.encode(frame, image, JPEG_LOSSLESS_SV1).data)
    # jpegsof3 returns the unsigned stored patterns; DICOM's two's complement sits within them.
    expected = frame.astype(np.int64) & ((1 << stored) - 1)
    np.testing.assert_array_equal(raw.astype(np.int64), expected)
