"""Compressed input: lossless syntaxes come back in the same syntax, redacted; lossy ones native.

Inputs are made with gantry-transcode from the corpus ultrasound; outputs are checked with the
kernel's decoders and, independently, with pydicom's own (pylibjpeg, pyjpegls).
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames

from gantry.pixels import PixelInfo, decode_frame
from gantry.testing.datasets import make_dataset, write_dataset
from gantry.testing.phi_corpus import BURNED_IN_ZONE
from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, JPEG_BASELINE, JPEG_LS_LOSSLESS, RLE_LOSSLESS
from gantry_redact.action import apply
from gantry_transcode.transcode import transcode_file

TOP, LEFT, BOTTOM, RIGHT = BURNED_IN_ZONE


def _transcoded(kernel, source, folder, syntax):
    result = transcode_file(kernel, source, folder / f"{syntax}.dcm", syntax)
    assert result.ok, result.reason
    return pydicom.dcmread(result.destination)


def _kernel_frames(kernel, dataset):
    info = PixelInfo.from_dataset(dataset)
    return [decode_frame(kernel, frame, info)
            for frame in generate_frames(dataset.PixelData, number_of_frames=info.number_of_frames)]


def _reread(dataset, folder):
    path = folder / "redacted.dcm"
    dataset.save_as(path, enforce_file_format=True)
    return pydicom.dcmread(path)


@pytest.mark.parametrize("syntax", [RLE_LOSSLESS, JPEG_LS_LOSSLESS])
def test_lossless_input_is_redacted_in_the_same_syntax(installed_kernel, tmp_path, us_file, machine, context,
                                                        syntax):
    original = pydicom.dcmread(us_file).pixel_array
    dataset = _transcoded(installed_kernel, us_file, tmp_path, syntax)
    ctx = context(installed_kernel, machines=[machine])
    apply(dataset, None, ctx)
    assert dataset.file_meta.TransferSyntaxUID == syntax
    expected = original.copy()
    expected[TOP:BOTTOM, LEFT:RIGHT] = 0
    [frame] = _kernel_frames(installed_kernel, dataset)
    assert np.array_equal(frame, expected)
    written = _reread(dataset, tmp_path)
    assert written.file_meta.TransferSyntaxUID == syntax
    assert np.array_equal(written.pixel_array, expected)  # pydicom's own decoder agrees
    assert written.BurnedInAnnotation == "NO" and ctx.used_options == {"clean-pixel-data"}


def test_every_frame_of_a_multiframe_rle_image_is_redacted(installed_kernel, tmp_path, context):
    source = make_dataset(modality="US", rows=24, columns=32, bits_allocated=8, frames=3, seed=7)
    path = write_dataset(source, tmp_path / "multi.dcm")
    dataset = _transcoded(installed_kernel, path, tmp_path, RLE_LOSSLESS)
    ctx = context(installed_kernel, machines=[{"match": {"Modality": "US"}, "zones": [[1, 2, 9, 30]]}])
    apply(dataset, None, ctx)
    expected = np.frombuffer(source.PixelData, dtype=np.uint8).reshape(3, 24, 32).copy()
    expected[:, 1:9, 2:30] = 0
    frames = _kernel_frames(installed_kernel, dataset)
    assert len(frames) == 3 and np.array_equal(np.stack(frames), expected)
    assert len(list(generate_frames(dataset.PixelData, number_of_frames=3))) == 3  # one fragment per frame
    assert ctx.notes == ["pixels redacted: 1 zones on 3 frames"]


def test_lossy_input_is_written_native_and_stays_marked_lossy(installed_kernel, tmp_path, us_file, machine,
                                                             context):
    dataset = _transcoded(installed_kernel, us_file, tmp_path, JPEG_BASELINE)
    assert dataset.LossyImageCompression == "01"
    [decoded] = _kernel_frames(installed_kernel, dataset)
    ctx = context(installed_kernel, machines=[machine])
    apply(dataset, None, ctx)
    assert dataset.file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN
    assert dataset.LossyImageCompression == "01"
    after = np.frombuffer(dataset.PixelData, dtype=np.uint8).reshape(64, 128)
    expected = decoded.copy()
    expected[TOP:BOTTOM, LEFT:RIGHT] = 0
    assert np.array_equal(after, expected)
    assert any(note.startswith(f"lossy Pixel Data ({JPEG_BASELINE}) written as Explicit VR Little Endian")
               for note in ctx.notes)
    written = _reread(dataset, tmp_path)
    assert np.array_equal(written.pixel_array, expected)


def test_lossy_colour_input_comes_back_native_with_a_consistent_photometric(installed_kernel, tmp_path, context):
    source = make_dataset(modality="US", rows=16, columns=32, bits_allocated=8, photometric="RGB", seed=3)
    path = write_dataset(source, tmp_path / "colour.dcm")
    dataset = _transcoded(installed_kernel, path, tmp_path, JPEG_BASELINE)
    stored = dataset.PhotometricInterpretation
    apply(dataset, None, context(installed_kernel, machines=[{"match": {"Modality": "US"}, "zones": [[0, 0, 4, 32]]}]))
    written = _reread(dataset, tmp_path)
    assert written.PhotometricInterpretation == ("YBR_FULL" if stored == "YBR_FULL_422" else stored)
    assert written.SamplesPerPixel == 3 and written.PlanarConfiguration == 0
    pixels = written.pixel_array  # pydicom converts YBR to RGB by default
    assert pixels.shape == (16, 32, 3) and (pixels[0:4] <= 1).all()  # black (YBR rounding aside)
