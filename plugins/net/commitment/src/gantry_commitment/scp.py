"""The Storage Commitment SCP: answers N-ACTION (Request Storage Commitment) from the index.

The N-ACTION handler checks each referenced instance against the site's index (indexed, and
indexed with the same SOP Class UID) and answers Success; the N-EVENT-REPORT (event type 1, or 2
with the Failed SOP Sequence) then goes on the same association. It cannot be sent from the
handler: pynetdicom sends the N-ACTION response only after the handler returns, and the report
must follow it. So the handler starts a thread that calls ``assoc.send_n_event_report``;
pynetdicom's send_* methods pause the association's reactor and wait until it is idle, i.e. until
the handler has returned and the N-ACTION response is out. ``close()`` (the listener's stop)
waits for those threads.

Not done: sending the report on a new association when the requestor has gone (PS3.4 J.3.3).
"""

from __future__ import annotations

import threading
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import evt

from gantry import GantryError
from gantry.log import Phi, get_logger

from gantry_commitment.model import (
    ALL_COMMITTED, CLASS_INSTANCE_CONFLICT, NO_SUCH_OBJECT_INSTANCE, PROCESSING_FAILURE, REQUEST_COMMITMENT,
    SOME_FAILED, STORAGE_COMMITMENT_SOP_CLASS, STORAGE_COMMITMENT_SOP_INSTANCE, reference_sequence, references_of,
)
from gantry_dimse.services import ScpRole, failure_status

log = get_logger(__name__)

SUCCESS = 0x0000
NO_SUCH_ACTION_TYPE = 0x0123
MISSING_ATTRIBUTE = 0x0120
PROCESSING = 0x0110

#: How long close() waits for each report thread.
JOIN_SECONDS = 10.0


class CommitmentScp:
    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

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
        report = self.report(transaction_uid, references)
        thread = threading.Thread(target=self._send, args=(event.assoc, report),
                                  name=f"commitment-report-{transaction_uid}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
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

    def _send(self, assoc: Any, report: tuple[int, Dataset]) -> None:
        event_type, info = report
        try:
            status, _reply = assoc.send_n_event_report(info, event_type, STORAGE_COMMITMENT_SOP_CLASS,
                                                       STORAGE_COMMITMENT_SOP_INSTANCE)
        except Exception as err:  # the association went away: nothing else to do on it
            log.warning("commitment.report_not_sent", error=Phi(str(err)))
            return
        if status.get("Status") != SUCCESS:
            log.warning("commitment.report_refused", status=status.get("Status"))

    def role(self) -> ScpRole:
        return ScpRole(service="N-ACTION", abstract_syntaxes=(STORAGE_COMMITMENT_SOP_CLASS,),
                       handlers=((evt.EVT_N_ACTION, self.handle_action),), close=self.close)

    def close(self) -> None:
        with self._lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(JOIN_SECONDS)
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()


def commitment_scp(kernel: Any) -> ScpRole:
    """The role ``gantry listen`` adds: answers from the site's ``storage.database``."""
    return CommitmentScp(kernel.open_storage(kernel.config.storage.database)).role()
