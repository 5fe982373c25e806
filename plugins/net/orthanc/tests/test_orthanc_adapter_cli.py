"""``gantry send``, ``gantry find`` and ``gantry get`` (gantry-cstore, -cfind, -cget) with
orthanc+http:// URLs, unchanged: they open whatever transport the URL's scheme names."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gantry.cli import make_app


def test_send_find_get_round_trip(orthanc, orthanc_url, corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    (corpus.folder / "readme.txt").write_text("clutter")
    runner = CliRunner()
    sent = runner.invoke(make_app(), ["send", orthanc_url, str(corpus.folder), "--json", "-j", "2"])
    assert sent.exit_code == 1, sent.output  # the clutter failed
    lines = [json.loads(line) for line in sent.output.strip().splitlines()]
    files, summary = lines[:-1], lines[-1]
    assert (summary["sent"], summary["failed"]) == (6, 1)
    assert sorted(entry["sop_instance_uid"] for entry in files if entry["ok"]) == sorted(corpus.files)
    assert len(orthanc.rest("GET", "/instances")) == 6

    found = runner.invoke(make_app(), ["find", orthanc_url, "--level", "series", "-k", "Modality=MR",
                                       "-k", "PatientID=", "-k", "SeriesInstanceUID=", "--json"])
    assert found.exit_code == 0, found.output
    rows = [json.loads(line) for line in found.output.strip().splitlines()]
    assert sorted(row["PatientID"] for row in rows) == ["ORT-001", "ORT-002"]
    assert {row["Modality"] for row in rows} == {"MR"} and all(row["SeriesInstanceUID"] for row in rows)

    table = runner.invoke(make_app(), ["find", orthanc_url, "-k", "PatientID=ORT*", "-k", "StudyDate=2024-"])
    assert table.exit_code == 0 and "ORT-002" in table.output and "ORT-001" not in table.output
    assert "1 match" in table.output

    out = tmp_path / "got"
    got = runner.invoke(make_app(), ["get", orthanc_url, str(out), "-k", f"StudyInstanceUID={corpus.studies['ORT-001']}",
                                     "--json"])
    assert got.exit_code == 0, got.output
    summary = json.loads(got.output.strip().splitlines()[-1])
    assert (summary["received"], summary["failed"], summary["ok"]) == (3, 0, True)
    received = sorted(path.read_bytes() for path in out.rglob("*.dcm"))
    expected = sorted(path.read_bytes() for path in corpus.files.values() if "/p1/" in str(path))
    assert received == expected

    series = runner.invoke(make_app(), ["get", orthanc_url, str(tmp_path / "one"), "--level", "instance",
                                        "-k", "PatientID=XYZ-003"])
    assert series.exit_code == 0 and "received 1, failed 0" in series.output


def test_cli_against_nobody_exits_1_with_the_reason(tmp_path, monkeypatch):
    from gantry.testing.network import free_port

    monkeypatch.chdir(tmp_path)
    url = f"orthanc+http://127.0.0.1:{free_port()}?retries=0&timeout=2"
    result = CliRunner().invoke(make_app(), ["find", url, "-k", "PatientID=*"])
    assert result.exit_code == 1 and "gantry find:" in result.output and "cannot connect" in result.output


def test_echo_and_move_clis_work_too(site, loaded, orthanc, orthanc_url, tmp_path, monkeypatch):
    from gantry_dimse.testing import listeners

    monkeypatch.chdir(tmp_path)
    echoed = CliRunner().invoke(make_app(), ["echo", orthanc_url])
    assert echoed.exit_code == 0 and "HTTP 200" in echoed.output
    with listeners() as start:
        ours = start(site.kernel, "CLIAE")
        orthanc.add_modality("gantry-cli-listener", "CLIAE", ours.port)
        try:
            moved = CliRunner().invoke(make_app(), ["move", orthanc_url, "--dest", "CLIAE",
                                                    "-k", "PatientID=ORT-002", "--json"])
        finally:
            orthanc.rest("DELETE", "/modalities/gantry-cli-listener")
        ours.stop()
    assert moved.exit_code == 0, moved.output
    summary = json.loads(moved.output.strip().splitlines()[-1])
    assert (summary["completed"], summary["failed"], summary["ok"]) == (2, 0, True)
    backend = site.kernel.open_storage(site.database)
    try:
        assert backend.count("instance") == 2
    finally:
        backend.close()
