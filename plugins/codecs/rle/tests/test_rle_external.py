"""What we encode, decoded by dcmtk (dcmdrle) and GDCM (gdcmconv --raw). Marked slow: they start
programs; skipped if the programs are missing. pydicom's decoder is checked in test_rle_pydicom.

GDCM 3.0.21 is left out where it is wrong or refuses, whoever encoded the frame: 16-bit RGB (it
misorders the segments even of its own RLE), and Bits Stored below Bits Allocated at 8 or 32
bits (an assertion fails inside gdcmconv)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from gantry.pixels import encode_frame
from gantry.uids import RLE_LOSSLESS

CASES = [
    ("MONOCHROME2", 16, 12, 1),
    ("MONOCHROME1", 16, 16, 0),
    ("MONOCHROME2", 8, 7, 1),
    ("MONOCHROME2", 32, 32, 1),
    ("MONOCHROME2", 32, 24, 0),
    ("RGB", 8, 8, 0),
    ("RGB", 16, 16, 0),
    ("YBR_FULL", 8, 8, 0),
]
GDCM_WRONG = {("RGB", 16, 16, 0), ("MONOCHROME2", 8, 7, 1), ("MONOCHROME2", 32, 24, 0)}


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["dcmdrle", "gdcmconv"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}-{'s' if c[3] else 'u'}" for c in CASES])
def test_dcmtk_and_gdcm_decode_ours(kernel, pixel_info, frames, dataset, tmp_path, case, tool):
    import pydicom
    from pydicom.pixels import pixel_array

    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    if tool == "gdcmconv" and case in GDCM_WRONG:
        pytest.skip("GDCM 3.0.21 cannot decode this (see the module docstring)")
    photometric, allocated, stored, signed = case
    info = pixel_info(photometric, rows=24, columns=140, bits_allocated=allocated, bits_stored=stored,
                      pixel_representation=signed)
    frame = frames(info, "random", seed=stored)[0]
    ds = dataset(info, [encode_frame(kernel, frame, info, RLE_LOSSLESS).data])  # one frame: GDCM refuses multi-frame SC
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    source, target = tmp_path / "ours.dcm", tmp_path / "theirs.dcm"
    ds.save_as(source, enforce_file_format=True)
    command = [tool, str(source), str(target)] if tool == "dcmdrle" else [tool, "--raw", str(source), str(target)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr or result.stdout
    np.testing.assert_array_equal(pixel_array(pydicom.dcmread(target), as_rgb=False), frame)
