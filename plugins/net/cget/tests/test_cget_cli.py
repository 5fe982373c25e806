"""``gantry get`` through the real command group, against our own Listener."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gantry.cli import make_app


def test_get_json_prints_each_instance_and_a_summary(indexed_site, our_listener, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    ours = our_listener(indexed_site.kernel)
    study_uid = indexed_site.study_uids()[0]
    out = tmp_path / "out"
    result = CliRunner().invoke(make_app(), ["get", f"dicom://OURAE@127.0.0.1:{ours.port}", str(out),
                                             "-k", f"StudyInstanceUID={study_uid}", "--json"])
    assert result.exit_code == 0, result.output
    *instances, summary = [json.loads(line) for line in result.output.strip().splitlines()]
    expected = {row["SOPInstanceUID"] for row in indexed_site.query("instance", {"StudyInstanceUID": study_uid})}
    assert {line["sop_instance_uid"] for line in instances} == expected
    assert all(line["ok"] and line["location"].startswith(str(out)) for line in instances)
    assert (summary["received"], summary["failed"], summary["ok"], summary["status"]) == (3, 0, True, 0)


def test_get_from_an_unreachable_node_exits_1(tmp_path, monkeypatch):
    from gantry_dimse.testing import free_port

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(make_app(), ["get", f"dicom://NOBODY@127.0.0.1:{free_port()}?retries=0",
                                             str(tmp_path / "out"), "-k", "StudyInstanceUID=1.2.3"])
    assert result.exit_code == 1
    assert "received 0, failed 0" in result.output
