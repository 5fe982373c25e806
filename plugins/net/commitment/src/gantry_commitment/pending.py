"""Requests waiting for their report, by Transaction UID: how a report that arrives on our listener
(a new association) reaches the ``request_commitment`` call that waits for it in this process.

    waiter = PENDING.expect(transaction_uid)        # before the N-ACTION goes out
    ...
    PENDING.deliver(transaction_uid, event_type, info)   # from any association's handler
    event_type, info = waiter.get(timeout)               # queue.Empty when none came
    PENDING.forget(transaction_uid)
"""

from __future__ import annotations

import queue
import threading

from pydicom.dataset import Dataset


class PendingReports:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, queue.Queue[tuple[int, Dataset]]] = {}

    def expect(self, transaction_uid: str) -> queue.Queue[tuple[int, Dataset]]:
        with self._lock:
            return self._waiting.setdefault(transaction_uid, queue.Queue())

    def waiting(self, transaction_uid: str) -> bool:
        with self._lock:
            return transaction_uid in self._waiting

    def deliver(self, transaction_uid: str, event_type: int, info: Dataset) -> bool:
        """Hand a report to the request waiting for it; False when none is (it gave up, or the
        transaction was never ours)."""
        with self._lock:
            waiter = self._waiting.get(transaction_uid)
        if waiter is None:
            return False
        waiter.put((event_type, info))
        return True

    def forget(self, transaction_uid: str) -> None:
        with self._lock:
            self._waiting.pop(transaction_uid, None)


#: The process's waiting requests (the SCU registers; every report handler delivers).
PENDING = PendingReports()
