"""A circuit breaker per remote node, so a dead PACS costs one quick error, not a full retry cycle.

Closed: calls go through, consecutive connection failures are counted. After ``failures`` of them
the breaker opens for ``reset`` seconds and calls fail at once with a TransportError saying until
when. Then one trial call is let through (half-open): its success closes the breaker, its failure
opens it again. Only failures to reach the node count; a rejected association or a DIMSE error
status means the node is up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from gantry import TransportError

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitOpenError(TransportError):
    """The node failed too often lately; calls fail fast until the breaker's reset time."""


class CircuitBreaker:
    def __init__(self, node: str, *, failures: int = 5, reset: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.node = node
        self.failures = failures
        self.reset = reset
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._consecutive = 0
        self._opened_at = 0.0
        self._last_error = ""

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self.reset:
                return HALF_OPEN
            return self._state

    def before_call(self) -> None:
        """Raise CircuitOpenError when calls must fail fast; otherwise let this call through."""
        with self._lock:
            if self._state == CLOSED:
                return
            remaining = self.reset - (self._clock() - self._opened_at)
            if self._state == OPEN and remaining <= 0:
                self._state = HALF_OPEN  # this caller is the one trial
                return
            # Open, or half-open with the trial still running: nobody else goes through.
            until = datetime.now().astimezone() + timedelta(seconds=max(remaining, 0.0))
            raise CircuitOpenError(
                f"{self.node}: not tried, the circuit breaker is open after {self._consecutive} "
                f"consecutive connection failures (last: {self._last_error}); it lets one attempt "
                f"through after {until:%H:%M:%S}")

    def record_success(self) -> None:
        with self._lock:
            self._state, self._consecutive = CLOSED, 0

    def record_failure(self, reason: str) -> None:
        with self._lock:
            self._consecutive += 1
            self._last_error = reason
            if self._state == HALF_OPEN or self._consecutive >= self.failures:
                self._state, self._opened_at = OPEN, self._clock()


class BreakerBoard:
    """The breakers of one process, one per node (host and port), shared by every adapter:
    the kernel opens a fresh adapter per URL, and a dead node should stay known as dead."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._breakers: dict[tuple[str, int], CircuitBreaker] = {}

    def breaker(self, host: str, port: int, endpoint: str, *, failures: int, reset: float) -> CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get((host, port))
            if breaker is None:
                breaker = self._breakers[(host, port)] = CircuitBreaker(endpoint, failures=failures, reset=reset)
            # The latest settings win: a site that changes its configuration expects it to apply.
            breaker.failures, breaker.reset = failures, reset
            return breaker

    def clear(self) -> None:
        with self._lock:
            self._breakers.clear()


BREAKERS = BreakerBoard()
