"""gantry.resilience.with_retries: what is retried, how long it waits, what the caller gets."""

from __future__ import annotations

import pytest

import gantry.resilience as resilience
from gantry import TransportError
from gantry.resilience import CircuitBreaker, RetryableFailure, RetryPolicy, with_retries


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(resilience, "sleep", recorded.append)
    return recorded


def failing(times: int, failure: Exception, result: str = "done"):
    calls = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise failure
        return result

    return attempt, calls


def test_retryable_failures_are_retried_with_capped_growing_waits(waits: list[float]) -> None:
    attempt, calls = failing(3, RetryableFailure("refused"))
    policy = RetryPolicy(retries=3, backoff=1.0, max_wait=3.0)
    assert with_retries(attempt, policy=policy, breaker=CircuitBreaker("n"), where="node") == "done"
    assert len(calls) == 4 and len(waits) == 3
    assert 1.0 <= waits[0] <= 2.0 and all(wait <= 3.0 for wait in waits)  # backoff + jitter, capped


def test_a_retry_after_lengthens_the_wait_up_to_its_cap(waits: list[float]) -> None:
    attempt, _ = failing(2, RetryableFailure("busy", retry_after=7.0, status=503))
    seen: list[tuple[int, float, int | None]] = []
    policy = RetryPolicy(retries=2, backoff=0.1, max_wait=1.0, retry_after_max=5.0)
    with_retries(attempt, policy=policy, breaker=CircuitBreaker("n"), where="node",
                 on_retry=lambda number, wait, failure: seen.append((number, wait, failure.status)))
    assert waits == [5.0, 5.0]
    assert seen == [(1, 5.0, 503), (2, 5.0, 503)]


def test_spent_attempts_name_the_node_the_reason_and_the_count_and_chain_the_cause(waits: list[float]) -> None:
    cause = ConnectionRefusedError(111, "Connection refused")
    attempt, calls = failing(10, RetryableFailure("TCP connection failed", cause))
    breaker = CircuitBreaker("n", failures=10)
    with pytest.raises(TransportError, match=r"^cannot reach X: TCP connection failed \(gave up after 3 attempts\)$") as caught:
        with_retries(attempt, policy=RetryPolicy(retries=2), breaker=breaker, where="cannot reach X")
    assert caught.value.__cause__ is cause and len(calls) == 3
    assert breaker._consecutive == 3


def test_an_answer_is_not_retried_and_proves_the_node_is_up(waits: list[float]) -> None:
    breaker = CircuitBreaker("n", failures=1)
    breaker.record_failure("earlier")  # open
    breaker.reset = 0.0  # the next call is the half-open trial
    attempt, calls = failing(1, TransportError("404 not found"))
    with pytest.raises(TransportError, match="404"):
        with_retries(attempt, policy=RetryPolicy(retries=5), breaker=breaker, where="node")
    assert len(calls) == 1 and waits == []
    assert breaker.state == "closed"


def test_retry_after_parsing() -> None:
    assert resilience.parse_retry_after("120") == 120.0
    assert resilience.parse_retry_after("") is None and resilience.parse_retry_after("soon") is None
    assert resilience.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
