"""Transcoding into and out of every compressed syntax, through the installed codec plugins."""

from __future__ import annotations

import os

import numpy as np
import pydicom
import pytest

from gantry import Kernel
from gantry.frames import open_pixels
from gantry.testing.datasets import make_dataset, write_dataset
from gantry.uids import SHORT_NAMES, NATIVE
from gantry_transcode.transcode import transcode_file

LOSSLESS = ["rle", "jpeg-lossless", "jpeg-lossless-sv1", "jpeg-ls", "j2k-lossless", "htj2k-lossless", "htj2k-rpcl"]
LOSSY = ["jpeg-baseline", "jpeg-extended", "jpeg-ls-near", "j2k", "htj2k"]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("kernel"))
    try:
        return Kernel.from_config(env={})
    finally:
        os.chdir(cwd)


def _frames(kernel, path):
    with open_pixels(kernel, path) as pixels:
        return pixels.header, np.stack(list(pixels.arrays()))


def _smooth(**options):
    dataset = make_dataset(rows=64, columns=64, **options)
    y, x = np.mgrid[0:64, 0:64]
    top = 2 ** dataset.BitsStored - 1
    frame = ((x * 3 + y * 2) * top // (63 * 5)).astype(dataset.pixel_array.dtype)
    dataset.PixelData = np.broadcast_to(frame, dataset.pixel_array.shape).tobytes()
    return dataset


@pytest.mark.parametrize("to", LOSSLESS)
def test_lossless_targets_keep_every_pixel_and_the_instance(kernel, tmp_path, to):
    dataset = make_dataset(rows=32, columns=40, frames=3, bits_allocated=16, bits_stored=12)
    source = write_dataset(dataset, tmp_path / "in.dcm")
    result = transcode_file(kernel, source, tmp_path / f"{to}.dcm", to)
    assert result.ok, result.reason
    header, frames = _frames(kernel, result.destination)
    assert header.file_meta.TransferSyntaxUID == SHORT_NAMES[to]
    assert np.array_equal(frames, dataset.pixel_array)
    assert not result.lossy and header.SOPInstanceUID == dataset.SOPInstanceUID
    assert "LossyImageCompression" not in header
    raw = pydicom.dcmread(result.destination)
    # One even-length fragment per frame, and a Basic Offset Table pointing at each.
    from io import BytesIO

    from pydicom.encaps import generate_fragments, parse_basic_offsets

    buffer = BytesIO(raw.PixelData)
    offsets = parse_basic_offsets(buffer)
    fragments = list(generate_fragments(buffer))
    assert len(fragments) == 3 and all(len(f) % 2 == 0 for f in fragments)
    assert offsets == [0, 8 + len(fragments[0]), 16 + len(fragments[0]) + len(fragments[1])]
    # And back: the encapsulated file transcodes to native with the same pixels.
    back = transcode_file(kernel, result.destination, tmp_path / f"{to}-back.dcm", "explicit-little")
    assert back.ok, back.reason
    assert np.array_equal(pydicom.dcmread(back.destination).pixel_array, dataset.pixel_array)


@pytest.mark.parametrize("to", LOSSY)
def test_lossy_targets_are_marked_and_become_new_instances(kernel, tmp_path, to):
    dataset = _smooth(bits_allocated=8) if to == "jpeg-baseline" else _smooth(bits_allocated=16, bits_stored=12)
    source = write_dataset(dataset, tmp_path / "in.dcm")
    result = transcode_file(kernel, source, tmp_path / f"{to}.dcm", to)
    assert result.ok, result.reason
    header, frames = _frames(kernel, result.destination)
    assert result.lossy and result.new_sop_instance_uid == header.SOPInstanceUID != dataset.SOPInstanceUID
    assert header.file_meta.MediaStorageSOPInstanceUID == header.SOPInstanceUID
    assert header.LossyImageCompression == "01"
    assert float(header.LossyImageCompressionRatio) > 1
    assert header.LossyImageCompressionMethod in ("ISO_10918_1", "ISO_14495_1", "ISO_15444_1", "ISO_15444_15")
    error = np.abs(frames.astype(np.int64) - dataset.pixel_array.astype(np.int64)[np.newaxis]).mean()
    assert error < 2 ** dataset.BitsStored * 0.01
    # Once lossy, always lossy: going back to native keeps the flag and the history.
    back = transcode_file(kernel, result.destination, tmp_path / "back.dcm", "explicit-little")
    assert back.ok and not back.lossy
    kept = pydicom.dcmread(back.destination, stop_before_pixels=True)
    assert kept.LossyImageCompression == "01" and kept.SOPInstanceUID == header.SOPInstanceUID


def test_rgb_to_rle_is_planar_and_to_jpeg_ls_is_interleaved(kernel, tmp_path):
    dataset = make_dataset(photometric="RGB", bits_allocated=8, rows=16, columns=16)
    source = write_dataset(dataset, tmp_path / "rgb.dcm")
    for to, planar in (("rle", 1), ("jpeg-ls", 0)):
        result = transcode_file(kernel, source, tmp_path / f"{to}.dcm", to)
        assert result.ok, result.reason
        header, frames = _frames(kernel, result.destination)
        assert header.PlanarConfiguration == planar
        assert np.array_equal(frames[0], dataset.pixel_array)


def test_refused_combination_is_reported_and_leaves_nothing(kernel, tmp_path):
    source = write_dataset(make_dataset(bits_allocated=16, bits_stored=16), tmp_path / "in.dcm")
    result = transcode_file(kernel, source, tmp_path / "out" / "baseline.dcm", "jpeg-baseline")
    assert not result.ok
    assert "jpeg-baseline" in result.reason or "1.2.840.10008.1.2.4.50" in result.reason
    assert [p.name for p in (tmp_path / "out").iterdir()] == []


def test_every_short_name_has_an_encoder(kernel):
    missing = [name for name, uid in SHORT_NAMES.items() if uid not in NATIVE and kernel.active("encoder", uid) is None]
    assert missing == []
