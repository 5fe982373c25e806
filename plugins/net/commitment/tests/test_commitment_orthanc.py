"""Storage Commitment both ways with a real Orthanc 1.10 (the session's ``orthanc_server``), which
reports on a new association to the requesting modality and expects the same from its peers:
``gantry commit`` asking Orthanc, and Orthanc (``POST /modalities/{id}/storage-commitment``)
asking our listener, its report endpoint showing what we answered."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gantry.cli import make_app

from gantry_dimse.testing import free_port, wait_until

NO_SUCH_OBJECT_INSTANCE = 0x0112


def orthanc_report(orthanc: Any, path: str, seconds: float = 30.0) -> dict[str, Any]:
    """Orthanc's record of a commitment it asked for, once it is no longer pending."""
    deadline = time.monotonic() + seconds
    while True:
        report = orthanc.rest("GET", path)
        if report.get("Status") != "Pending" or time.monotonic() > deadline:
            return dict(report)
        time.sleep(0.1)


def test_gantry_commit_against_orthanc(orthanc_server: Any, site_with: Any, audit_events: Any, tmp_path: Path,
                                       monkeypatch: Any) -> None:
    orthanc_server.clear()
    site = site_with("site")
    files = sorted(site.folder.glob("*.dcm"))
    for path in files[:2]:  # Orthanc holds two of the three
        orthanc_server.upload(path.read_bytes())
    port = free_port()
    orthanc_server.add_modality("gantry-requester", "REQUESTER", port)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gantry.toml").write_text(f'[storage]\ndatabase = "{site.database}"\n')
    result = CliRunner().invoke(make_app(), ["commit", orthanc_server.dicom_url, *map(str, files), "--json",
                                             "--listen", f"dicom://REQUESTER@127.0.0.1:{port}", "--timeout", "30"])
    assert result.exit_code == 1, result.output  # one instance is not there
    *instances, summary = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert (summary["committed"], summary["failed"], summary["error"]) == (2, 1, None)
    held = {uid for _, uid in site.references}
    committed = {line["sop_instance_uid"] for line in instances if line["ok"]}
    failed = [(line["sop_instance_uid"], line["failure_reason"]) for line in instances if not line["ok"]]
    missing = (held - committed).pop()
    assert failed == [(missing, NO_SUCH_OBJECT_INSTANCE)]
    orthanc_uids = {orthanc_server.rest("GET", f"/instances/{i}/simplified-tags")["SOPInstanceUID"]
                    for i in orthanc_server.rest("GET", "/instances")}
    assert committed == orthanc_uids
    # Orthanc reported on a new association to our listener, which audited every instance.
    events = audit_events(site.kernel)
    assert {(e.action, e.sop_instance_uid) for e in events if e.action.startswith("commitment.")} == (
        {("commitment.committed", uid) for uid in committed} | {("commitment.failed", missing)})
    assert {e.actor for e in events if e.action.startswith("commitment.")} == {"dicom:ORTHANC"}


@pytest.mark.parametrize("report_on", ["new", "same"])
def test_orthanc_asks_our_listener(orthanc_server: Any, site_with: Any, audit_events: Any, our_listener: Any,
                                   report_on: str) -> None:
    site = site_with(f"performer-{report_on}", {"commitment": {"report_on": report_on, "requestors": [
        {"ae": "ORTHANC", "host": "127.0.0.1", "port": orthanc_server.dicom_port}]}})
    ours = our_listener(site.kernel, "GANTRYSCP")
    orthanc_server.add_modality("gantry-performer", "GANTRYSCP", ours.port)
    unknown = (site.references[0][0], "1.2.826.0.1.3680043.10.1432.404")
    asked = [{"SOPClassUID": c, "SOPInstanceUID": i} for c, i in [*site.references, unknown]]
    job = orthanc_server.rest("POST", "/modalities/gantry-performer/storage-commitment",
                              {"DicomInstances": asked, "Timeout": 30})
    report = orthanc_report(orthanc_server, job["Path"])
    assert report["Status"] == "Failure" and report["RemoteAET"] == "GANTRYSCP", report
    assert {(s["SOPClassUID"], s["SOPInstanceUID"]) for s in report["Success"]} == set(site.references)
    assert [(f["SOPInstanceUID"], f["FailureReason"]) for f in report["Failures"]] == [
        (unknown[1], NO_SUCH_OBJECT_INSTANCE)]
    assert wait_until(lambda: any(e.action == "commitment.reported" for e in audit_events(site.kernel)), 30)
    reported = [e for e in audit_events(site.kernel) if e.action == "commitment.reported"]
    assert [(e.actor, e.detail["transaction_uid"], e.detail["committed"], e.detail["failed"]) for e in reported] == [
        ("dicom:ORTHANC", job["ID"], 3, 1)]
    # Orthanc releases its association once the N-ACTION is answered: a new one carried the report.
    assert reported[0].detail["association"] == "new"
