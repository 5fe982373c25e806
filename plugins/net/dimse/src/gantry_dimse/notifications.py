"""Work that must not hold up an association: kernel events emitted after the response goes out.

An SCP answers once the received data is durable (stored and indexed); what other plugins do
with it (``gantry_instance_stored`` listeners: forwarding, previews, routing ...) runs later in
the listener's one background worker, so a slow listener never delays a C-STORE response::

    emit_later(event, kernel, "gantry_instance_stored", instance=record)   # in an SCP handler

The queue is bounded (``[dimse] notify_queue``): when the hooks fall that far behind, the handler
waits for room (back-pressure, logged once per episode) rather than memory growing without end or
events being dropped. ``Listener.stop()`` drains the queue (up to ``[dimse] notify_drain`` seconds)
and logs how many events were left undelivered. Outside a Listener (a handler called on an
association some other AE accepted) the event is emitted at once, in the caller's thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from gantry.log import get_logger

log = get_logger(__name__)

#: The attribute of a listener's pynetdicom AE that holds its Notifier.
AE_ATTRIBUTE = "gantry_notifier"

_STOP = object()


class Notifier:
    """A bounded queue of callables and one worker thread that runs them in order.

    The worker starts with the first ``submit`` and ends at ``close``; a callable that raises is
    logged and the next one runs.
    """

    def __init__(self, maxsize: int = 1000, *, name: str = "gantry-dimse-notifier") -> None:
        self.maxsize = max(1, int(maxsize))
        self.name = name
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=self.maxsize)
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._full_warned = False
        self.delivered = 0
        """Callables run so far (raised or not)."""

    def submit(self, work: Callable[[], None], *, what: str = "event") -> bool:
        """Queue ``work``; False (and logged) when the notifier is already closed."""
        with self._lock:
            if self._closed:
                log.warning("notifications.after_close", what=what)
                return False
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._worker.start()
        try:
            self._queue.put_nowait((work, what))
        except queue.Full:
            if not self._full_warned:
                self._full_warned = True
                log.warning("notifications.queue_full", what=what, size=self.maxsize,
                            why="event listeners are slower than arrivals: waiting for room")
            self._queue.put((work, what))
        return True

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, drain_seconds: float = 30.0) -> int:
        """Stop taking work, run what is queued for up to ``drain_seconds``, and return (and log)
        how many queued callables were left undelivered."""
        with self._lock:
            if self._closed:
                return 0
            self._closed = True
            worker = self._worker
        if worker is None:
            return 0
        deadline = time.monotonic() + max(0.0, drain_seconds)
        # The stop marker goes in behind everything queued; wait for room if the queue is full.
        while True:
            try:
                self._queue.put(_STOP, timeout=max(0.01, deadline - time.monotonic()))
                break
            except queue.Full:
                if time.monotonic() >= deadline:
                    break
        worker.join(max(0.0, deadline - time.monotonic()))
        left = 0
        if worker.is_alive():
            # Still busy (a listener that hangs): drop what is queued so it ends after that one.
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not _STOP:
                    left += 1
            self._queue.put(_STOP)
            log.error("notifications.undelivered", count=left, still_running=True,
                      why=f"event listeners did not finish within {drain_seconds} s of the listener stopping")
        return left

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            work, what = item
            try:
                work()
            except Exception as err:
                log.error("notifications.failed", what=what, error=f"{type(err).__name__}")
            finally:
                self.delivered += 1
                if self._full_warned and self._queue.qsize() < self.maxsize // 2:
                    self._full_warned = False


def notifier_of(event: Any) -> Notifier | None:
    """The Notifier of the listener that accepted ``event``'s association, if any."""
    assoc = getattr(event, "assoc", None)
    return getattr(getattr(assoc, "ae", None), AE_ATTRIBUTE, None)


def emit_later(event: Any, kernel: Any, hook: str, **kwargs: Any) -> None:
    """Emit the kernel event ``hook`` after the handler has answered: queued on the listener's
    Notifier, or at once when the association is not a Listener's (see the module docstring)."""
    if kernel is None:
        return
    notifier = notifier_of(event)
    if notifier is None or not notifier.submit(lambda: kernel.emit(hook, **kwargs), what=hook):
        kernel.emit(hook, **kwargs)
