"""gantry.sources.sendable_header: what every sender (C-STORE, STOW-RS, Orthanc upload) reads of
a file before sending it, and the result that says why a file cannot go."""

from __future__ import annotations

import pytest

from gantry.sources import sendable_header
from gantry.testing.datasets import make_dataset, write_dataset
from gantry.transport import StoreResult


@pytest.mark.parametrize("with_kernel", [True, False], ids=["kernel", "pydicom"])
def test_a_storable_file_gives_its_uids_and_syntax(installed_kernel, tmp_path, with_kernel):
    dataset = make_dataset()
    path = str(write_dataset(dataset, tmp_path / "ct.dcm"))
    kernel = installed_kernel if with_kernel else None
    for source in (path, open(path, "rb").read()):
        header = sendable_header(kernel, source, "shown")
        assert header["SOPInstanceUID"] == dataset.SOPInstanceUID
        assert header["SOPClassUID"] == dataset.SOPClassUID
        assert header["TransferSyntaxUID"] == dataset.file_meta.TransferSyntaxUID


@pytest.mark.parametrize("with_kernel", [True, False], ids=["kernel", "pydicom"])
def test_what_cannot_be_sent_is_one_result_saying_why(installed_kernel, tmp_path, with_kernel):
    kernel = installed_kernel if with_kernel else None
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    no_class = make_dataset()
    del no_class.SOPClassUID
    no_class.file_meta.MediaStorageSOPClassUID = "1.2.3"
    classless = str(write_dataset(no_class, tmp_path / "classless.dcm"))
    outcomes = {name: sendable_header(kernel, source, name) for name, source in (
        ("text", str(text)), ("missing", str(tmp_path / "gone.dcm")), ("classless", classless))}
    assert all(isinstance(outcome, StoreResult) and not outcome.ok for outcome in outcomes.values())
    assert outcomes["text"].reason == "not a DICOM file" and outcomes["text"].source == "text"
    assert outcomes["missing"].reason.startswith("cannot read")
    assert outcomes["classless"].reason == "no SOPClassUID: not a storable instance"
    assert outcomes["classless"].sop_instance_uid == no_class.SOPInstanceUID
