"""End to end through gantry-deid's DeidRun: the corpus ultrasound is redacted, written, and clean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
import yaml

from gantry.session import Session
from gantry.testing.phi_corpus import BURNED_IN_ZONE
from gantry_deid.config_file import load_config
from gantry_deid.runner import DeidRun
from gantry_phi_audit import audit_dataset

SECRET = b"a test site secret for redaction"
TOP, LEFT, BOTTOM, RIGHT = BURNED_IN_ZONE


def _run(kernel, tmp_path, inputs, config):
    with Session(f"sqlite:///{tmp_path}/index.db", kernel=kernel) as session:
        deid = DeidRun(kernel, session.backend, load_config(config), output=str(tmp_path / "out"),
                       secret=SECRET, database=session.database, workers=1)
        return deid.run([str(path) for path in inputs])


def test_the_ultrasound_is_redacted_written_and_the_rescan_finds_nothing(installed_kernel, tmp_path, us_file,
                                                                         machine):
    config = tmp_path / "deid.yaml"
    config.write_text(yaml.safe_dump({"options": ["clean-pixel-data"], "redaction": {"machines": [machine]}}))
    report = _run(installed_kernel, tmp_path, [us_file], config)
    [outcome] = report.outcomes
    assert outcome.status == "written", outcome.reason
    written = pydicom.dcmread(outcome.output)
    pixels = written.pixel_array
    assert (pixels[TOP:BOTTOM, LEFT:RIGHT] == 0).all()
    original = pydicom.dcmread(us_file).pixel_array
    mask = np.ones(pixels.shape, dtype=bool)
    mask[TOP:BOTTOM, LEFT:RIGHT] = False
    assert np.array_equal(pixels[mask], original[mask])
    assert written.BurnedInAnnotation == "NO"
    assert "113101" in {item.CodeValue for item in written.DeidentificationMethodCodeSequence}
    assert audit_dataset(written) == []  # the re-scan, from the file's own marking


def test_without_a_matching_machine_the_ultrasound_is_held(installed_kernel, tmp_path, us_file):
    config = tmp_path / "deid.yaml"
    config.write_text(yaml.safe_dump({"options": ["clean-pixel-data"], "redaction": {"machines": [
        {"match": {"Manufacturer": "nobody"}, "zones": [[0, 0, 1, 1]]}]}}))
    report = _run(installed_kernel, tmp_path, [us_file], config)
    [outcome] = report.outcomes
    assert outcome.status == "held" and Path(outcome.source).name == "us.dcm"
    assert report.grade == "REVIEW"
    assert list((tmp_path / "out").rglob("*.dcm")) == []


def test_an_rle_ultrasound_comes_out_redacted_in_rle(installed_kernel, tmp_path, us_file, machine):
    from gantry.uids import RLE_LOSSLESS
    from gantry_transcode.transcode import transcode_file

    source = transcode_file(installed_kernel, us_file, tmp_path / "in" / "us-rle.dcm", RLE_LOSSLESS)
    assert source.ok, source.reason
    config = tmp_path / "deid.yaml"
    config.write_text(yaml.safe_dump({"options": ["clean-pixel-data"], "redaction": {"machines": [machine]}}))
    [outcome] = _run(installed_kernel, tmp_path, [source.destination], config).outcomes
    assert outcome.status == "written", outcome.reason
    written = pydicom.dcmread(outcome.output)
    assert written.file_meta.TransferSyntaxUID == RLE_LOSSLESS
    assert (written.pixel_array[TOP:BOTTOM, LEFT:RIGHT] == 0).all()


def test_a_jpeg_baseline_ultrasound_comes_out_native(installed_kernel, tmp_path, us_file, machine):
    from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, JPEG_BASELINE
    from gantry_transcode.transcode import transcode_file

    source = transcode_file(installed_kernel, us_file, tmp_path / "in" / "us-jpeg.dcm", JPEG_BASELINE)
    config = tmp_path / "deid.yaml"
    config.write_text(yaml.safe_dump({"options": ["clean-pixel-data"], "redaction": {"machines": [machine]}}))
    [outcome] = _run(installed_kernel, tmp_path, [source.destination], config).outcomes
    assert outcome.status == "written", outcome.reason
    assert pydicom.dcmread(outcome.output).file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN
