"""gantry_dimse.wakeups: pynetdicom's reactor threads wake when there is work, not on a timer.

Each wait here is given a minute (LONGEST_WAIT patched): a wait that returns within the join
bound was woken by the event under test, not by its timeout.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from pynetdicom import AE
from pynetdicom import association as association_module
from pynetdicom import dul as dul_module
from pynetdicom.association import Association

from gantry_dimse import pynetdicom_setup, wakeups  # noqa: F401 -- installs the waits

WOKEN_WITHIN = 20.0  # seconds; the patched wait would last 60


@pytest.fixture()
def association(monkeypatch: pytest.MonkeyPatch) -> Association:
    monkeypatch.setattr(wakeups, "LONGEST_WAIT", 60.0)
    return Association(AE(), "requestor")


def returns_after(wait: Callable[[], None], wake: Callable[[], None]) -> bool:
    """Start ``wait`` in a thread, let it block, call ``wake``: did the wait end?"""
    started = threading.Event()
    waiter = threading.Thread(target=lambda: (started.set(), wait()), daemon=True)
    waiter.start()
    started.wait()
    waiter.join(0.2)  # give it time to block: if it already returned, the test is void
    assert waiter.is_alive(), "the wait returned before anything woke it"
    wake()
    waiter.join(WOKEN_WITHIN)
    return not waiter.is_alive()


def test_installed_in_both_pynetdicom_modules() -> None:
    assert isinstance(dul_module.time, wakeups._ReactorTime)
    assert isinstance(association_module.time, wakeups._ReactorTime)
    assert dul_module.time.monotonic is __import__("time").monotonic  # the rest is time's


def test_dul_wakes_when_a_primitive_is_queued_for_it(association: Association) -> None:
    dul = association.dul
    wakeups._dul_waker(dul)  # as on the reactor's first idle turn
    assert returns_after(lambda: wakeups._dul_wait(dul), lambda: dul.to_provider_queue.put("P-DATA"))
    assert dul.to_provider_queue.get_nowait() == "P-DATA"  # the queue still holds what was put


def test_dul_wakes_when_its_socket_has_data(association: Association) -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        association.dul.socket = SimpleNamespace(socket=ours, _is_connected=True)
        assert returns_after(lambda: wakeups._dul_wait(association.dul), lambda: theirs.sendall(b"\x04"))


@pytest.mark.parametrize("wake", ["a DIMSE message", "an ACSE primitive", "a sender pausing the reactor"])
def test_association_reactor_wakes_for_its_work(association: Association, wake: str) -> None:
    wakeups._association_wake(association)  # as on the reactor's first idle turn
    event_source = {"a DIMSE message": lambda: association.dimse.msg_queue.put((1, None)),
                    "an ACSE primitive": lambda: association.dul.to_user_queue.put("A-RELEASE"),
                    "a sender pausing the reactor": lambda: association._reactor_checkpoint.clear()}[wake]
    assert returns_after(lambda: wakeups._association_wait(association), event_source)
    assert not association._reactor_checkpoint.is_set() or wake != "a sender pausing the reactor"


def test_other_sleeps_are_real(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(wakeups.time, "sleep", slept.append)
    wakeups._sleep(0.001)  # the main thread is no reactor
    wakeups._sleep(0.1)
    assert slept == [0.001, 0.1]


def test_the_wake_up_pipe_closes_with_the_association() -> None:
    import gc
    import os

    association = Association(AE(), "requestor")
    waker = wakeups._dul_waker(association.dul)
    pipe = {fd: os.fstat(fd).st_ino for fd in (waker.read_fd, waker.write_fd)}  # open while it lives
    del association, waker
    gc.collect()
    for fd, inode in pipe.items():
        try:
            reused = os.fstat(fd).st_ino  # another thread may have been given the number since
        except OSError:
            continue
        assert reused != inode, "the wake-up pipe outlived its association"
