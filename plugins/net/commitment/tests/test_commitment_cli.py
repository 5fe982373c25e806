"""``gantry commit`` through the real command group, against our own listener as the performer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from gantry.cli import make_app
from gantry.testing.datasets import make_dataset, write_dataset

from gantry_dimse.testing import free_port, wait_until


def run(tmp_path: Path, monkeypatch: Any, config: str, *args: str) -> Any:
    """``gantry ARGS`` with ``config`` as the site's gantry.toml."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gantry.toml").write_text(config)
    return CliRunner().invoke(make_app(), list(args))


def lines(result: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    *instances, summary = [json.loads(line) for line in result.stdout.strip().splitlines()]
    return instances, summary


def test_commit_files_reports_each_instance(commit_site: Any, our_listener: Any, tmp_path: Path,
                                            monkeypatch: Any) -> None:
    ours = our_listener(commit_site.kernel)
    extra = tmp_path / "extra"
    extra.mkdir()
    stranger = make_dataset(patient=2, study=9, series=9, instance=9, rows=4, columns=4)  # not in the index
    write_dataset(stranger, extra / "stranger.dcm")
    (extra / "notes.txt").write_text("not DICOM")
    result = run(tmp_path, monkeypatch, "", "commit", f"dicom://OURAE@127.0.0.1:{ours.port}",
                 str(commit_site.folder), str(extra), "--json")
    assert result.exit_code == 1, result.output
    instances, summary = lines(result)
    assert (summary["committed"], summary["failed"], summary["unreadable"], summary["ok"]) == (3, 1, 1, False)
    assert summary["error"] is None and summary["transaction_uid"]
    assert {line["sop_instance_uid"] for line in instances if line.get("ok")} == {
        uid for _, uid in commit_site.references}
    refused = [line for line in instances if "sop_instance_uid" in line and not line["ok"]]
    assert [(line["sop_instance_uid"], line["failure_reason"]) for line in refused] == [
        (str(stranger.SOPInstanceUID), 0x0112)]
    assert [Path(line["source"]).name for line in instances if "source" in line] == ["notes.txt"]


def test_commit_from_the_index_with_the_report_on_a_new_association(
        site_with: Any, audit_events: Any, our_listener: Any, tmp_path: Path, monkeypatch: Any) -> None:
    port = free_port()
    site = site_with("performer", {"commitment": {
        "report_on": "new", "requestors": [{"ae": "REQUESTER", "host": "127.0.0.1", "port": port}]}})
    ours = our_listener(site.kernel)
    config = (f'[storage]\ndatabase = "{site.database}"\n\n'
              f'[commitment]\nlisten = "dicom://REQUESTER@127.0.0.1:{port}"\ntimeout = 20\n')
    study = site.kernel.open_storage(site.database)
    try:
        study_uid = study.query("study")[0]["StudyInstanceUID"]
    finally:
        study.close()
    result = run(tmp_path, monkeypatch, config, "commit", f"dicom://OURAE@127.0.0.1:{ours.port}",
                 "--index", "-k", f"StudyInstanceUID={study_uid}")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("committed 3, failed 0 (transaction ")
    transaction_uid = result.stdout.split("transaction ")[1].strip(" )\n")
    # Our CLI's listener received the report (from the performer's AE) and audited it.
    assert wait_until(lambda: any(e.action == "commitment.reported" for e in audit_events(site.kernel)), 30)
    events = audit_events(site.kernel)
    committed = [e for e in events if e.action == "commitment.committed"]
    assert {e.sop_instance_uid for e in committed} == {uid for _, uid in site.references}
    assert all(e.detail["transaction_uid"] == transaction_uid and e.detail["claimed"] for e in committed)
    assert [e.detail["association"] for e in events if e.action == "commitment.reported"] == ["new"]


def test_commit_needs_paths_or_index(tmp_path: Path, monkeypatch: Any) -> None:
    assert run(tmp_path, monkeypatch, "", "commit", "dicom://X@127.0.0.1:1").exit_code == 2
    result = run(tmp_path, monkeypatch, "", "commit", "dicom://X@127.0.0.1:1", str(tmp_path), "-k", "A=1")
    assert result.exit_code == 2 and "--index" in result.output


def test_commit_to_an_unreachable_node_exits_1(commit_site: Any, tmp_path: Path, monkeypatch: Any) -> None:
    result = run(tmp_path, monkeypatch, "", "commit", f"dicom://NOBODY@127.0.0.1:{free_port()}?retries=0",
                 str(commit_site.folder))
    assert result.exit_code == 1
    assert "committed 0, failed 0" in result.stdout
