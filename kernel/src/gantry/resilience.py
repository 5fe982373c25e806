"""Bounded retries and circuit breakers for transports that reach remote nodes.

Every transport (DIMSE, DICOMweb, Orthanc's REST API ...) has the same two questions about a
node that does not answer: try again, and how soon; and how long to keep trying a node that is
down. This module answers them once:

- :func:`with_retries` runs an attempt until it succeeds, fails in a way *not* worth retrying,
  or the :class:`RetryPolicy`'s attempts are spent (tenacity underneath: exponential backoff
  plus jitter, capped; a failure's ``retry_after`` — an HTTP ``Retry-After`` — is the wait
  instead, up to ``retry_after_max``). Only :class:`RetryableFailure` is retried: the transport decides what that is (no TCP
  connection, a transient rejection, HTTP 5xx); an answer such as a DIMSE failure status or an
  HTTP 404 is the node's answer and goes straight to the caller. When the attempts are spent the
  caller gets a TransportError naming the node, the reason and the number of attempts, chained
  to the real cause.
- :class:`CircuitBreaker`, one per node in the process (:data:`BREAKERS`): after ``failures``
  consecutive retryable failures, calls fail at once for ``reset`` seconds with a
  :class:`CircuitOpenError` saying until when; then one trial call goes through (half-open) and
  its outcome closes or re-opens the breaker. A non-retryable answer proves the node is up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import attrs

from gantry.errors import TransportError

T = TypeVar("T")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"

#: How waiting is done between attempts; tests replace it to run at once and record the waits.
sleep: Callable[[float], None] = time.sleep


def resilience_settings(*, retried: str, retry_after: bool = False) -> list[Any]:
    """The settings every transport's section declares for its retries and breakers:
    ``retries``, ``retry_backoff``, ``retry_max_wait`` (``retry_after_max`` for HTTP),
    ``breaker_failures``, ``breaker_reset``. ``retried`` says what is retried, for the help."""
    from gantry.descriptors import Setting

    settings = [
        Setting(name="retries", type="int", default=2,
                help=f"extra attempts on {retried} (exponential backoff with jitter)"),
        Setting(name="retry_backoff", type="float", default=0.5,
                help="first wait between attempts, doubled each time, plus up to as much jitter"),
        Setting(name="retry_max_wait", type="float", default=10.0, help="longest wait between attempts"),
        Setting(name="breaker_failures", type="int", default=5,
                help="consecutive failed attempts after which a node fails fast"),
        Setting(name="breaker_reset", type="float", default=30.0,
                help="seconds a node fails fast before one trial attempt is let through"),
    ]
    if retry_after:
        settings.insert(3, Setting(name="retry_after_max", type="float", default=60.0,
                                   help="longest Retry-After (seconds) honoured; a longer one is cut to this"))
    return settings


@attrs.frozen(kw_only=True)
class RetryPolicy:
    retries: int = 2
    """Attempts after the first."""
    backoff: float = 0.5
    """Seconds before the first retry, doubled each time, plus up to as much jitter."""
    max_wait: float = 10.0
    """The longest wait between attempts (jitter included)."""
    retry_after_max: float = 60.0
    """The longest a node's own ``Retry-After`` may make us wait."""

    @property
    def attempts(self) -> int:
        return self.retries + 1

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> RetryPolicy:
        """From a section holding :func:`resilience_settings` (already type-checked)."""
        return cls(retries=max(0, int(values["retries"])), backoff=float(values["retry_backoff"]),
                   max_wait=float(values["retry_max_wait"]),
                   retry_after_max=max(0.0, float(values.get("retry_after_max", 60.0))))


@attrs.frozen(kw_only=True)
class BreakerPolicy:
    failures: int = 5
    reset: float = 30.0

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> BreakerPolicy:
        return cls(failures=max(1, int(values["breaker_failures"])), reset=float(values["breaker_reset"]))


class RetryableFailure(TransportError):
    """One attempt failed in a way worth retrying, which also counts against the breaker."""

    def __init__(self, reason: str, cause: BaseException | None = None, *, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause
        self.retry_after = retry_after
        self.status = status


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
                f"consecutive failures (last: {self._last_error}); it lets one attempt "
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
    """The breakers of one process, one per node, shared by every adapter: the kernel opens a
    fresh adapter per URL, and a dead node should stay known as dead."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._breakers: dict[Any, CircuitBreaker] = {}

    def breaker(self, host: str, port: int, endpoint: str, *, failures: int, reset: float,
                scheme: str = "") -> CircuitBreaker:
        """The breaker of the node at ``host:port`` (per ``scheme``: a host's DIMSE port and its
        web server are different nodes)."""
        with self._lock:
            key = (scheme, host, port)
            breaker = self._breakers.get(key)
            if breaker is None:
                breaker = self._breakers[key] = CircuitBreaker(endpoint, failures=failures, reset=reset)
            # The latest settings win: a site that changes its configuration expects it to apply.
            breaker.failures, breaker.reset = failures, reset
            return breaker

    def clear(self) -> None:
        with self._lock:
            self._breakers.clear()


BREAKERS = BreakerBoard()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from an HTTP ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return None if when is None else max(0.0, when.timestamp() - time.time())


def with_retries(attempt: Callable[[], T], *, policy: RetryPolicy, breaker: CircuitBreaker, where: str,
                 on_retry: Callable[[int, float, RetryableFailure], None] | None = None) -> T:
    """Run ``attempt`` until it returns, raises something other than RetryableFailure, or the
    policy's attempts are spent; ``on_retry(attempt_number, wait, failure)`` before each wait."""
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential, wait_random

    def guarded() -> T:
        breaker.before_call()  # raises CircuitOpenError, which is not retried
        try:
            result = attempt()
        except RetryableFailure as failure:
            breaker.record_failure(failure.reason)
            raise
        except BaseException:
            # Any other outcome came from a node that is up; it must also end a half-open
            # trial, or the breaker would never let a call through again.
            breaker.record_success()
            raise
        breaker.record_success()
        return result

    backoff = wait_exponential(multiplier=policy.backoff) + wait_random(0, policy.backoff)

    def wait(state: Any) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        if getattr(failure, "retry_after", None) is not None:  # the node said when: believe it
            seconds = min(failure.retry_after, policy.retry_after_max)
        else:
            seconds = min(policy.max_wait, backoff(state))  # the cap includes the jitter
        if on_retry is not None and isinstance(failure, RetryableFailure):
            on_retry(state.attempt_number, seconds, failure)
        return seconds

    retrying = Retrying(stop=stop_after_attempt(policy.attempts), wait=wait,
                        retry=retry_if_exception_type(RetryableFailure),
                        sleep=lambda seconds: sleep(seconds),  # looked up at call time: tests replace it
                        reraise=True)
    try:
        return retrying(guarded)
    except RetryableFailure as failure:
        tried = retrying.statistics.get("attempt_number", policy.attempts)
        raise TransportError(f"{where}: {failure.reason} (gave up after {tried} attempt"
                             f"{'s' if tried != 1 else ''})") from (failure.cause or failure)
