"""The Storage Commitment roles ``gantry listen`` adds: the SCP answering N-ACTION from the index,
and the receiver of the reports peers send us on a new association.

- **N-ACTION** (Request Storage Commitment): every reference is checked against the site's index
  (indexed, and indexed with the same SOP Class UID: otherwise Failure Reason 0112H or 0119H), the
  answer is Success, and the N-EVENT-REPORT (event type 1, or 2 with the Failed SOP Sequence) is
  delivered by :class:`~gantry_commitment.reporting.ReportSender`: on the same association or on
  a new one, as ``[commitment] report_on`` says.
- **N-EVENT-REPORT** (a peer reporting on a transaction we asked for, on a new association; it
  proposes to be the SCP of the Storage Commitment SOP class there, which ``role_selection``
  accepts): answered Success, handed to the request waiting for it in this process
  (:data:`~gantry_commitment.pending.PENDING`, by Transaction UID), and recorded in the audit
  trail, one row per instance, so that a report nobody waits for any more is not lost.
"""

from __future__ import annotations

import threading
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import evt

from gantry import GantryError
from gantry.log import Phi, get_logger
from gantry.storage import AuditEvent

from gantry_commitment.model import (
    ALL_COMMITTED, CLASS_INSTANCE_CONFLICT, NO_SUCH_OBJECT_INSTANCE, PROCESSING_FAILURE, REQUEST_COMMITMENT,
    SOME_FAILED, STORAGE_COMMITMENT_SOP_CLASS, reference_sequence, references_of,
)
from gantry_commitment.pending import PENDING
from gantry_commitment.reporting import ReportSender
from gantry_commitment.settings import CommitmentSettings
from gantry_dimse.services import ScpRole, failure_status

log = get_logger(__name__)

SUCCESS = 0x0000
NO_SUCH_ACTION_TYPE = 0x0123
MISSING_ATTRIBUTE = 0x0120
PROCESSING = 0x0110
NO_SUCH_EVENT_TYPE = 0x0113
NO_SUCH_SOP_CLASS = 0x0118


class CommitmentScp:
    """Both Storage Commitment handlers of a listener (see the module docstring)."""

    def __init__(self, kernel: Any, backend: Any, settings: CommitmentSettings | None = None) -> None:
        self.backend = backend
        self._lock = threading.Lock()
        self.sender = ReportSender(kernel, settings or CommitmentSettings(), self._audit)

    def handle_action(self, event: Any) -> tuple[Any, Dataset | None]:
        if event.action_type != REQUEST_COMMITMENT:
            return failure_status(NO_SUCH_ACTION_TYPE, f"action type {event.action_type} is not 1"), None
        try:
            request = event.action_information
        except Exception:
            return failure_status(PROCESSING, "the Action Information cannot be decoded"), None
        transaction_uid = str(request.get("TransactionUID", "") or "")
        references = references_of(request.get("ReferencedSOPSequence"))
        if not transaction_uid or not references:
            return failure_status(MISSING_ATTRIBUTE, "Transaction UID and Referenced SOP Sequence are required"), None
        # The check runs with the delivery, after the response: the requestor hears at once.
        self.sender.start(event.assoc, transaction_uid, lambda: self.report(transaction_uid, references))
        return SUCCESS, None

    def handle_report(self, event: Any) -> tuple[int, None]:
        """A peer's report on a transaction we requested: hand it over, and audit it."""
        if str(event.request.AffectedSOPClassUID) != STORAGE_COMMITMENT_SOP_CLASS:
            return NO_SUCH_SOP_CLASS, None
        if event.event_type not in (ALL_COMMITTED, SOME_FAILED):
            return NO_SUCH_EVENT_TYPE, None
        try:
            info = event.event_information
            transaction_uid = str(info.get("TransactionUID", "") or "")
            committed = references_of(info.get("ReferencedSOPSequence"))
            failed = [(ref, int(item.get("FailureReason", PROCESSING_FAILURE)))
                      for ref, item in zip(references_of(info.get("FailedSOPSequence")),
                                           info.get("FailedSOPSequence") or (), strict=True)]
        except Exception:
            return PROCESSING, None
        if not transaction_uid:
            return MISSING_ATTRIBUTE, None
        claimed = PENDING.waiting(transaction_uid)
        remote = str(event.assoc.requestor.ae_title).strip()
        base = {"transaction_uid": transaction_uid, "claimed": claimed}
        events = [AuditEvent(actor=f"dicom:{remote}", action="commitment.committed", sop_instance_uid=uid,
                             detail={**base, "sop_class_uid": class_uid}) for class_uid, uid in committed]
        events += [AuditEvent(actor=f"dicom:{remote}", action="commitment.failed", sop_instance_uid=uid,
                              detail={**base, "sop_class_uid": class_uid, "failure_reason": reason})
                   for (class_uid, uid), reason in failed]
        log.info("commitment.report_received", remote_ae=remote, committed=len(committed), failed=len(failed),
                 claimed=claimed)
        try:
            self._audit(events)
        except GantryError as err:
            log.warning("commitment.audit_failed", error=Phi(str(err)))
            return PROCESSING, None
        PENDING.deliver(transaction_uid, int(event.event_type), info)  # last: the request may end at once
        return SUCCESS, None

    def report(self, transaction_uid: str, references: list[tuple[str, str]]) -> tuple[int, Dataset]:
        """The event type and Event Information for these references, from the index."""
        committed, failed = [], []
        for class_uid, instance_uid in references:
            reason = self._check(class_uid, instance_uid)
            if reason is None:
                committed.append((class_uid, instance_uid))
            else:
                failed.append((class_uid, instance_uid, reason))
        info = Dataset()
        info.TransactionUID = transaction_uid
        if committed:
            info.ReferencedSOPSequence = reference_sequence(committed)
        if failed:
            items = reference_sequence((c, i) for c, i, _ in failed)
            for item, (_c, _i, reason) in zip(items, failed, strict=True):
                item.FailureReason = reason
            info.FailedSOPSequence = items
        return (SOME_FAILED if failed else ALL_COMMITTED), info

    def _check(self, class_uid: str, instance_uid: str) -> int | None:
        if not instance_uid:
            return NO_SUCH_OBJECT_INSTANCE
        try:
            with self._lock:
                if self.backend is None:  # the listener stopped meanwhile
                    return PROCESSING_FAILURE
                if instance_uid not in self.backend.stored_files([instance_uid]):
                    return NO_SUCH_OBJECT_INSTANCE
                rows = self.backend.query("instance", {"SOPInstanceUID": instance_uid}, fields=["SOPClassUID"])
        except GantryError as err:
            log.warning("commitment.check_failed", error=Phi(str(err)))
            return PROCESSING_FAILURE
        if not rows:
            return NO_SUCH_OBJECT_INSTANCE
        if str(rows[0].get("SOPClassUID") or "") != class_uid:
            return CLASS_INSTANCE_CONFLICT
        return None

    def role(self) -> ScpRole:
        return ScpRole(service="N-ACTION", abstract_syntaxes=(STORAGE_COMMITMENT_SOP_CLASS,),
                       handlers=((evt.EVT_N_ACTION, self.handle_action), (evt.EVT_N_EVENT_REPORT, self.handle_report)),
                       role_selection=(STORAGE_COMMITMENT_SOP_CLASS,), close=self.close)

    def _audit(self, events: list[AuditEvent]) -> None:
        with self._lock:
            if self.backend is not None and events:
                self.backend.audit(events)

    def close(self) -> None:
        self.sender.close()
        with self._lock:
            backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()


def commitment_scp(kernel: Any) -> ScpRole:
    """The role ``gantry listen`` adds: answers from the site's ``storage.database`` (and audits
    there), reports as ``[commitment]`` says."""
    return CommitmentScp(kernel, kernel.open_storage(kernel.config.storage.database),
                         CommitmentSettings.of(kernel)).role()
