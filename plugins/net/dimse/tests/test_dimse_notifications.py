"""The listener's Notifier: events run in one background worker, in order, after the handler
answered; a bounded queue; a stop that drains, and says what it could not deliver."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from gantry_dimse.listener import Listener
from gantry_dimse.notifications import AE_ATTRIBUTE, Notifier, emit_later
from gantry_dimse.settings import DimseSettings


class Gate:
    """A callable that records itself and, when ``held``, blocks until released."""

    def __init__(self, log: list[int], number: int, held: bool = False) -> None:
        self.log, self.number = log, number
        self.entered, self.release = threading.Event(), threading.Event()
        if not held:
            self.release.set()

    def __call__(self) -> None:
        self.entered.set()
        assert self.release.wait(30)
        self.log.append(self.number)


def test_work_runs_in_order_in_one_worker_and_close_drains_it():
    log: list[int] = []
    notifier = Notifier(10)
    first = Gate(log, 0, held=True)
    notifier.submit(first)
    for number in range(1, 5):
        notifier.submit(Gate(log, number))
    assert first.entered.wait(10) and log == []  # submitting never waited for the work
    first.release.set()
    assert notifier.close(30) == 0
    assert log == [0, 1, 2, 3, 4] and notifier.delivered == 5


def test_work_that_raises_is_logged_and_the_next_one_runs(capsys):
    log: list[int] = []
    notifier = Notifier(10)
    notifier.submit(lambda: 1 / 0, what="gantry_instance_stored")
    notifier.submit(Gate(log, 1))
    notifier.close(30)
    assert log == [1]
    err = capsys.readouterr().err
    assert "notifications.failed" in err and "ZeroDivisionError" in err


def test_a_full_queue_makes_the_submitter_wait_rather_than_drop(capsys):
    log: list[int] = []
    notifier = Notifier(1)
    first = Gate(log, 0, held=True)
    notifier.submit(first)
    assert first.entered.wait(10)  # the worker holds item 0; the queue has room for one more
    notifier.submit(Gate(log, 1))
    third = threading.Thread(target=notifier.submit, args=(Gate(log, 2),))
    third.start()
    from gantry_dimse.testing import wait_until

    assert wait_until(lambda: notifier._full_warned, 10)  # the third found the queue full ...
    assert third.is_alive()  # ... and waits for room
    first.release.set()
    third.join(30)
    notifier.close(30)
    assert log == [0, 1, 2]  # nothing dropped, order kept
    assert "notifications.queue_full" in capsys.readouterr().err


def test_close_gives_up_on_hanging_work_and_says_how_much_was_left(capsys):
    log: list[int] = []
    notifier = Notifier(10)
    hanging = Gate(log, 0, held=True)
    notifier.submit(hanging)
    notifier.submit(Gate(log, 1))
    notifier.submit(Gate(log, 2))
    assert hanging.entered.wait(10)
    assert notifier.close(0.1) == 2
    assert '"count": 2' in capsys.readouterr().err  # notifications.undelivered
    hanging.release.set()  # the worker finishes the one it was running and ends
    assert not notifier.submit(Gate(log, 3))  # closed: refused (emit_later then emits at once)
    from gantry_dimse.testing import wait_until

    assert wait_until(lambda: log == [0])


def test_emit_later_queues_on_the_listeners_notifier_and_emits_at_once_elsewhere():
    emitted: list[tuple[str, dict]] = []
    kernel = SimpleNamespace(emit=lambda hook, **kwargs: emitted.append((hook, kwargs)))
    elsewhere = SimpleNamespace(assoc=SimpleNamespace(ae=SimpleNamespace()))
    emit_later(elsewhere, kernel, "gantry_instance_stored", instance="I1")
    assert emitted == [("gantry_instance_stored", {"instance": "I1"})]

    notifier = Notifier(10)
    held = Gate([], 0, held=True)
    notifier.submit(held)
    ours = SimpleNamespace(assoc=SimpleNamespace(ae=SimpleNamespace(**{AE_ATTRIBUTE: notifier})))
    emit_later(ours, kernel, "gantry_instance_stored", instance="I2")
    assert held.entered.wait(10) and len(emitted) == 1  # queued behind the held one
    held.release.set()
    notifier.close(30)
    assert emitted[-1] == ("gantry_instance_stored", {"instance": "I2"})


def test_the_listener_owns_a_notifier_and_stops_it():
    settings = DimseSettings(notify_queue=5, notify_drain=10)
    with Listener(None, "OURAE", "127.0.0.1", 0, settings=settings) as ours:
        assert ours.notifier is not None and ours.notifier.maxsize == 5
        log: list[int] = []
        ours.notifier.submit(Gate(log, 1))
    assert log == [1]  # drained at stop; no_leftovers checks its thread ended
