"""Test helpers for DIMSE service plugins (ours and third parties'): our listener started and
stopped around a test, dcmtk peers, and the check that a test leaves no thread behind.

    @pytest.fixture(autouse=True)
    def no_leftovers():
        with no_threads_left():
            yield

    @pytest.fixture
    def our_listener():
        with listeners() as start:
            yield start          # start(kernel, "OURAE", allow=(...)) -> a running Listener
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gantry.testing.network import free_port, wait_until

__all__ = ["DCMTK_ENV", "dcmtk", "free_port", "listeners", "no_threads_left", "wait_until"]

#: dcmtk peers run with TCP_NODELAY, as /work/shared/peers.md explains (Nagle costs ~90 ms a message).
DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}


def dcmtk(name: str) -> str:
    """The path of a dcmtk program; a clear failure when dcmtk is missing (`make test` installs it)."""
    import pytest

    program = shutil.which(name)
    if program is None:
        pytest.fail("dcmtk is not installed: apt-get install -y dcmtk (make test does)")
    return program


@contextmanager
def no_threads_left() -> Iterator[None]:
    """Start with no circuit-breaker state; fail when the block leaves a thread running."""
    from gantry_dimse.breaker import BREAKERS

    BREAKERS.clear()
    before = set(threading.enumerate())
    yield
    BREAKERS.clear()

    def leftover() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t not in before and t.is_alive()]

    assert wait_until(lambda: not leftover()), f"threads left running: {leftover()}"


@contextmanager
def listeners() -> Iterator[Callable[..., Any]]:
    """``start(kernel, ae_title="OURAE", **options)`` runs our Listener on 127.0.0.1 and a free
    port; every listener started is stopped at the end."""
    from gantry_dimse.listener import Listener

    started: list[Listener] = []

    def start(kernel: Any = None, ae_title: str = "OURAE", **options: Any) -> Listener:
        listener = Listener(kernel, ae_title, "127.0.0.1", 0, **options)
        started.append(listener)
        return listener.start()

    try:
        yield start
    finally:
        for listener in started:
            listener.stop()
