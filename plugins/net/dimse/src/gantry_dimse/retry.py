"""Bounded retries with exponential backoff and jitter (tenacity), for reaching a node only.

A failure to connect or associate is worth another try a little later; a DIMSE failure status is
an answer, and retrying it would repeat work the peer refused. Each attempt asks the node's circuit
breaker first and reports to it after. When the attempts are used up, the caller gets a
TransportError naming the node, the reason and the number of attempts, chained to the real cause
(the socket error, say).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential, wait_random

from gantry import TransportError

from gantry_dimse.breaker import CircuitBreaker
from gantry_dimse.settings import RetryPolicy

T = TypeVar("T")

#: How waiting is done between attempts; tests replace it to run fast and count the waits.
sleep: Callable[[float], None] = time.sleep


class ConnectFailure(TransportError):
    """An attempt could not reach or associate with the node (worth retrying)."""

    def __init__(self, reason: str, cause: BaseException | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


def with_retries(attempt: Callable[[], T], *, policy: RetryPolicy, breaker: CircuitBreaker, where: str) -> T:
    """Run ``attempt`` until it returns, raises something other than ConnectFailure, or the
    policy's attempts are spent."""

    def guarded() -> T:
        breaker.before_call()  # raises CircuitOpenError, which is not retried
        try:
            result = attempt()
        except ConnectFailure as failure:
            breaker.record_failure(failure.reason)
            raise
        except BaseException:
            # Anything else (a rejected association ...) came from a node that is up; it must
            # also end a half-open trial, or the breaker would never let a call through again.
            breaker.record_success()
            raise
        breaker.record_success()
        return result

    backoff = wait_exponential(multiplier=policy.backoff) + wait_random(0, policy.backoff)
    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=lambda state: min(policy.max_wait, backoff(state)),  # the cap includes the jitter
        retry=retry_if_exception_type(ConnectFailure),
        sleep=lambda seconds: sleep(seconds),  # looked up at call time, so tests can replace it
        reraise=True,
    )
    try:
        return retrying(guarded)
    except ConnectFailure as failure:
        tried = retrying.statistics.get("attempt_number", policy.attempts)
        raise TransportError(
            f"cannot reach {where}: {failure.reason} (gave up after {tried} attempt"
            f"{'s' if tried != 1 else ''})") from (failure.cause or failure)
