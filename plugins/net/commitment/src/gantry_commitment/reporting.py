"""How the SCP delivers a report (PS3.4 J.3.3): on the requestor's association, or on a new one.

With ``report_on = "same"`` the N-EVENT-REPORT goes on the association that carried the N-ACTION
while it is open; when the requestor has released it (or it ends, or the report gets no answer)
the report goes on a new association instead. With ``report_on = "new"`` it always does. A new
association goes to the address ``[commitment] requestors`` lists for the requestor's AE title,
from our AE title, proposing SCP/SCU role selection for the Storage Commitment SOP class (we
send the N-EVENT-REPORT, so we are its SCP there); connecting is retried by the transport, and a
report that still gets no answer is retried ``report_retries`` times, ``report_retry_wait``
seconds apart (doubled each time). Every outcome is one audit row.

Each report is built (the index checked) and sent from its own thread: pynetdicom sends the
N-ACTION response only after the handler returns, and the report must follow it, so the thread
waits until the response has been sent (``EVT_DIMSE_SENT``) before it sends the report.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from pydicom.dataset import Dataset
from pynetdicom import evt
from pynetdicom.dimse_messages import N_ACTION_RSP

from gantry import GantryError
from gantry.log import Phi, get_logger
from gantry.storage import AuditEvent

from gantry_commitment.model import STORAGE_COMMITMENT_SOP_CLASS, STORAGE_COMMITMENT_SOP_INSTANCE
from gantry_commitment.settings import NEW, CommitmentSettings
from gantry_dimse.services import AssociationLost

log = get_logger(__name__)

SUCCESS = 0x0000

#: How long close() waits for each report thread, and a new-association report for the N-ACTION response.
JOIN_SECONDS = 10.0
RESPONSE_WAIT_SECONDS = 10.0
#: How long a requestor has to answer a report on its own association before it goes on a new one.
SAME_ASSOCIATION_ANSWER_SECONDS = 5.0


class ReportRefused(GantryError):
    """The requestor answered the N-EVENT-REPORT with a failure status: not retried."""


class ReportSender:
    def __init__(self, kernel: Any, settings: CommitmentSettings, audit: Callable[[list[AuditEvent]], None]) -> None:
        self.kernel = kernel
        self.settings = settings
        self.audit = audit
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def start(self, assoc: Any, transaction_uid: str, make_report: Callable[[], tuple[int, Dataset]]) -> None:
        """Deliver the report ``make_report()`` builds (event type, Event Information) for the
        N-ACTION just answered on ``assoc``."""
        response_sent = threading.Event()

        def on_sent(event: Any) -> None:
            if isinstance(event.message, N_ACTION_RSP):
                response_sent.set()

        assoc.bind(evt.EVT_DIMSE_SENT, on_sent)
        thread = threading.Thread(target=self._deliver, args=(assoc, make_report, response_sent, on_sent),
                                  name=f"commitment-report-{transaction_uid}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def close(self) -> None:
        self._stopping.set()
        with self._lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(JOIN_SECONDS)

    def _deliver(self, assoc: Any, make_report: Callable[[], tuple[int, Dataset]], response_sent: threading.Event,
                 on_sent: Callable[[Any], None]) -> None:
        try:
            report = make_report()
            # The N-ACTION response first. pynetdicom lets send_* run while a handler is still
            # running (it marks the reactor paused for the handler), so without this wait the
            # report could go out before the response, which peers (Orthanc) refuse.
            deadline = time.monotonic() + RESPONSE_WAIT_SECONDS
            while (assoc.is_established and not response_sent.wait(0.02) and time.monotonic() < deadline
                   and not self._stopping.is_set()):
                pass
            assoc.unbind(evt.EVT_DIMSE_SENT, on_sent)
            self._send(assoc, report)
        except Exception as err:  # a report thread never dies silently
            log.error("commitment.report_error", error=Phi(f"{type(err).__name__}: {err}"))

    def _send(self, assoc: Any, report: tuple[int, Dataset]) -> None:
        requestor_ae = str(assoc.requestor.ae_title).strip()
        detail = _summary(report)
        if self.settings.report_on != NEW and assoc.is_established:
            status = self._send_same(assoc, report)
            if status == SUCCESS:
                self._record(requestor_ae, "commitment.reported", {**detail, "association": "same"})
                return
            if status is not None:
                log.warning("commitment.report_refused", requestor=requestor_ae, status=status)
                self._record(requestor_ae, "commitment.report_failed",
                             {**detail, "reason": f"the requestor answered the report with status 0x{status:04X}"})
                return
            log.info("commitment.report_on_new_association", requestor=requestor_ae,
                     reason="the requestor's association ended before the report went")
        self._send_new(requestor_ae, str(assoc.acceptor.ae_title).strip(), report, detail)

    def _send_same(self, assoc: Any, report: tuple[int, Dataset]) -> int | None:
        """The requestor's answer to the report on its association; None when it gave none."""
        event_type, info = report
        # A requestor releasing right after the N-ACTION response ignores the report (PS3.8 7.2.2),
        # and its A-RELEASE-RQ waits while we wait: wait briefly, then pynetdicom aborts.
        timeout = assoc.dimse_timeout
        assoc.dimse_timeout = SAME_ASSOCIATION_ANSWER_SECONDS if timeout is None else min(
            timeout, SAME_ASSOCIATION_ANSWER_SECONDS)
        try:
            status, _reply = assoc.send_n_event_report(info, event_type, STORAGE_COMMITMENT_SOP_CLASS,
                                                       STORAGE_COMMITMENT_SOP_INSTANCE)
        except Exception as err:  # the association went away under us
            log.info("commitment.same_association_failed", error=Phi(str(err)))
            return None
        finally:
            assoc.dimse_timeout = timeout
        return int(status.Status) if "Status" in status else None

    def _send_new(self, requestor_ae: str, our_ae: str, report: tuple[int, Dataset], detail: dict[str, Any]) -> None:
        requestor = self.settings.requestor(requestor_ae)
        if requestor is None:
            log.warning("commitment.report_undelivered", requestor=requestor_ae,
                        reason="no [commitment] requestors entry for this AE title")
            self._record(requestor_ae, "commitment.report_failed",
                         {**detail, "reason": "no [commitment] requestors entry for this AE title"})
            return
        host = f"[{requestor.host}]" if ":" in requestor.host else requestor.host
        url = f"dicom://{quote(requestor.ae)}@{host}:{requestor.port}?calling={quote(our_ae)}"
        wait = self.settings.report_retry_wait
        attempts, reason = 0, "the listener stopped before the report went"
        while attempts <= self.settings.report_retries and not self._stopping.is_set():
            attempts += 1
            try:
                self._send_once(url, report)
            except ReportRefused as err:
                reason = str(err)
                break
            except GantryError as err:
                reason = str(err)
                log.warning("commitment.report_retry", requestor=requestor_ae, attempt=attempts, error=Phi(reason))
                if self._stopping.wait(wait):
                    break
                wait *= 2
                continue
            self._record(requestor_ae, "commitment.reported", {**detail, "association": "new", "attempts": attempts})
            return
        log.warning("commitment.report_undelivered", requestor=requestor_ae, attempts=attempts, error=Phi(reason))
        self._record(requestor_ae, "commitment.report_failed", {**detail, "attempts": attempts, "reason": reason})

    def _send_once(self, url: str, report: tuple[int, Dataset]) -> None:
        event_type, info = report

        def send(association: Any) -> None:
            status, _reply = association.send_n_event_report(info, event_type, STORAGE_COMMITMENT_SOP_CLASS,
                                                             STORAGE_COMMITMENT_SOP_INSTANCE)
            if "Status" not in status:
                raise AssociationLost(f"{url}: no N-EVENT-REPORT response")
            if status.Status != SUCCESS:
                raise ReportRefused(f"the requestor answered the report with status 0x{int(status.Status):04X}")

        with self.kernel.open_transport(url) as peer:
            peer.run((STORAGE_COMMITMENT_SOP_CLASS,), send, scp_roles=(STORAGE_COMMITMENT_SOP_CLASS,))

    def _record(self, requestor_ae: str, action: str, detail: dict[str, Any]) -> None:
        try:
            self.audit([AuditEvent(actor=f"dicom:{requestor_ae}", action=action, detail=detail)])
        except GantryError as err:
            log.warning("commitment.audit_failed", error=Phi(str(err)))


def _summary(report: tuple[int, Dataset]) -> dict[str, Any]:
    event_type, info = report
    return {"transaction_uid": str(info.TransactionUID), "event_type": event_type,
            "committed": len(info.get("ReferencedSOPSequence") or ()),
            "failed": len(info.get("FailedSOPSequence") or ())}
