"""deidentify_file: marking, File Meta, preamble, the source left alone, atomic writes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pydicom
import pytest

from gantry import DeidError
from gantry_deid import compile_plan, deidentify_file, make_context
from gantry_deid.meta import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME

SECRET = b"file tests"


def digest(path: Any) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_ct_small_output_is_marked_and_has_new_file_meta(deidentify: Any, ct_small: str, tmp_path: Path) -> None:
    before = digest(ct_small)
    run = deidentify(ct_small, tmp_path)
    assert digest(ct_small) == before  # the source is byte-identical after the run
    out, data = run.dataset, run.data
    assert data[:128] == bytes(128) and data[128:132] == b"DICM"
    assert out.PatientIdentityRemoved == "YES"
    assert out.DeidentificationMethod == "Gantry gantry-deid 0.1.0 basic profile"
    codes = [(i.CodeValue, i.CodingSchemeDesignator, i.CodeMeaning) for i in out.DeidentificationMethodCodeSequence]
    assert codes == [("113100", "DCM", "Basic Application Confidentiality Profile")]
    assert out.LongitudinalTemporalInformationModified == "REMOVED"
    meta = out.file_meta
    assert sorted(int(tag) for tag in meta.keys()) == [0x00020000, 0x00020001, 0x00020002, 0x00020003, 0x00020010,
                                                       0x00020012, 0x00020013]
    original = pydicom.dcmread(ct_small)
    assert meta.MediaStorageSOPClassUID == original.SOPClassUID
    assert meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.SOPInstanceUID == run.context.uid_pairs[original.SOPInstanceUID] != original.SOPInstanceUID
    assert meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert meta.ImplementationVersionName == IMPLEMENTATION_VERSION_NAME
    for leak in (b"CLUNIE1", b"DCTOOL100", b"CompressedSamples", b"1CT1", b"JFK IMAGING", original.SOPInstanceUID.encode()):
        assert leak not in data
    assert run.result.deidentified_sop_instance_uid == out.SOPInstanceUID
    assert run.result.sop_instance_uid == original.SOPInstanceUID
    assert run.result.size == len(data)


def test_marking_lists_every_option_in_force_in_order(deidentify: Any, ct_small: str, tmp_path: Path) -> None:
    run = deidentify(ct_small, tmp_path, ["retain-uids", "retain-device-identity", "clean-descriptors"])
    codes = [item.CodeValue for item in run.dataset.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113105", "113109", "113110"]  # OPTIONS order
    assert list(run.dataset.DeidentificationMethod)[1:] == ["clean-descriptors", "retain-device-identity",
                                                            "retain-uids"]


def test_group_0004_and_body_meta_elements_are_removed(deidentify: Any, tmp_path: Path) -> None:
    from gantry.testing import make_dataset

    ds = make_dataset()
    ds.add_new(0x00041130, "CS", "PHIFILESET")       # File-set ID
    ds.add_new(0x00041500, "CS", "PHIFILEID")        # Referenced File ID
    run = deidentify(ds, tmp_path)
    assert not [tag for tag in run.dataset.keys() if tag.group == 0x0004]
    assert b"PHIFILESET" not in run.data and b"PHIFILEID" not in run.data


def test_a_dicomdir_is_refused(deidentify: Any, tmp_path: Path) -> None:
    from gantry.testing import make_dataset

    ds = make_dataset()
    ds.DirectoryRecordSequence = pydicom.Sequence()
    with pytest.raises(DeidError, match="DICOMDIR"):
        deidentify(ds, tmp_path)


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"],
                         ids=["implicit", "big-endian", "deflated"])
def test_the_transfer_syntax_is_kept(deidentify: Any, tmp_path: Path, syntax: str) -> None:
    from gantry.testing import make_dataset, write_dataset

    source = write_dataset(make_dataset(), tmp_path / "in.dcm", transfer_syntax=syntax)
    run = deidentify(source, tmp_path)
    assert run.dataset.file_meta.TransferSyntaxUID == syntax
    assert run.dataset.PatientName == ""
    assert b"PLANTED" not in run.data and b"Planted" not in run.data
    assert run.dataset.PixelData == pydicom.dcmread(source).PixelData


def test_a_failing_write_leaves_no_file(deid_kernel: Any, ct_small: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    plan = compile_plan(deid_kernel)
    out = tmp_path / "out"
    out.mkdir()

    def broken_fsync(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(DeidError, match="No space left"):
        deidentify_file(deid_kernel, plan, ct_small, out / "a.dcm", lambda ds: make_context(ds, secret=SECRET))
    assert list(out.iterdir()) == []
    # An existing destination is left as it was.
    (out / "a.dcm").write_bytes(b"previous")
    with pytest.raises(DeidError):
        deidentify_file(deid_kernel, plan, ct_small, out / "a.dcm", lambda ds: make_context(ds, secret=SECRET))
    assert [p.name for p in out.iterdir()] == ["a.dcm"] and (out / "a.dcm").read_bytes() == b"previous"


def test_a_failing_action_writes_nothing(make_kernel: Any, stand_ins: Any, ct_small: str, tmp_path: Path) -> None:
    import gantry_deid.plugin as deid_plugin
    import gantry_part10.plugin as part10_plugin

    kernel = make_kernel(plugins={"part10": part10_plugin, "deid": deid_plugin, "stand-ins": stand_ins,
                                  "broken": BrokenDummy()})
    plan = compile_plan(kernel)
    with pytest.raises(DeidError, match=r"action D \(broken-d\) failed"):
        deidentify_file(kernel, plan, ct_small, tmp_path / "x.dcm", lambda ds: make_context(ds, secret=SECRET))
    assert list(tmp_path.iterdir()) == []


def test_the_source_cannot_be_the_destination(deid_kernel: Any, ct_small: str, tmp_path: Path) -> None:
    source = tmp_path / "same.dcm"
    source.write_bytes(Path(ct_small).read_bytes())
    plan = compile_plan(deid_kernel)
    with pytest.raises(DeidError, match="is the source"):
        deidentify_file(deid_kernel, plan, source, source, lambda ds: make_context(ds, secret=SECRET))
    assert digest(source) == digest(ct_small)


def broken_apply(dataset: Any, element: Any, context: Any) -> None:
    raise ValueError(f"cannot handle {element.value}")  # quotes a value: must not reach the message


class BrokenDummy:
    from gantry import hookimpl

    @hookimpl
    def gantry_deid_actions(self) -> list[Any]:
        from gantry import DeidAction

        return [DeidAction(name="broken-d", codes=("D",), priority=100, apply=f"{__name__}:broken_apply")]
