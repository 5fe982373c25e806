"""The C-MOVE SCU: ``peer.retrieve(level, keys, destination="AE")`` on a ``dicom://`` adapter.

The peer sends the matching instances to ``destination`` on an association of its own; we only
hear its responses. Each pending response becomes a RetrieveResult with the sub-operation counts
(remaining, completed, failed, warning), then the final one. Success, Warning (some sub-operations
failed) and Cancel end normally; a Failure status is a TransportError naming its meaning.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydicom import Dataset

from gantry import TransportError
from gantry.transport import RetrieveResult

from gantry_cfind.scu import prepare_query
from gantry_cmove.models import CANCELLED, MOVE_SOP_CLASSES, PENDING, SUCCESS, WARNING, meaning
from gantry_dimse.services import AssociationLost, DimseChannel

MESSAGE_ID = 1


def move_scu(channel: DimseChannel, level: str, keys: Mapping[str, str], *, destination: str,
             model: str = "study") -> Iterator[RetrieveResult]:
    """Ask the peer to send every instance matching ``keys`` at ``level`` to the AE ``destination``."""
    if not destination or not destination.strip():
        raise TransportError(f"{channel.url}: C-MOVE needs a destination AE title")
    identifier, _find_class = prepare_query(channel.url, level, keys, model)
    sop_class = MOVE_SOP_CLASSES[model]

    def move(association: Any) -> list[RetrieveResult]:
        return _send_move(association, identifier, sop_class, destination.strip(), channel.url)

    return iter(channel.run((sop_class,), move))


def _send_move(association: Any, identifier: Dataset, sop_class: str, destination: str,
               url: str) -> list[RetrieveResult]:
    results: list[RetrieveResult] = []
    for status, _identifier in association.send_c_move(identifier, destination, sop_class, msg_id=MESSAGE_ID):
        if "Status" not in status:
            raise AssociationLost(f"{url}: no C-MOVE response (the association ended or the DIMSE timeout passed)")
        code = int(status.Status)
        if code == PENDING:
            results.append(_result(status, ok=True))
            continue
        if code in (SUCCESS, CANCELLED, WARNING):
            return [*results, _result(status, ok=code == SUCCESS)]
        raise TransportError(f"{url}: C-MOVE to {destination} failed: {status_text(status)}")
    raise AssociationLost(f"{url}: the C-MOVE ended without a final status")


def _result(status: Dataset, *, ok: bool) -> RetrieveResult:
    def count(keyword: str) -> int | None:
        value = status.get(keyword)
        return None if value is None else int(value)

    return RetrieveResult(ok=ok, status=int(status.Status), reason=status_text(status),
                          remaining=count("NumberOfRemainingSuboperations"),
                          completed=count("NumberOfCompletedSuboperations"),
                          failed=count("NumberOfFailedSuboperations"),
                          warning=count("NumberOfWarningSuboperations"))


def status_text(status: Dataset) -> str:
    """``status 0xA801 (Move Destination Unknown): <the peer's comment>``."""
    code = int(status.Status)
    comment = str(status.get("ErrorComment", "") or "").strip()
    return f"status 0x{code:04X} ({meaning(code)})" + (f": {comment}" if comment else "")
