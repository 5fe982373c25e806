"""Sending a selection from the index: ``gantry send URL --index -k ...`` and ``store(rows)``,
to dcmtk's storescp and to our own listener."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner

from gantry.cli import make_app
from gantry.session import Session
from gantry.storage import IndexRecord
from gantry.testing.datasets import PLANTED_PHI, make_dataset, write_dataset
from gantry.testing.index import indexed_site
from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, RLE_LOSSLESS


@pytest.fixture
def archive(tmp_path: Path):
    """Patient 1: two studies (2023 and 2024); patient 2: one study (2024); plus an RLE instance of
    patient 1's 2024 study, ingested after the others."""
    datasets = []
    for patient, study, date, instances in [(1, 1, "20230601", 2), (1, 2, "20240315", 2), (2, 3, "20240720", 1)]:
        for instance in range(1, instances + 1):
            dataset = make_dataset(patient=patient, study=study, instance=instance, rows=8, columns=8)
            dataset.StudyDate = date
            datasets.append(dataset)
    site = indexed_site(tmp_path / "archive-site", datasets)  # not the `site` fixture's database
    from gantry_transcode.transcode import transcode_file

    rle = make_dataset(patient=1, study=2, instance=9, rows=8, columns=8)
    rle.StudyDate = "20240315"
    plain = write_dataset(rle, tmp_path / "plain.dcm")
    (tmp_path / "rle").mkdir()
    assert transcode_file(site.kernel, plain, tmp_path / "rle" / "rle.dcm", RLE_LOSSLESS).ok
    with Session(site.database, kernel=site.kernel) as session:
        assert not session.ingest([tmp_path / "rle"], workers=1).rejected
    return site


def arrived(folder: Path) -> dict[str, str]:
    """SOP Instance UID -> transfer syntax of what the peer wrote."""
    return {str(ds.SOPInstanceUID): str(ds.file_meta.TransferSyntaxUID)
            for ds in (pydicom.dcmread(path) for path in folder.iterdir())}


def uids(site, keys) -> set[str]:
    return {row["SOPInstanceUID"] for row in site.query("instance", keys)}


def test_send_index_selection_by_patient_and_date_range(archive, storescp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    peer = storescp("+xa")
    patient = PLANTED_PHI["PatientID"]  # patient 1's
    result = CliRunner().invoke(make_app(), ["send", peer.url, "--index", "--db", archive.database, "--json",
                                             "-k", f"PatientID={patient}", "-k", "StudyDate=20240101-20241231"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    wanted = uids(archive, {"PatientID": patient, "StudyDate": "20240101-20241231"})
    assert len(wanted) == 3  # two explicit, one RLE: the 2023 study and patient 2 stay home
    assert lines[-1]["sent"] == 3 and lines[-1]["failed"] == 0
    assert {line["sop_instance_uid"] for line in lines[:-1]} == wanted
    received = arrived(peer.out)
    assert set(received) == wanted
    assert sorted(received.values()) == sorted([EXPLICIT_VR_LITTLE_ENDIAN] * 2 + [RLE_LOSSLESS])  # as stored


def test_send_index_uses_the_site_database_by_default(archive, our_listener, site, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gantry.toml").write_text(f'[storage]\ndatabase = "{archive.database}"\n')
    ours = our_listener(site.kernel)
    result = CliRunner().invoke(make_app(), ["send", f"dicom://OURAE@127.0.0.1:{ours.port}", "--index",
                                             "-k", "StudyDate=2024*"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("sent 4, failed 0")
    ours.stop()
    backend = site.kernel.open_storage(site.database)
    try:
        assert {row["SOPInstanceUID"] for row in backend.query("instance")} == uids(archive, {"StudyDate": "2024*"})
    finally:
        backend.close()


def test_send_index_usage_errors(archive, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app()
    url = "dicom://NOBODY@127.0.0.1:9"
    both = CliRunner().invoke(app, ["send", url, str(tmp_path), "--index", "-k", "PatientID=x"])
    neither = CliRunner().invoke(app, ["send", url])
    no_keys = CliRunner().invoke(app, ["send", url, "--index", "--db", archive.database])
    nothing = CliRunner().invoke(app, ["send", url, "--index", "--db", archive.database, "-k", "PatientID=nobody"])
    for outcome in (both, neither, no_keys, nothing):
        assert outcome.exit_code == 2, outcome.output
    assert "matches no instance" in nothing.output


def test_store_takes_rows_instances_records_and_paths(archive, storescp, tmp_path):
    """Index rows, model Instances and IndexRecords go like paths: same results, progress, transcoding."""
    peer = storescp()  # uncompressed only: the RLE instance is transcoded
    rows = archive.query("instance", {"StudyDate": "20240315"})
    with Session(archive.database, kernel=archive.kernel) as session:
        instances = session.instances(StudyDate="20230601")
    patient2 = archive.query("instance", {"StudyDate": "20240720"})[0]
    record = IndexRecord(attributes={"SOPInstanceUID": patient2["SOPInstanceUID"]}, location=patient2["location"],
                         size=patient2["size"])  # no SOP class: the header is read
    extra = tmp_path / "extra.dcm"
    write_dataset(make_dataset(patient=3, rows=8, columns=8), extra)
    seen: list[tuple[int, int]] = []
    with archive.kernel.open_transport(peer.url) as transport:
        results = list(transport.store([*rows, *instances, record, str(extra)],
                                       progress=lambda *done: seen.append(done)))
    assert [result.ok for result in results] == [True] * 7, results
    assert [result.source for result in results[:5]] == [row["location"] for row in rows] + \
        [instance.location for instance in instances]
    assert seen[-1] == (7, 7)
    by_uid = {result.sop_instance_uid: result for result in results}
    rle = next(row for row in rows if row["transfer_syntax_uid"] == RLE_LOSSLESS)
    assert by_uid[rle["SOPInstanceUID"]].reason.startswith("transcoded from rle to explicit-little")
    received = arrived(peer.out)
    assert set(received) == set(by_uid) and len(received) == 7
    assert received[rle["SOPInstanceUID"]] == EXPLICIT_VR_LITTLE_ENDIAN


def test_a_missing_indexed_file_fails_alone_or_stops_a_fail_fast_send(archive, storescp):
    peer = storescp()
    rows = archive.query("instance", {"StudyDate": "20230601"})
    os.remove(rows[0]["location"])
    with archive.kernel.open_transport(peer.url) as transport:
        results = list(transport.store(rows))
        stopped = list(transport.store(rows, continue_on_error=False))
    assert [result.ok for result in results] == [False, True]
    assert "indexed file is missing" in results[0].reason and results[0].sop_instance_uid == rows[0]["SOPInstanceUID"]
    assert [result.ok for result in stopped] == [False]
    assert set(arrived(peer.out)) == {rows[1]["SOPInstanceUID"]}
