"""Session.ingest and the Session's CLI against a real SQLite index and real files."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from gantry.cli import make_app
from gantry.session import Session
from gantry.testing.datasets import PLANTED_PHI, make_dataset, write_dataset

SUMMARY_KEYS = {"seen", "indexed", "already_indexed", "skipped_non_dicom", "rejected"}


@pytest.fixture
def database(tmp_path):
    return f"sqlite:///{tmp_path}/index.db"


@pytest.fixture
def session(installed_kernel, database):
    with Session(database, kernel=installed_kernel) as opened:
        yield opened


def test_sample_folder_is_indexed_clutter_counted_damage_rejected(session, sample_folder):
    folder, made = sample_folder
    summary = session.ingest([folder], workers=1)
    assert summary.seen == sum(len(paths) for paths in made.values())
    assert summary.indexed == len(made["dicom"])
    assert summary.skipped_non_dicom == len(made["not_dicom"])
    assert [r.path for r in summary.rejected] == made["damaged"]
    assert "truncated" in summary.rejected[0].reason or "end of the file" in summary.rejected[0].reason
    assert session.count("instance") == len(made["dicom"])
    located = {row["location"] for row in session.query("instance")}
    assert located == set(made["dicom"])


def test_second_run_resumes_and_changed_files_are_reindexed(session, sample_folder):
    folder, made = sample_folder
    first = session.ingest([folder], workers=1)
    again = session.ingest([folder], workers=1)
    assert again.indexed == 0
    assert again.already_indexed == len(made["dicom"])
    assert again.skipped_non_dicom == first.skipped_non_dicom  # clutter is looked at again
    changed = made["dicom"][0]
    dataset = make_dataset(modality="CT", instance=1, rows=64, columns=64)
    dataset.StudyDescription = "re-read after a change"
    write_dataset(dataset, changed)
    os.utime(changed, ns=(1, 1))
    third = session.ingest([folder], workers=1)
    assert third.indexed == 1
    row = session.query("instance", SOPInstanceUID=dataset.SOPInstanceUID)[0]
    assert row["mtime_ns"] == 1
    assert session.query("study", StudyInstanceUID=dataset.StudyInstanceUID)[0]["StudyDescription"] \
        == "re-read after a change"


def test_navigation_from_patients_down_to_pixels(session, sample_folder):
    folder, made = sample_folder
    session.ingest([folder], workers=1)
    patients = sorted(session.patients, key=lambda p: p.patient_id)
    assert [p.patient_id for p in patients] == [PLANTED_PHI["PatientID"],
                                                f"{PLANTED_PHI['PatientID']}-2"]
    first = patients[0]
    assert len(first.studies) == 1
    study = first.studies[0]
    assert set(study.modalities_in_study.split("\\")) == {"CT", "MR"}
    assert study.number_of_instances == 6
    by_modality = {series.modality: series for series in study.series}
    assert len(by_modality["CT"].instances) == 5
    mr = by_modality["MR"].instances[0]
    assert mr.number_of_frames == 4
    frames = list(mr.frames())
    assert len(frames) == 4 and frames[0].shape == (32, 32)
    assert mr.dataset().SOPInstanceUID == mr.sop_instance_uid
    assert PLANTED_PHI["PatientID"] not in repr(first) + repr(study)


def test_parallel_ingest_indexes_exactly_what_a_serial_one_does(installed_kernel, tmp_path, sample_folder):
    folder, _ = sample_folder
    results = {}
    for workers in (1, 2):
        with Session(f"sqlite:///{tmp_path}/w{workers}.db", kernel=installed_kernel) as session:
            summary = session.ingest([folder], workers=workers)
            rows = session.query("instance")
            results[workers] = (summary.as_json() | {"seconds": 0},
                                sorted((r["SOPInstanceUID"], r["location"], r["StudyDate"]) for r in rows))
    assert results[1] == results[2]


def test_copies_are_recognised_and_conflicting_content_is_rejected(session, tmp_path, sample_folder):
    folder, made = sample_folder
    session.ingest([folder], workers=1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(made["dicom"][1], elsewhere / "copy.dcm")
    impostor = make_dataset(modality="CT", instance=3, rows=64, columns=64)  # same UIDs as ct003
    impostor.SeriesDescription = "different content"
    write_dataset(impostor, elsewhere / "impostor.dcm")
    summary = session.ingest([elsewhere], workers=1)
    assert summary.indexed == 0
    assert summary.already_indexed == 1
    assert [Path(r.path).name for r in summary.rejected] == ["impostor.dcm"]
    assert "different content" in summary.rejected[0].reason
    row = session.query("instance", SOPInstanceUID=impostor.SOPInstanceUID)[0]
    assert row["location"] == made["dicom"][2]  # the index still points at the original
    assert session.count("instance") == len(made["dicom"])


def test_a_failing_batch_leaves_earlier_batches_whole_and_a_rerun_finishes(
        installed_kernel, database, tmp_path, monkeypatch):
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(1, 26):
        write_dataset(make_dataset(instance=number, series=1 + number % 3), folder / f"{number:03d}.dcm")
    from gantry import ingest

    monkeypatch.setattr(ingest, "BATCH", 10)
    with Session(database, kernel=installed_kernel) as session:
        original = session.backend.index
        calls = []

        def index_then_crash(records):
            calls.append(len(records))
            if len(calls) == 2:
                original(records[:3])  # half-written inside the transaction ...
                raise OSError("disk went away")
            return original(records)

        monkeypatch.setattr(session.backend, "index", index_then_crash)
        with pytest.raises(OSError):
            session.ingest([folder], workers=1)
        assert session.count("instance") == calls[0]  # ... and rolled back with it
        series_counts = sum(row["NumberOfSeriesRelatedInstances"] for row in session.query("series"))
        assert series_counts == calls[0]  # no instance without its series, no series miscounted
        monkeypatch.setattr(session.backend, "index", original)
        summary = session.ingest([folder], workers=1)
        assert summary.already_indexed == calls[0]
        assert summary.indexed == 25 - calls[0]
        assert session.count("instance") == 25
        assert session.backend.verify_audit().ok


def test_bad_files_are_rejected_with_reasons_and_the_batch_goes_on(session, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    good = write_dataset(make_dataset(instance=1), folder / "good.dcm")
    data = Path(good).read_bytes()
    (folder / "bad-length.dcm").write_bytes(data[:140] + b"\x02\x00\x10\x00UI\xff\xff" + data[148:])
    no_uid = make_dataset(instance=2)
    del no_uid.SOPInstanceUID
    write_dataset(no_uid, folder / "no-uid.dcm")
    (folder / "gone.dcm").symlink_to(folder / "missing-target.dcm")
    summary = session.ingest([folder, tmp_path / "no-such-folder"], workers=1)
    assert summary.indexed == 1
    reasons = {Path(r.path).name: r.reason for r in summary.rejected}
    assert set(reasons) == {"bad-length.dcm", "no-uid.dcm", "gone.dcm", "no-such-folder"}
    assert "SOPInstanceUID" in reasons["no-uid.dcm"]
    assert "cannot read" in reasons["gone.dcm"] and "cannot read" in reasons["no-such-folder"]
    rejected_rows = [row for row in session.backend.audit_rows() if row.event.action == "ingest.rejected"]
    assert len(rejected_rows) == 4


def test_patient_data_stays_out_of_the_logs(session, sample_folder, capsys):
    folder, _ = sample_folder
    session.ingest([folder], workers=1)
    captured = capsys.readouterr()
    for value in PLANTED_PHI.values():
        assert str(value) not in captured.out + captured.err


# --- the CLI ---------------------------------------------------------------------------------

def run(*args):
    result = CliRunner().invoke(make_app(), list(args), catch_exceptions=False)
    return result


def test_cli_ingest_json_summary_then_ls_stats_and_audit(sample_folder, database, tmp_path):
    folder, made = sample_folder
    result = run("ingest", str(folder), "--db", database, "--json", "--workers", "2")
    assert result.exit_code == 3  # finished, one file rejected
    summary = json.loads(result.stdout)
    assert SUMMARY_KEYS <= set(summary)
    assert summary["indexed"] == len(made["dicom"])
    assert [r["path"] for r in summary["rejected"]] == made["damaged"]
    assert set(summary["rejected"][0]) == {"path", "reason"}

    studies = [json.loads(line) for line in run("ls", "--db", database, "--json").stdout.splitlines()]
    assert len(studies) == 3
    assert all({"StudyInstanceUID", "PatientID", "NumberOfStudyRelatedInstances",
                "ModalitiesInStudy"} <= set(row) for row in studies)
    assert sum(row["NumberOfStudyRelatedInstances"] for row in studies) == len(made["dicom"])
    ct_series = run("ls", "--db", database, "--level", "series", "-k", "Modality=CT", "--json")
    assert {json.loads(line)["Modality"] for line in ct_series.stdout.splitlines()} == {"CT"}
    patients = run("ls", "--db", database, "--level", "patient")
    assert patients.exit_code == 0 and "2 patient rows" in patients.stdout

    stats = json.loads(run("stats", "--db", database, "--json").stdout)
    assert stats["instances"] == len(made["dicom"]) and stats["patients"] == 2
    assert sum(stats["transfer_syntaxes"].values()) == len(made["dicom"])

    verified = run("audit-log", "verify", "--db", database)
    assert verified.exit_code == 0 and "holds" in verified.stdout
    db_path = database.removeprefix("sqlite:///")
    with sqlite3.connect(db_path) as raw:
        triggers = [name for (name,) in raw.execute(
            "SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in triggers:
            raw.execute(f'DROP TRIGGER "{name}"')
        raw.execute("UPDATE audit SET action = 'nothing to see' WHERE sequence = 2")
    broken = run("audit-log", "verify", "--db", database)
    assert broken.exit_code == 1 and "BROKEN at row 2" in broken.stdout


def test_cli_ingest_resumes_and_prints_a_summary_line(sample_folder, database):
    folder, made = sample_folder
    run("ingest", str(folder), "--db", database)
    again = run("ingest", str(folder), "--db", database, "--no-progress")
    assert f"{len(made['dicom'])} already indexed" in again.stdout
    assert "0 indexed" in again.stdout


def test_postgres_index_answers_like_sqlite(installed_kernel, postgres_server, database, sample_folder):
    folder, made = sample_folder
    answers = {}
    for name, url in (("sqlite", database),
                      ("postgres", postgres_server.create_database("ingest_like_sqlite"))):
        with Session(url, kernel=installed_kernel) as session:
            summary = session.ingest([folder], workers=2)
            again = session.ingest([folder], workers=1)
            answers[name] = {
                "summary": summary.as_json() | {"seconds": 0},
                "resumed": again.already_indexed,
                "studies with MR": session.query("study", ModalitiesInStudy="MR"),
                "a page of instances": session.query("instance", PatientName="PLANTED^*",
                                                     StudyDate="20240101-", limit=4, offset=2),
                "audit holds": session.backend.verify_audit().ok,
            }
    assert answers["postgres"]["summary"]["indexed"] == len(made["dicom"])
    assert len(answers["postgres"]["a page of instances"]) == 4
    assert answers["postgres"] == answers["sqlite"]
