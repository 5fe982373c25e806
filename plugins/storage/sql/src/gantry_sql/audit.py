"""The audit trail: appending to the hash chain and verifying it.

Row ``n`` stores ``chain_hash(hash of row n-1, n, event)``; row 1 links to ``GENESIS_HASH``.
Appending reads the last row and writes after it inside one write transaction, after the
dialect's lock, so two appenders (threads, processes) queue instead of forking the chain. The
database itself refuses UPDATE and DELETE on the table (``Dialect.append_only_ddl``).

The detail is stored as canonical JSON text, and the hash is computed from the event as read
back from that text, so what ``verify`` recomputes is byte for byte what was hashed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gantry import StorageError
from gantry.storage import GENESIS_HASH, AuditEvent, AuditRow, AuditVerification, chain_hash
from gantry_sql.runner import Runner

_COLUMNS = "sequence, at, actor, action, sop_instance_uid, detail, previous_hash, hash"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def _stored_event(event: AuditEvent, at: str) -> tuple[AuditEvent, str]:
    """The event as it will read back, and its detail text."""
    for field in ("actor", "action", "sop_instance_uid", "at"):
        if not isinstance(getattr(event, field), str):
            raise StorageError(f"audit event {field} must be text")
    try:
        detail_text = canonical_json(dict(event.detail))
    except (TypeError, ValueError) as err:
        raise StorageError(f"audit event detail is not JSON-serialisable ({type(err).__name__})") from None
    stored = AuditEvent(actor=event.actor, action=event.action, sop_instance_uid=event.sop_instance_uid,
                        detail=json.loads(detail_text), at=event.at or at)
    return stored, detail_text


def append(runner: Runner, events: Sequence[AuditEvent], now: str) -> None:
    """Extend the chain; the caller holds the write transaction."""
    for statement in runner.dialect.lock_audit_chain():
        runner.execute_ddl(statement)
    last = runner.one("SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1")
    sequence, previous = (int(last[0]), str(last[1])) if last else (0, GENESIS_HASH)
    rows = []
    for event in events:
        stored, detail_text = _stored_event(event, now)
        sequence += 1
        digest = chain_hash(previous, sequence, stored)
        rows.append((sequence, stored.at, stored.actor, stored.action, stored.sop_instance_uid,
                     detail_text, previous, digest))
        previous = digest
    runner.execute_many(f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _row(record: Sequence[Any]) -> AuditRow:
    sequence, at, actor, action, sop_instance_uid, detail, previous_hash, digest = record
    event = AuditEvent(actor=actor, action=action, sop_instance_uid=sop_instance_uid or "",
                       detail=json.loads(detail) if isinstance(detail, str) else detail, at=at)
    return AuditRow(sequence=int(sequence), event=event, previous_hash=previous_hash, hash=digest)


def rows(runner: Runner, after: int, limit: int | None) -> list[AuditRow]:
    statement = f"SELECT {_COLUMNS} FROM audit WHERE sequence > ? ORDER BY sequence"
    params: list[Any] = [after]
    if limit is not None:
        statement += " LIMIT ?"
        params.append(limit)
    return [_row(record) for record in runner.all(statement, params)]


def verify(runner: Runner) -> AuditVerification:
    """Walk the chain in sequence order; stop at the first row that does not hold.

    ``broken_at`` is the sequence number where the chain breaks: a missing number for a gap
    (a deleted row), else the row whose link or hash is wrong. ``checked`` counts the rows that
    held before it. Removing rows from the *end* leaves a shorter valid chain: that needs an
    anchor outside the database (the last hash, kept elsewhere) to notice.
    """
    expected, previous, checked = 1, GENESIS_HASH, 0
    for record in runner.stream(f"SELECT {_COLUMNS} FROM audit ORDER BY sequence"):
        sequence = int(record[0])
        if sequence != expected:
            reason = (f"gap in sequence: row {expected} is missing (next row is {sequence})"
                      if sequence > expected else f"unexpected sequence number {sequence} before {expected}")
            return AuditVerification(ok=False, checked=checked, broken_at=min(expected, sequence), reason=reason)
        try:
            row = _row(record)
        except (TypeError, ValueError):
            return AuditVerification(ok=False, checked=checked, broken_at=sequence,
                                     reason=f"row {sequence}: detail is not valid JSON")
        if row.previous_hash != previous:
            return AuditVerification(ok=False, checked=checked, broken_at=sequence,
                                     reason=f"link mismatch: row {sequence} does not point at the hash "
                                            f"of row {sequence - 1}" if sequence > 1 else
                                            "link mismatch: row 1 does not start from the genesis hash")
        if chain_hash(row.previous_hash, sequence, row.event) != row.hash:
            return AuditVerification(ok=False, checked=checked, broken_at=sequence,
                                     reason=f"hash mismatch: row {sequence} was changed after it was written")
        previous, expected, checked = row.hash, expected + 1, checked + 1
    return AuditVerification(ok=True, checked=checked)
