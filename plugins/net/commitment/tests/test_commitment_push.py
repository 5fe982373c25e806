"""Our Storage Commitment SCU against our SCP, on real sockets: the report on the same association."""

from __future__ import annotations

from typing import Any

from gantry_commitment.model import CLASS_INSTANCE_CONFLICT, NO_SUCH_OBJECT_INSTANCE
from gantry_commitment.scu import request_commitment


def _commit(site: Any, port: int, references: list[tuple[str, str]], **options: Any) -> Any:
    with site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{port}") as peer:
        return request_commitment(peer, references, **options)


def test_listener_offers_commitment(commit_site: Any, our_listener: Any) -> None:
    assert "N-ACTION" in our_listener(commit_site.kernel).services


def test_every_indexed_instance_is_committed(commit_site: Any, our_listener: Any) -> None:
    ours = our_listener(commit_site.kernel)
    result = _commit(commit_site, ours.port, commit_site.references, transaction_uid="1.2.826.0.1.3680043.10.1")
    assert result.transaction_uid == "1.2.826.0.1.3680043.10.1"
    assert sorted(result.committed) == sorted(commit_site.references)
    assert result.failed == () and result.ok


def test_unknown_instance_fails_with_a_reason(commit_site: Any, our_listener: Any) -> None:
    ours = our_listener(commit_site.kernel)
    sop_class = commit_site.references[0][0]
    unknown = (sop_class, "1.2.826.0.1.3680043.10.999")
    result = _commit(commit_site, ours.port, [*commit_site.references, unknown])
    assert sorted(result.committed) == sorted(commit_site.references)
    assert [(f.sop_class_uid, f.sop_instance_uid) for f in result.failed] == [unknown]
    assert result.failed[0].reason == NO_SUCH_OBJECT_INSTANCE
    assert result.failed[0].reason_text == "no such object instance"
    assert not result.ok and result.transaction_uid


def test_wrong_sop_class_is_a_conflict(commit_site: Any, our_listener: Any) -> None:
    ours = our_listener(commit_site.kernel)
    wrong = ("1.2.840.10008.5.1.4.1.1.4", commit_site.references[0][1])  # MR class for a CT instance
    result = _commit(commit_site, ours.port, [wrong])
    assert result.committed == ()
    assert [f.reason for f in result.failed] == [CLASS_INSTANCE_CONFLICT]


def test_two_requests_share_the_association(commit_site: Any, our_listener: Any) -> None:
    ours = our_listener(commit_site.kernel)
    with commit_site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}") as peer:
        first = request_commitment(peer, commit_site.references[:1])
        second = request_commitment(peer, commit_site.references[1:])
    assert first.transaction_uid != second.transaction_uid
    assert first.committed == tuple(commit_site.references[:1])
    assert sorted(second.committed) == sorted(commit_site.references[1:])
    assert ours.accepted == 1
