"""Small helpers for tests that start real peers on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass; its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@contextmanager
def no_threads_left(seconds: float = 10.0) -> Iterator[None]:
    """Start with no circuit-breaker state; fail when the block leaves a thread running (one still
    ending gets ``seconds``): what a transport test wraps itself in."""
    from gantry.resilience import BREAKERS

    BREAKERS.clear()
    before = set(threading.enumerate())
    yield
    BREAKERS.clear()

    def leftover() -> list[threading.Thread]:
        return [thread for thread in threading.enumerate() if thread not in before and thread.is_alive()]

    assert wait_until(lambda: not leftover(), seconds), f"threads left running: {leftover()}"
