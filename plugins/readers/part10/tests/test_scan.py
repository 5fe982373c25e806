"""``gantry scan``, run in-process through the real CLI (its kernel is built from the installed
entry points, so the part10 plugin must be installed, as it is in the workspace)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gantry.cli import make_app
from gantry.testing.datasets import PLANTED_PHI, make_dataset, write_dataset


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No site configuration: no gantry.toml in the working folder, none named by the environment.
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    for variable in ("GANTRY_CONFIG", "GANTRY_DISABLE"):
        monkeypatch.delenv(variable, raising=False)


def _scan(*arguments: str) -> Result:
    return CliRunner().invoke(make_app(), ["scan", *arguments], catch_exceptions=False)


def _scan_json(*paths: Any) -> dict[str, Any]:
    result = _scan("--json", *map(str, paths))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_scan_sorts_a_sample_folder(sample_folder: tuple[Path, dict[str, list[str]]]) -> None:
    folder, made = sample_folder
    report = _scan_json(folder)
    assert sorted(row["path"] for row in report["files"]) == sorted(made["dicom"])
    assert sorted(report["not_dicom"]) == sorted(made["not_dicom"])
    assert [row["path"] for row in report["unreadable"]] == made["damaged"]
    for row in report["unreadable"]:
        assert "truncated" in row["reason"]
        assert row["path"] in row["reason"]  # the reason names the file


def test_scan_describes_each_file(sample_folder: tuple[Path, dict[str, list[str]]]) -> None:
    folder, _ = sample_folder
    rows = {Path(row["path"]).name: row for row in _scan_json(folder)["files"]}
    assert rows["ct001.dcm"] == {
        "path": rows["ct001.dcm"]["path"],
        "modality": "CT",
        "sop_class": "CT Image Storage",
        "transfer_syntax": "Explicit VR Little Endian",
        "rows": 64,
        "columns": 64,
        "frames": 1,
        "study_instance_uid": make_dataset(instance=1).StudyInstanceUID,
        "series_instance_uid": make_dataset(instance=1).SeriesInstanceUID,
        "size": Path(rows["ct001.dcm"]["path"]).stat().st_size,
    }
    assert rows["mr-multiframe.dcm"]["frames"] == 4
    assert rows["mr-multiframe.dcm"]["transfer_syntax"] == "Implicit VR Little Endian"
    assert rows["deflated.dcm"]["transfer_syntax"] == "Deflated Explicit VR Little Endian"
    assert rows["big-endian.dcm"]["transfer_syntax"] == "Explicit VR Big Endian"
    assert rows["no-preamble.dcm"]["transfer_syntax"] == "Implicit VR Little Endian (raw dataset)"
    assert rows["secondary-capture.dcm"]["sop_class"] == "Secondary Capture Image Storage"


def test_scan_prints_no_patient_data(sample_folder: tuple[Path, dict[str, list[str]]]) -> None:
    folder, _ = sample_folder
    for arguments in (["--json", str(folder)], [str(folder)]):
        result = _scan(*arguments)
        assert result.exit_code == 0, result.output
        leaked = [value for value in PLANTED_PHI.values() if value in result.output]
        assert not leaked, (arguments, leaked)


def test_scan_tables_count_what_they_found(sample_folder: tuple[Path, dict[str, list[str]]]) -> None:
    folder, made = sample_folder
    result = _scan(str(folder))
    assert result.exit_code == 0, result.output
    assert f"{len(made['dicom'])} DICOM file(s)" in result.stdout
    assert (f"{len(made['dicom'])} instance(s); {len(made['not_dicom'])} non-DICOM file(s) skipped; "
            f"{len(made['damaged'])} unreadable") in result.stdout
    assert "truncated" in result.stdout


def test_scan_takes_single_files_and_several_paths(tmp_path: Path) -> None:
    one = write_dataset(make_dataset(instance=1), tmp_path / "one.dcm")
    two = write_dataset(make_dataset(instance=2), tmp_path / "two.dcm", preamble=False)
    report = _scan_json(one, two)
    assert [row["path"] for row in report["files"]] == [one, two]


def test_scan_of_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(make_app(), ["scan", "--json", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "nowhere" in result.output


@pytest.mark.filterwarnings("ignore:Invalid value for VR IS:UserWarning")
def test_one_file_with_a_malformed_value_does_not_stop_the_scan(tmp_path: Path) -> None:
    # Number of Frames "x?" reads (pydicom only warns) but cannot be counted: the scan used to
    # die with a ValueError; that file alone is now unreadable.
    folder = tmp_path / "folder"
    folder.mkdir()
    good = write_dataset(make_dataset(instance=1), folder / "a-good.dcm")
    data = Path(write_dataset(make_dataset(instance=2, frames=2), folder / "b-bad.dcm")).read_bytes()
    frames = data.find(b"\x28\x00\x08\x00IS\x02\x00")
    assert frames > 0
    (folder / "b-bad.dcm").write_bytes(data[: frames + 8] + b"x?" + data[frames + 10 :])
    report = _scan_json(folder)
    assert [row["path"] for row in report["files"]] == [good]
    assert [row["path"] for row in report["unreadable"]] == [str(folder / "b-bad.dcm")]
    assert "cannot be described" in report["unreadable"][0]["reason"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_in_the_folder_does_not_hang_the_scan(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    good = write_dataset(make_dataset(), folder / "image.dcm")
    os.mkfifo(folder / "pipe")

    def too_long(*_: Any) -> None:
        raise TimeoutError("gantry scan waited on a FIFO")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(10)
    try:
        report = _scan_json(folder)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert [row["path"] for row in report["files"]] == [good]
    assert report["unreadable"] == [{"path": str(folder / "pipe"),
                                     "reason": f"{folder / 'pipe'}: not a regular file: skipped"}]


def test_garbage_after_a_dataset_is_reported(tmp_path: Path) -> None:
    path = Path(write_dataset(make_dataset(), tmp_path / "padded.dcm"))
    size = path.stat().st_size
    path.write_bytes(path.read_bytes() + b"\x00" * 512)
    [row] = _scan_json(path)["unreadable"]
    assert f"512 byte(s) at offset {size}" in row["reason"]
