"""``gantry send|find|get|echo`` unchanged, with a dicomweb+http URL, against the real Orthanc."""

from __future__ import annotations

import json

import pydicom
from click.testing import CliRunner

from gantry.cli import make_app
from gantry.testing.datasets import make_dataset

from gantry_dicomweb.testing import dicomweb_url

STUDY_UID = make_dataset(study=1).StudyInstanceUID


def run(*args: str) -> object:
    return CliRunner().invoke(make_app(), list(args))


def test_send_find_get_round_trip(orthanc, study_files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    url = dicomweb_url(orthanc)

    sent = run("send", url, *study_files, "--json")
    assert sent.exit_code == 0, sent.output
    *files, summary = [json.loads(line) for line in sent.output.strip().splitlines()]
    assert (summary["sent"], summary["failed"], summary["ok"]) == (5, 0, True)
    assert all(line["ok"] for line in files)
    assert len(orthanc.rest("GET", "/instances")) == 5

    found = run("find", url, "--level", "series", "-k", f"StudyInstanceUID={STUDY_UID}",
                "-k", "SeriesNumber=", "-k", "Modality=CT", "--json")
    assert found.exit_code == 0, found.output
    rows = [json.loads(line) for line in found.output.strip().splitlines()]
    assert sorted(row["SeriesNumber"] for row in rows) == ["1", "2"]

    out = tmp_path / "out"
    got = run("get", url, str(out), "-k", f"StudyInstanceUID={STUDY_UID}", "--json")
    assert got.exit_code == 0, got.output
    *instances, summary = [json.loads(line) for line in got.output.strip().splitlines()]
    assert (summary["received"], summary["failed"], summary["ok"]) == (5, 0, True)
    originals = {str(pydicom.dcmread(path).SOPInstanceUID): open(path, "rb").read() for path in study_files}
    assert {line["sop_instance_uid"]: open(line["location"], "rb").read() for line in instances} == originals


def test_send_reports_a_file_the_server_refused_and_exits_1(orthanc, study_files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    result = run("send", dicomweb_url(orthanc), study_files[0], str(junk))
    assert result.exit_code == 1
    assert f"failed {junk}: not a DICOM file" in result.output and "sent 1, failed 1" in result.output


def test_find_table_and_echo(orthanc, study_files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = dicomweb_url(orthanc)
    assert run("send", url, study_files[0]).exit_code == 0
    table = run("find", url, "-k", "PatientID=PHI*", "-k", "StudyDescription=")
    assert table.exit_code == 0, table.output
    assert "Synthetic study" in table.output and "1 match" in table.output
    echoed = run("echo", url, "--json")
    assert echoed.exit_code == 0, echoed.output
    assert json.loads(echoed.output)["echoes"][0]["status"] == 200
    shown = run("echo", url)  # gantry-dimse's echo command, which printed AE titles only
    assert shown.exit_code == 0, shown.output
    assert f"echo 1/1 {url}: status HTTP 200" in shown.output


def test_unreachable_server_exits_1(tmp_path, monkeypatch):
    from gantry.testing.network import free_port

    monkeypatch.chdir(tmp_path)
    url = f"dicomweb+http://127.0.0.1:{free_port()}/dicom-web?retries=0"
    result = run("find", url, "-k", "PatientID=1")
    assert result.exit_code == 1 and "ConnectError" in result.output
    result = run("get", url, str(tmp_path / "out"), "-k", "StudyInstanceUID=1.2.3")
    assert result.exit_code == 1 and "received 0, failed 0" in result.output
