"""The Storage Commitment SCU: ``request_commitment(channel, references)``.

Sends the N-ACTION (Action Type 1: Transaction UID and Referenced SOP Sequence) and waits for
the peer's N-EVENT-REPORT with that Transaction UID (event type 1: all committed; 2: some failed,
with Failed SOP Sequence and Failure Reason), on either path (PS3.4 J.3.3):

- on the same association: pynetdicom's requestor reactor serves the incoming N-EVENT-REPORT once
  ``send_n_action`` has returned; a handler bound on the association for the duration of the
  request answers it (Success) and hands it over;
- on a new association the peer opens to our listener (``gantry listen``, or the one
  ``gantry commit --listen`` runs): the commitment role's handler there hands it over.

Both go through :data:`~gantry_commitment.pending.PENDING`, where the request registers its
Transaction UID before the N-ACTION goes out. With ``release=True`` the association is released
right after the N-ACTION response, for peers that report only once the requestor has gone.
"""

from __future__ import annotations

import queue
from collections.abc import Sequence
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import evt

from gantry import TransportError

from gantry_commitment.model import (
    ALL_COMMITTED, PROCESSING_FAILURE, REQUEST_COMMITMENT, SOME_FAILED, STORAGE_COMMITMENT_SOP_CLASS,
    STORAGE_COMMITMENT_SOP_INSTANCE, CommitmentResult, Failure, reference_sequence, references_of,
)
from gantry_commitment.pending import PENDING
from gantry_dimse.services import AssociationLost, DimseChannel

#: How long to wait for the N-EVENT-REPORT after the N-ACTION response.
REPORT_TIMEOUT_SECONDS = 30.0

SUCCESS = 0x0000


def request_commitment(channel: DimseChannel, references: Sequence[tuple[str, str]], *,
                       transaction_uid: str | None = None, timeout: float = REPORT_TIMEOUT_SECONDS,
                       release: bool = False) -> CommitmentResult:
    """Ask the peer to commit to keep ``references`` (``(sop_class_uid, sop_instance_uid)`` pairs).

    A refused N-ACTION, or no N-EVENT-REPORT for this transaction within ``timeout`` seconds (on
    this association or on our listener), is a TransportError."""
    references = [(str(c), str(i)) for c, i in references]
    if not references:
        raise TransportError(f"{channel.url}: storage commitment needs at least one instance")
    transaction_uid = transaction_uid or generate_uid()
    request = Dataset()
    request.TransactionUID = transaction_uid
    request.ReferencedSOPSequence = reference_sequence(references)

    def on_report(event: Any) -> tuple[int, None]:
        try:
            info = event.event_information
            PENDING.deliver(str(info.get("TransactionUID", "") or ""), int(event.event_type or 0), info)
        except Exception:  # an undecodable Event Information
            return PROCESSING_FAILURE, None
        return SUCCESS, None

    def run(association: Any) -> CommitmentResult | None:
        association.bind(evt.EVT_N_EVENT_REPORT, on_report)
        try:
            status, _reply = association.send_n_action(request, REQUEST_COMMITMENT, STORAGE_COMMITMENT_SOP_CLASS,
                                                       STORAGE_COMMITMENT_SOP_INSTANCE)
            if "Status" not in status:
                raise AssociationLost(f"{channel.url}: no N-ACTION response (the association ended or "
                                      f"the DIMSE timeout passed)")
            if status.Status != SUCCESS:
                comment = str(status.get("ErrorComment", "") or "")
                raise TransportError(f"{channel.url}: storage commitment request refused "
                                     f"(status 0x{int(status.Status):04X}){': ' + comment if comment else ''}")
            if release:
                association.release()  # the pool drops it: it is no longer established
                return None
            return _wait(waiter, channel.url, transaction_uid, timeout)
        finally:
            association.unbind(evt.EVT_N_EVENT_REPORT, on_report)

    waiter = PENDING.expect(transaction_uid)
    try:
        result = channel.run((STORAGE_COMMITMENT_SOP_CLASS,), run)
        return result if result is not None else _wait(waiter, channel.url, transaction_uid, timeout)
    finally:
        PENDING.forget(transaction_uid)


def _wait(waiter: queue.Queue[tuple[int, Dataset]], url: str, transaction_uid: str,
          timeout: float) -> CommitmentResult:
    try:
        event_type, info = waiter.get(timeout=timeout)
    except queue.Empty:
        PENDING.forget(transaction_uid)  # at once: a report from now on is one nobody waits for
        raise TransportError(f"{url}: no storage commitment report for transaction "
                             f"{transaction_uid} within {timeout:g} s") from None
    return _result(transaction_uid, event_type, info)


def _result(transaction_uid: str, event_type: int, info: Dataset) -> CommitmentResult:
    committed = tuple(references_of(info.get("ReferencedSOPSequence")))
    failed = tuple(Failure(sop_class_uid=str(item.get("ReferencedSOPClassUID", "") or ""),
                           sop_instance_uid=str(item.get("ReferencedSOPInstanceUID", "") or ""),
                           reason=int(item.get("FailureReason", PROCESSING_FAILURE)))
                   for item in info.get("FailedSOPSequence") or ())
    if event_type not in (ALL_COMMITTED, SOME_FAILED):
        raise TransportError(f"unexpected storage commitment event type {event_type}")
    return CommitmentResult(transaction_uid=transaction_uid, committed=committed, failed=failed)
