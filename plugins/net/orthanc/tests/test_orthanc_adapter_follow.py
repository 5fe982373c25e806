"""Following Orthanc's /changes on a dedicated Orthanc with StableAge = 1 second."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gantry.cli import make_app


@pytest.fixture
def quick(dedicated_orthanc):
    """An Orthanc that calls a study stable after one quiet second."""
    return dedicated_orthanc(StableAge=1)


def _url(server):
    return f"orthanc+http://127.0.0.1:{server.http_port}"


def test_follow_sees_each_stable_study_and_resumes_from_last_seq(make_kernel, quick, corpus):
    kernel = make_kernel(discover=True)
    with kernel.open_transport(_url(quick)) as orthanc:
        from_now = orthanc.follow(poll_interval=0.1, idle_polls=3)
        assert list(from_now) == [] and from_now.last_seq == 0  # an empty Orthanc: nothing yet
        assert all(result.ok for result in orthanc.store([corpus.folder]))
        follower = orthanc.follow(since=from_now.last_seq, poll_interval=0.2)
        seen = []
        for change in follower:  # StableAge 1 s, checked by Orthanc about every second
            seen.append(change)
            if len(seen) == 3:
                follower.stop()
        assert {change.change_type for change in seen} == {"StableStudy"}
        assert sorted(change.study_instance_uid for change in seen) == sorted(corpus.studies.values())
        assert follower.last_seq == seen[-1].seq and seen == sorted(seen, key=lambda change: change.seq)
        # resuming where it stopped repeats nothing
        assert list(orthanc.follow(since=follower.last_seq, poll_interval=0.1, idle_polls=2)) == []
        # NewInstance changes on request, from the start
        replay = list(orthanc.follow(since=0, changes=("NewInstance",), poll_interval=0.1, idle_polls=1))
        assert len(replay) == 6 and {change.uid for change in replay} == set(corpus.files)


def test_follow_cli_prints_and_gets_each_stable_study(quick, corpus, tmp_path, monkeypatch, make_kernel):
    monkeypatch.chdir(tmp_path)
    with make_kernel(discover=True).open_transport(_url(quick)) as orthanc:
        assert all(result.ok for result in orthanc.store([corpus.folder]))
    out = tmp_path / "followed"
    result = CliRunner().invoke(make_app(), ["orthanc", "follow", _url(quick), "--since", "0", "--get", str(out),
                                             "--max", "3", "--poll", "0.2", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    rows = [line for line in lines if "seq" in line and "event" not in line]  # not the log lines
    assert sorted(row["uid"] for row in rows) == sorted(corpus.studies.values())
    assert sum(row["received"] for row in rows) == 6 and all(row["failed"] == 0 for row in rows)
    received = sorted(path.read_bytes() for path in out.rglob("*.dcm"))
    assert received == sorted(path.read_bytes() for path in corpus.files.values())
    assert "last seq" in result.output


def test_follow_cli_refuses_other_urls():
    result = CliRunner().invoke(make_app(), ["orthanc", "follow", "dicom://X@h:104"])
    assert result.exit_code == 2 and "orthanc+http" in result.output
