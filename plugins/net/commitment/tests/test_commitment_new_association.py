"""The report on a new association, both ways with our SCU and SCP on real sockets: the SCP opens
an association back to the requestor's listener (found in ``[commitment] requestors``), which
hands the report to the waiting request and audits it."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from gantry import TransportError

from gantry_commitment.model import NO_SUCH_OBJECT_INSTANCE
from gantry_commitment.scp import CommitmentScp, commitment_scp
from gantry_commitment.scu import request_commitment
from gantry_dimse.testing import free_port, wait_until

REQUESTER = "REQUESTER"


def performer(site_with: Any, report_on: str, requester_port: int, **settings: Any) -> Any:
    """The SCP's site: reports go to REQUESTER at 127.0.0.1:requester_port on a new association."""
    return site_with("performer", {"commitment": {
        "report_on": report_on, "report_retry_wait": 0.2,
        "requestors": [{"ae": REQUESTER, "host": "127.0.0.1", "port": requester_port}], **settings}})


def reported(audit_events: Any, kernel: Any, action: str = "commitment.reported") -> list[Any]:
    """The performer's audit rows for its reports, once the report thread has written one."""
    assert wait_until(lambda: any(e.action == action for e in audit_events(kernel)), 30)
    return [e for e in audit_events(kernel) if e.action == action]


def commit(site: Any, port: int, references: list[tuple[str, str]], **options: Any) -> Any:
    with site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{port}?calling={REQUESTER}") as peer:
        return request_commitment(peer, references, **options)


def test_report_on_new_association(site_with: Any, requester_kernel: Any, audit_events: Any,
                                   our_listener: Any) -> None:
    requester = requester_kernel
    receiver = our_listener(requester, REQUESTER, roles=[commitment_scp(requester)])
    site = performer(site_with, "new", receiver.port)
    ours = our_listener(site.kernel)
    unknown = (site.references[0][0], "1.2.826.0.1.3680043.10.404")
    result = commit(site, ours.port, [*site.references, unknown], timeout=10)
    assert sorted(result.committed) == sorted(site.references)
    assert [(f.sop_instance_uid, f.reason) for f in result.failed] == [(unknown[1], NO_SUCH_OBJECT_INSTANCE)]
    assert receiver.accepted == 1  # the performer came back to us
    received = audit_events(requester)
    assert {(e.action, e.sop_instance_uid) for e in received} == (
        {("commitment.committed", uid) for _, uid in site.references} | {("commitment.failed", unknown[1])})
    assert all(e.detail["transaction_uid"] == result.transaction_uid and e.detail["claimed"] for e in received)
    assert all(e.actor == "dicom:OURAE" for e in received)
    assert [(e.actor, e.detail["association"], e.detail["committed"], e.detail["failed"])
            for e in reported(audit_events, site.kernel)] == [(f"dicom:{REQUESTER}", "new", 3, 1)]


def test_requestor_that_released_gets_the_report_on_a_new_association(
        site_with: Any, requester_kernel: Any, audit_events: Any, our_listener: Any, monkeypatch: Any) -> None:
    receiver = our_listener(requester_kernel, REQUESTER, roles=[commitment_scp(requester_kernel)])
    site = performer(site_with, "same", receiver.port)
    ours = our_listener(site.kernel)
    check = CommitmentScp._check

    def slow_check(self: Any, *args: Any) -> Any:  # a performer still checking when the requestor leaves
        assert wait_until(lambda: ours.released == 1)
        return check(self, *args)

    monkeypatch.setattr(CommitmentScp, "_check", slow_check)
    result = commit(site, ours.port, site.references, release=True, timeout=20)
    assert sorted(result.committed) == sorted(site.references) and result.ok
    assert receiver.accepted == 1
    assert [e.detail["association"] for e in reported(audit_events, site.kernel)] == ["new"]


def test_same_setting_keeps_the_report_on_an_open_association(
        site_with: Any, requester_kernel: Any, audit_events: Any, our_listener: Any) -> None:
    receiver = our_listener(requester_kernel, REQUESTER, roles=[commitment_scp(requester_kernel)])
    site = performer(site_with, "same", receiver.port)
    ours = our_listener(site.kernel)
    result = commit(site, ours.port, site.references)
    assert result.ok and receiver.accepted == 0
    assert [e.detail["association"] for e in reported(audit_events, site.kernel)] == ["same"]


def test_late_report_is_audited_when_nobody_waits(
        site_with: Any, requester_kernel: Any, audit_events: Any, our_listener: Any, monkeypatch: Any) -> None:
    receiver = our_listener(requester_kernel, REQUESTER, roles=[commitment_scp(requester_kernel)])
    site = performer(site_with, "new", receiver.port)
    ours = our_listener(site.kernel)
    gave_up = threading.Event()
    check = CommitmentScp._check

    def slow_check(self: Any, *args: Any) -> Any:  # the performer takes longer than the requester waits
        gave_up.wait(10)
        return check(self, *args)

    monkeypatch.setattr(CommitmentScp, "_check", slow_check)
    with pytest.raises(TransportError, match="no storage commitment report"):
        commit(site, ours.port, site.references, timeout=0.5)
    gave_up.set()
    assert wait_until(lambda: len(audit_events(requester_kernel)) == 3, 30)
    late = audit_events(requester_kernel)
    assert {e.sop_instance_uid for e in late} == {uid for _, uid in site.references}
    assert all(e.action == "commitment.committed" and e.detail["claimed"] is False for e in late)


def test_unknown_requestor_is_audited_as_undelivered(site_with: Any, audit_events: Any, our_listener: Any) -> None:
    site = site_with("performer", {"commitment": {"report_on": "new"}})
    ours = our_listener(site.kernel)
    with pytest.raises(TransportError, match="no storage commitment report"):
        commit(site, ours.port, site.references, timeout=1)
    failed = reported(audit_events, site.kernel, "commitment.report_failed")
    assert "requestors" in failed[0].detail["reason"]


def test_unreachable_requestor_is_retried_then_audited(site_with: Any, audit_events: Any, our_listener: Any) -> None:
    site = site_with("performer", {"dimse": {"retries": 0}, "commitment": {
        "report_on": "new", "report_retries": 2, "report_retry_wait": 0.2,
        "requestors": [{"ae": REQUESTER, "host": "127.0.0.1", "port": free_port()}]}})  # nobody listens there
    ours = our_listener(site.kernel)
    with pytest.raises(TransportError, match="no storage commitment report"):
        commit(site, ours.port, site.references, timeout=0.5)
    failed = reported(audit_events, site.kernel, "commitment.report_failed")
    assert failed[0].detail["attempts"] == 3 and failed[0].actor == f"dicom:{REQUESTER}"
