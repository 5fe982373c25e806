"""Real DICOM peers, when installed (the workspace Makefile installs Debian's dcmtk and
libgdcm-tools; otherwise these tests skip): DCMTK's dcmdjpeg and GDCM's gdcmconv decode files
holding our frames, and we decode the frames DCMTK's dcmcjpeg writes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gantry.uids import JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1

EXPLICIT_LE = "1.2.840.10008.1.2.1"


def run(tool: str, *arguments: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    result = subprocess.run([tool, *arguments], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{tool} failed: {result.stderr or result.stdout}"


def write(path: Path, info, syntax: str, pixel_data: bytes, frames: int) -> Path:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import SecondaryCaptureImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.SOPClassUID, ds.Modality = SecondaryCaptureImageStorage, "OT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = info.rows, info.columns, info.samples_per_pixel
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = info.bits_allocated, info.bits_stored, info.bits_stored - 1
    ds.PixelRepresentation, ds.PhotometricInterpretation = info.pixel_representation, info.photometric_interpretation
    if info.samples_per_pixel == 3:
        ds.PlanarConfiguration = 0
    ds.NumberOfFrames = frames
    ds.PixelData = pixel_data
    ds["PixelData"].VR = "OW" if syntax == EXPLICIT_LE and info.bits_allocated == 16 else "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


def native_samples(path: Path) -> tuple[np.ndarray, str]:
    """The stored samples of a native file (YBR left YBR) and its Photometric Interpretation."""
    from pydicom import dcmread

    ds = dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == EXPLICIT_LE
    ds.pixel_array_options(as_rgb=False)
    return ds.pixel_array, str(ds.PhotometricInterpretation)


def encapsulated_frames(path: Path) -> tuple[list[bytes], object]:
    from pydicom import dcmread
    from pydicom.encaps import generate_frames

    ds = dcmread(path)
    return list(generate_frames(ds.PixelData, number_of_frames=int(ds.NumberOfFrames or 1))), ds


def ybr_to_rgb(ybr: np.ndarray) -> np.ndarray:
    y, cb, cr = (ybr[..., k].astype(np.float64) for k in range(3))
    cb, cr = cb - 128, cr - 128
    return np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=-1)


OURS = [  # syntax, Bits Allocated, Bits Stored, signed, interpretation
    (JPEG_LOSSLESS_SV1, 8, 8, False, "MONOCHROME2"),
    (JPEG_LOSSLESS_SV1, 16, 12, False, "MONOCHROME2"),
    (JPEG_LOSSLESS_SV1, 16, 16, True, "MONOCHROME2"),
    (JPEG_LOSSLESS, 16, 12, True, "MONOCHROME1"),
    (JPEG_LOSSLESS_SV1, 16, 10, False, "MONOCHROME2"),
    (JPEG_LOSSLESS_SV1, 8, 8, False, "RGB"),
    (JPEG_LOSSLESS_SV1, 8, 8, False, "YBR_FULL"),
    (JPEG_LOSSLESS_SV1, 16, 16, False, "RGB"),
    (JPEG_LOSSLESS_SV1, 16, 12, False, "YBR_FULL"),
    (JPEG_BASELINE, 8, 8, False, "MONOCHROME2"),
    (JPEG_BASELINE, 8, 8, False, "RGB"),
    (JPEG_EXTENDED, 16, 12, False, "MONOCHROME2"),
]
OUR_IDS = [f"{s[-2:]}-{pi}-{'s' if sg else 'u'}{b}" for s, _, b, sg, pi in OURS]


@pytest.mark.parametrize("tool", ["dcmdjpeg", "gdcmconv"])
@pytest.mark.parametrize("syntax,allocated,stored,signed,pi", OURS, ids=OUR_IDS)
def test_peers_decode_our_frames(tmp_path, codec, info, frames, tool, syntax, allocated, stored, signed, pi):
    # gdcmconv refuses to write a multi-frame Secondary Capture object: one frame for it.
    count = 2 if tool == "dcmdjpeg" else 1
    image = info(bits_allocated=allocated, bits_stored=stored, pixel_representation=int(signed),
                 photometric_interpretation=pi, number_of_frames=count)
    lossless = syntax in (JPEG_LOSSLESS, JPEG_LOSSLESS_SV1)
    stack = frames(image, "random" if lossless else "gradient", count)
    results = [codec.encode(frame, image, syntax) for frame in stack]
    from pydicom.encaps import encapsulate

    written = info(bits_allocated=allocated, bits_stored=stored, pixel_representation=int(signed),
                   photometric_interpretation=results[0].photometric_interpretation)
    source = write(tmp_path / "in.dcm", written, syntax, encapsulate([r.data for r in results]), count)
    target = tmp_path / "out.dcm"
    if tool == "dcmdjpeg":
        run(tool, "+cn", str(source), str(target))  # +cn: no colour conversion, samples as stored
    else:
        run(tool, "--raw", str(source), str(target))
    theirs, their_pi = native_samples(target)
    theirs = theirs.reshape(stack.shape)
    if lossless:
        np.testing.assert_array_equal(theirs, stack)
        return
    ours = np.stack([codec.decode(r.data, written, syntax) for r in results])
    if their_pi == "RGB" and written.photometric_interpretation != "RGB":
        ours = np.clip(np.rint(ybr_to_rgb(ours)), 0, 255)  # the peer converted YBR to RGB
    assert np.abs(theirs.astype(np.int32) - ours.astype(np.int32)).max() <= 3


THEIRS = [  # dcmcjpeg options, Bits Allocated, Bits Stored, signed, interpretation
    (("+e1",), 8, 8, False, "MONOCHROME2"),
    (("+e1",), 16, 16, True, "MONOCHROME2"),
    (("+e1",), 16, 12, False, "MONOCHROME1"),
    (("+el", "+sv", "6"), 16, 12, True, "MONOCHROME2"),
    (("+el", "+sv", "4"), 16, 16, False, "MONOCHROME2"),
    (("+e1",), 8, 8, False, "RGB"),
    (("+eb",), 8, 8, False, "MONOCHROME2"),
    (("+eb",), 8, 8, False, "RGB"),
    (("+ee",), 16, 12, False, "MONOCHROME2"),
]
THEIR_IDS = [f"{''.join(o)}-{pi}-{'s' if sg else 'u'}{b}" for o, _, b, sg, pi in THEIRS]


@pytest.mark.parametrize("options,allocated,stored,signed,pi", THEIRS, ids=THEIR_IDS)
def test_we_decode_dcmtk_frames(tmp_path, codec, info, frames, options, allocated, stored, signed, pi):
    image = info(bits_allocated=allocated, bits_stored=stored, pixel_representation=int(signed),
                 photometric_interpretation=pi, number_of_frames=2)
    lossless = options[0] in ("+e1", "+el")
    stack = frames(image, "random" if lossless else "gradient", 2)
    source = write(tmp_path / "native.dcm", image, EXPLICIT_LE, stack.tobytes(), 2)
    target = tmp_path / "jpeg.dcm"
    run("dcmcjpeg", *options, str(source), str(target))
    encoded, ds = encapsulated_frames(target)
    syntax = str(ds.file_meta.TransferSyntaxUID)
    declared = info(bits_allocated=int(ds.BitsAllocated), bits_stored=int(ds.BitsStored),
                    pixel_representation=int(ds.PixelRepresentation),
                    photometric_interpretation=str(ds.PhotometricInterpretation))
    decoded = np.stack([codec.decode(frame, declared, syntax) for frame in encoded])
    if lossless:
        np.testing.assert_array_equal(decoded, stack)
        return
    if declared.photometric_interpretation.startswith("YBR"):
        decoded = ybr_to_rgb(decoded)
    diff = np.abs(decoded.astype(np.float64) - stack.astype(np.float64))
    assert diff.mean() <= (2.0 if stored == 12 else 1.5) and diff.max() <= 12


def test_we_decode_streams_with_restart_markers(tmp_path, codec, info, frames):
    """RSTn markers in the entropy-coded data (written by the PVRG codec, as libjpeg-turbo through
    imagecodecs cannot): the frame decodes as libjpeg-turbo reads it."""
    import imagecodecs

    image = info(bits_allocated=8, bits_stored=8)
    frame = frames(image, "gradient")[0]
    frame.tofile(tmp_path / "frame.raw")
    run("pvrg-jpeg", "-iw", str(image.columns), "-ih", str(image.rows), "-r", "2",
        "-s", str(tmp_path / "frame.jpg"), str(tmp_path / "frame.raw"))
    data = (tmp_path / "frame.jpg").read_bytes()
    assert any(bytes((0xFF, marker)) in data for marker in range(0xD0, 0xD8))
    decoded = codec.decode(data, image, JPEG_BASELINE)
    np.testing.assert_array_equal(decoded, imagecodecs.jpeg8_decode(data))
    assert np.abs(decoded.astype(np.int32) - frame.astype(np.int32)).max() <= 3


def test_we_decode_progressive_streams(tmp_path, codec, info, frames):
    """Several scans, with tables between them (DCMTK's progressive process, a retired syntax
    decoded here as JPEG Extended)."""
    image = info(bits_allocated=8, bits_stored=8, number_of_frames=1)
    stack = frames(image, "gradient", 1)
    source = write(tmp_path / "native.dcm", image, EXPLICIT_LE, stack.tobytes(), 1)
    run("dcmcjpeg", "+ep", str(source), str(tmp_path / "jpeg.dcm"))
    encoded, _ = encapsulated_frames(tmp_path / "jpeg.dcm")
    assert encoded[0].count(b"\xff\xda") > 1  # SOS markers (entropy-coded data holds no 0xFF 0xDA)
    decoded = codec.decode(encoded[0], image, JPEG_EXTENDED)
    assert np.abs(decoded.astype(np.int32) - stack[0].astype(np.int32)).max() <= 12
