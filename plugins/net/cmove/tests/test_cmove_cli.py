"""``gantry move`` through the real command group, against our own Listener."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gantry.cli import make_app


def test_move_json_prints_progress_and_a_summary(moving_site, our_listener, destination, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ours = our_listener(moving_site.kernel)
    study_uid = moving_site.study_uids()[0]
    result = CliRunner().invoke(make_app(), ["move", f"dicom://OURAE@127.0.0.1:{ours.port}", "--dest", "DEST",
                                             "-k", f"StudyInstanceUID={study_uid}", "--json"])
    assert result.exit_code == 0, result.output
    *pending, summary = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [line["remaining"] for line in pending] == [2, 1, 0]
    assert (summary["completed"], summary["failed"], summary["warning"], summary["ok"]) == (3, 0, 0, True)
    assert destination.received() == {row["SOPInstanceUID"] for row in moving_site.query("instance", {"StudyInstanceUID": study_uid})}


def test_move_to_an_unknown_destination_exits_1(moving_site, our_listener, destination, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ours = our_listener(moving_site.kernel)
    result = CliRunner().invoke(make_app(), ["move", f"dicom://OURAE@127.0.0.1:{ours.port}", "--dest", "NOWHERE",
                                             "-k", f"StudyInstanceUID={moving_site.study_uids()[0]}", "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["ok"] is False and "Move Destination Unknown" in summary["error"]
