"""pynetdicom's two polling loops, woken by the work they wait for instead of a 1 ms timer.

Every pynetdicom association runs two threads that poll: the DUL reactor (reads PDUs, sends
queued primitives) and the association reactor (serves received DIMSE messages, notices release
and abort). Each sleeps 1 ms between polls that found nothing. So every step of a C-STORE waits
on average half a millisecond for a thread to notice it: the request's PDUs, the message handed
to the association thread, the response handed back to the DUL thread, the sender's request to
pause the reactor. For a small instance that was most of its time on the wire, and the threads
spent CPU waking up to find nothing.

:func:`install` gives ``pynetdicom.dul`` and ``pynetdicom.association`` a ``time`` whose
``sleep`` does, *on those two reactor threads only and for their poll delay only*, a wait that
ends early as soon as there is something to do:

- the DUL thread waits on its socket becoming readable and on a wake-up pipe written whenever a
  primitive is queued for it (``to_provider_queue``);
- the association thread waits on an event set whenever a DIMSE message or an ACSE primitive is
  queued for it, or a sender asks the reactor to pause.

Waking early is always safe: both loops re-check everything on each turn, exactly as after a
sleep. The waits are bounded (:data:`LONGEST_WAIT`) so that pynetdicom's timers and its
``_kill`` flags, which nothing signals, are still seen promptly. Any other ``sleep`` (other
threads, other delays) is the real one, so an application embedding Gantry that uses pynetdicom
directly only sees its associations answer sooner.
"""

from __future__ import annotations

import os
import select
import ssl
import threading
import time
import types
import weakref
from typing import Any

from pynetdicom import association as _association_module
from pynetdicom import dul as _dul_module
from pynetdicom.association import Association
from pynetdicom.dul import DULServiceProvider

#: The longest a reactor waits without a wake-up (pynetdicom polls every 1 ms): how late a timer
#: (ARTIM, idle) or a kill flag may be seen.
LONGEST_WAIT = 0.005
#: ``Association._run_reactor``'s poll delay (a literal in pynetdicom).
ASSOCIATION_POLL = 0.001


class _Waker:
    """A pipe a reactor can wait on (with its socket) and any thread can write to."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)
        self.pending = False
        # Closed with the waker itself, not with its DUL: a queue's put that still holds the
        # waker can never write into a reused descriptor.
        weakref.finalize(self, _close_both, self.read_fd, self.write_fd)

    def wake(self) -> None:
        if not self.pending:  # one byte per wait is enough; a spare one is drained harmlessly
            self.pending = True
            try:
                os.write(self.write_fd, b"!")
            except (BlockingIOError, OSError):
                pass  # full (it is being woken anyway) or closed (the reactor has gone)

    def drain(self) -> None:
        self.pending = False
        try:
            while os.read(self.read_fd, 4096):
                pass
        except (BlockingIOError, OSError):
            pass


def _close_both(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _wake_on(queue: Any, wake: Any) -> None:
    """Make ``queue.put`` call ``wake()`` after queueing (the instance's ``put``, so every
    ``queue.put(...)`` in pynetdicom goes through it)."""
    put = queue.put

    def put_and_wake(*args: Any, **kwargs: Any) -> None:
        put(*args, **kwargs)
        wake()

    queue.put = put_and_wake


def _dul_waker(dul: DULServiceProvider) -> _Waker:
    """The DUL's waker, made on its first idle turn: from then on, queued primitives wake it."""
    waker = dul.__dict__.get("_gantry_waker")
    if waker is None:
        waker = dul._gantry_waker = _Waker()
        _wake_on(dul.to_provider_queue, waker.wake)
    return waker


def _dul_wait(dul: DULServiceProvider) -> None:
    waker = _dul_waker(dul)
    poller = select.poll()
    poller.register(waker.read_fd, select.POLLIN)
    wrapper = dul.socket
    sock = getattr(wrapper, "socket", None)
    if sock is not None and getattr(wrapper, "_is_connected", False):
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return  # decrypted bytes already waiting: the socket itself will not signal them
        try:
            fd = sock.fileno()
        except OSError:
            fd = -1
        if fd >= 0:
            poller.register(fd, select.POLLIN)
    poller.poll(LONGEST_WAIT * 1000)
    waker.drain()


def _association_wake(assoc: Association) -> threading.Event:
    """The association reactor's event, made on its first idle turn: from then on, whatever the
    reactor serves sets it."""
    event = assoc.__dict__.get("_gantry_wake")
    if event is None:
        event = assoc._gantry_wake = threading.Event()
        _wake_on(assoc.dimse.msg_queue, event.set)
        _wake_on(assoc.dul.to_user_queue, event.set)
        checkpoint = assoc._reactor_checkpoint
        clear = checkpoint.clear

        def clear_and_wake() -> None:  # a sender pausing the reactor must not wait for its poll
            clear()
            event.set()

        checkpoint.clear = clear_and_wake
    return event


def _association_wait(assoc: Association) -> None:
    event = _association_wake(assoc)
    event.wait(LONGEST_WAIT)
    event.clear()  # before the loop looks: anything queued after this wakes the next wait


def _sleep(seconds: float) -> None:
    thread = threading.current_thread()
    if isinstance(thread, DULServiceProvider) and seconds == thread._run_loop_delay:
        _dul_wait(thread)
    elif isinstance(thread, Association) and seconds == ASSOCIATION_POLL:
        _association_wait(thread)
    else:
        time.sleep(seconds)


class _ReactorTime(types.ModuleType):
    """``time``, with :func:`_sleep` for ``sleep``."""

    sleep = staticmethod(_sleep)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def install() -> None:
    """Idempotent: pynetdicom's reactors wait on their work from now on."""
    for module in (_dul_module, _association_module):
        if not isinstance(module.time, _ReactorTime):
            module.time = _ReactorTime("time")
