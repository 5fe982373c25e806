"""Retrying to reach a DIMSE node: :mod:`gantry.resilience` with DIMSE's notion of what is worth it.

A failure to connect or associate (refused, timed out, a *transient* A-ASSOCIATE-RJ, an abort
before the answer) is worth another try a little later: :class:`ConnectFailure`. A permanent
rejection or a DIMSE failure status is an answer, and retrying it would repeat work the peer
refused. Backoff, jitter, the cap, the breaker and the final message are the kernel's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from gantry.resilience import CircuitBreaker, RetryableFailure, RetryPolicy
from gantry.resilience import with_retries as _with_retries

T = TypeVar("T")


class ConnectFailure(RetryableFailure):
    """An attempt could not reach or associate with the node (worth retrying)."""


def with_retries(attempt: Callable[[], T], *, policy: RetryPolicy, breaker: CircuitBreaker, where: str) -> T:
    """Run ``attempt`` until it returns, raises something other than ConnectFailure, or the
    policy's attempts are spent (then: "cannot reach WHERE: reason (gave up after N attempts)")."""
    return _with_retries(attempt, policy=policy, breaker=breaker, where=f"cannot reach {where}")
