"""``gantry send`` through the real command group, to our own Listener (our SCU -> our SCP)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gantry.cli import make_app


def test_send_json_round_trip_to_our_listener(site, our_listener, ct_folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    (ct_folder.path / "readme.txt").write_text("clutter")
    ours = our_listener(site.kernel)
    result = CliRunner().invoke(make_app(), ["send", f"dicom://OURAE@127.0.0.1:{ours.port}", str(ct_folder.path),
                                             "--json"])
    assert result.exit_code == 1, result.output  # the clutter failed
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    files, summary = lines[:-1], lines[-1]
    assert summary["sent"] == 6 and summary["failed"] == 1 and summary["ok"] is False
    assert sorted(entry["sop_instance_uid"] for entry in files if entry["ok"]) == sorted(ct_folder.files)
    assert [entry["reason"] for entry in files if not entry["ok"]] == ["not a DICOM file"]
    ours.stop()
    backend = site.kernel.open_storage(site.database)
    try:
        assert backend.count("instance") == 6
    finally:
        backend.close()


def test_send_to_nobody_exits_1_with_the_reason(tmp_path, monkeypatch, ct_folder, free_port):
    monkeypatch.chdir(tmp_path)
    url = f"dicom://NOBODY@127.0.0.1:{free_port()}?retries=0&timeout=2"
    result = CliRunner().invoke(make_app(), ["send", url, str(ct_folder.path)])
    assert result.exit_code == 1 and "gantry send:" in result.output and "sent 0, failed 0" in result.output
