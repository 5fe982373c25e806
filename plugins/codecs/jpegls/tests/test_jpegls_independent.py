"""What we encode, decoded by others.

- pydicom: it decodes JPEG-LS only through a plugin (pyjpegls, pylibjpeg-libjpeg or GDCM's
  Python binding), and none is installed in this environment, so that check skips here; it runs
  wherever one is.
- dcmtk (dcmdjpls, its own CharLS 1.x fork) and GDCM (gdcmconv --raw): marked slow, they start
  programs; skipped if the programs are missing. dcmtk 3.6.7 cannot decode a precision below 8
  (what we write for Bits Stored 2..7, as the precision is Bits Stored), so those depths are left
  out for it; GDCM decodes them.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from gantry.pixels import EncodeOptions, encode_frame
from gantry.uids import JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS

CASES = [
    # photometric, Bits Allocated, Bits Stored, signed, syntax
    ("MONOCHROME2", 16, 12, 1, JPEG_LS_LOSSLESS),
    ("MONOCHROME2", 16, 16, 1, JPEG_LS_LOSSLESS),
    ("MONOCHROME1", 16, 10, 0, JPEG_LS_LOSSLESS),
    ("MONOCHROME2", 8, 8, 1, JPEG_LS_LOSSLESS),
    ("MONOCHROME2", 8, 6, 0, JPEG_LS_LOSSLESS),
    ("RGB", 16, 15, 0, JPEG_LS_LOSSLESS),
    ("YBR_FULL", 8, 8, 0, JPEG_LS_LOSSLESS),
    ("MONOCHROME2", 16, 12, 1, JPEG_LS_NEAR_LOSSLESS),
    ("MONOCHROME2", 8, 7, 0, JPEG_LS_NEAR_LOSSLESS),
    ("RGB", 8, 8, 0, JPEG_LS_NEAR_LOSSLESS),
]
IDS = [f"{c[0]}-{c[1]}-{c[2]}-{'s' if c[3] else 'u'}-{'near' if c[4] == JPEG_LS_NEAR_LOSSLESS else 'lossless'}" for c in CASES]
NEAR = 2


def encoded_frames(kernel, pixel_info, frames, case, count):
    photometric, allocated, stored, signed, syntax = case
    info = pixel_info(photometric, syntax, rows=24, columns=40, bits_allocated=allocated, bits_stored=stored,
                      pixel_representation=signed, number_of_frames=count)
    near = NEAR if syntax == JPEG_LS_NEAR_LOSSLESS else 0
    originals = frames(info, "random", count=count, seed=stored, margin=near if signed else 0)
    fragments = [encode_frame(kernel, f, info, syntax, EncodeOptions(near=near)).data for f in originals]
    return info, np.stack(originals), fragments, near


def pydicom_can_decode_jpegls() -> bool:
    from pydicom.pixels.decoders import JPEGLSLosslessDecoder

    return JPEGLSLosslessDecoder.is_available


@pytest.mark.skipif(not pydicom_can_decode_jpegls(), reason="pydicom has no JPEG-LS plugin installed here "
                    "(pyjpegls, pylibjpeg-libjpeg or GDCM's Python binding)")
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pydicom_decodes_ours(kernel, pixel_info, frames, dataset, case):
    from pydicom.pixels import pixel_array

    info, originals, fragments, near = encoded_frames(kernel, pixel_info, frames, case, count=2)
    theirs = pixel_array(dataset(info, fragments), as_rgb=False)
    assert np.abs(theirs.astype(np.int64) - originals).max() <= near


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["dcmdjpls", "gdcmconv"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_dcmtk_and_gdcm_decode_ours(kernel, pixel_info, frames, dataset, tmp_path, case, tool):
    import pydicom
    from pydicom.pixels import pixel_array

    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    if tool == "dcmdjpls" and case[2] < 8:
        pytest.skip("dcmtk 3.6.7's JPEG-LS decoder fails on precisions below 8")
    # One frame: gdcmconv refuses multi-frame Secondary Capture.
    info, originals, fragments, near = encoded_frames(kernel, pixel_info, frames, case, count=1)
    ds = dataset(info, fragments)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    source, target = tmp_path / "ours.dcm", tmp_path / "theirs.dcm"
    ds.save_as(source, enforce_file_format=True)
    command = [tool, str(source), str(target)] if tool == "dcmdjpls" else [tool, "--raw", str(source), str(target)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr or result.stdout
    theirs = pixel_array(pydicom.dcmread(target), as_rgb=False)
    assert np.abs(theirs.astype(np.int64) - originals[0]).max() <= near
