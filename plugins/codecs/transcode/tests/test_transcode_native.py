"""Transcoding between native syntaxes: pixels preserved, originals untouched, failures leave nothing."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

import gantry_part10.plugin
import gantry_transcode.plugin
from gantry.cli import make_app
from gantry.frames import open_pixels
from gantry.testing import kernel_with
from gantry.testing.datasets import make_dataset, write_dataset
from gantry.uids import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
)
from gantry_transcode.transcode import transcode_file

NATIVE = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN,
          DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN]
IMAGES = {
    "ct-12bit-signed-3frames": dict(frames=3, bits_allocated=16, bits_stored=12, signed=True),
    "rgb-8bit-2frames": dict(frames=2, photometric="RGB", bits_allocated=8),
    "mono1-16bit": dict(photometric="MONOCHROME1", bits_allocated=16),
    "odd-length-8bit": dict(rows=3, columns=5, bits_allocated=8),
}


@pytest.fixture
def kernel():
    return kernel_with({"part10": gantry_part10.plugin, "transcode": gantry_transcode.plugin})


def _arrays(kernel, path):
    with open_pixels(kernel, path) as pixels:
        return pixels.header, list(pixels.arrays())


def _digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest(), os.stat(path).st_mtime_ns


@pytest.mark.parametrize("image", IMAGES, ids=list(IMAGES))
@pytest.mark.parametrize("source_syntax", NATIVE, ids=["explicit", "implicit", "big", "deflated"])
@pytest.mark.parametrize("target_syntax", NATIVE, ids=["to-explicit", "to-implicit", "to-big", "to-deflated"])
def test_native_round_trip_keeps_every_pixel(kernel, tmp_path, image, source_syntax, target_syntax):
    dataset = make_dataset(**IMAGES[image])
    source = write_dataset(dataset, tmp_path / "in.dcm", transfer_syntax=source_syntax)
    before = _digest(source)
    result = transcode_file(kernel, source, tmp_path / "out" / "out.dcm", target_syntax)
    assert result.ok, result.reason
    assert _digest(source) == before  # the original is only read
    header, frames = _arrays(kernel, result.destination)
    assert header.file_meta.TransferSyntaxUID == target_syntax
    assert header.SOPInstanceUID == dataset.SOPInstanceUID and not result.lossy
    expected = dataset.pixel_array if dataset.get("NumberOfFrames", 1) > 1 else [dataset.pixel_array]
    assert len(frames) == len(expected)
    assert all(np.array_equal(a, b) for a, b in zip(frames, expected))
    assert result.unchanged == (source_syntax == target_syntax)
    # pydicom reads our output to the same pixels: the file is well formed for others too.
    import pydicom

    assert np.array_equal(pydicom.dcmread(result.destination).pixel_array, dataset.pixel_array)


def test_failure_leaves_no_output(kernel, tmp_path):
    whole = write_dataset(make_dataset(rows=32, columns=32), tmp_path / "whole.dcm")
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(open(whole, "rb").read()[:-100])
    (tmp_path / "out").mkdir()
    result = transcode_file(kernel, cut, tmp_path / "out" / "cut.dcm", "implicit-little")
    assert not result.ok and "truncated" in result.reason
    assert not (tmp_path / "out" / "cut.dcm").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []  # no partial or spool file left


def test_unknown_target_is_a_clear_failure(kernel, tmp_path):
    source = write_dataset(make_dataset(), tmp_path / "in.dcm")
    result = transcode_file(kernel, source, tmp_path / "out.dcm", "jpeg-2001")
    assert not result.ok and "unknown transfer syntax 'jpeg-2001'" in result.reason


def test_no_encoder_is_a_codec_error_naming_the_file(kernel, tmp_path):
    source = write_dataset(make_dataset(), tmp_path / "in.dcm")
    result = transcode_file(kernel, source, tmp_path / "out.dcm", "1.2.3.4.5")
    assert not result.ok
    result = transcode_file(kernel, source, tmp_path / "out.dcm", "htj2k")  # no HTJ2K encoder in this kernel
    assert not result.ok and "no provider for encoder 1.2.840.10008.1.2.4.203" in result.reason
    assert "in.dcm" in result.reason and not (tmp_path / "out.dcm").exists()


def test_cli_folder_batch_goes_on_past_bad_files(tmp_path, monkeypatch, sample_folder):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("GANTRY_")]:
        monkeypatch.delenv(name)
    folder, made = sample_folder
    result = CliRunner().invoke(make_app(), ["transcode", str(folder), str(tmp_path / "out"),
                                             "--to", "explicit-little", "--json"])
    assert result.exit_code == 1  # the damaged file failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    summary = lines[-1]
    assert summary["transcoded"] == len(made["dicom"]) and summary["failed"] == len(made["damaged"])
    assert sorted(summary["skipped_non_dicom"]) == sorted(made["not_dicom"])
    outputs = {line["destination"] for line in lines[:-1] if line.get("ok")}
    assert all(os.path.exists(p) for p in outputs)
    assert str(tmp_path / "out" / "sample" / "patient1" / "ct" / "ct001.dcm") in outputs
    assert not list((tmp_path / "out").rglob("*truncated*")) and not list((tmp_path / "out").rglob("*.partial"))


def test_cli_workers_give_the_same_files(tmp_path, monkeypatch, sample_folder):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("GANTRY_")]:
        monkeypatch.delenv(name)
    folder, made = sample_folder
    outputs = {}
    for workers in ("1", "2"):
        result = CliRunner().invoke(make_app(), ["transcode", str(folder / "patient1"), str(tmp_path / workers),
                                                 "--to", "implicit-little", "--workers", workers, "--json"])
        assert result.exit_code == 0, result.output
        outputs[workers] = {os.path.relpath(p, tmp_path / workers): open(p, "rb").read()
                            for p in (tmp_path / workers).rglob("*.dcm")}
    assert len(outputs["1"]) == 6 and outputs["1"] == outputs["2"]
