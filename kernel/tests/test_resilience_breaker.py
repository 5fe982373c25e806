"""The circuit breaker on its own, with a clock the test moves."""

from __future__ import annotations

import threading

import pytest

from gantry import TransportError
from gantry.resilience import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, CircuitOpenError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_n_consecutive_failures_and_fails_fast_saying_until_when():
    clock = Clock()
    breaker = CircuitBreaker("PACS@h:104", failures=3, reset=30, clock=clock)
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure("refused")
    assert breaker.state == OPEN
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    message = str(caught.value)
    assert isinstance(caught.value, TransportError)
    assert "PACS@h:104" in message and "3 consecutive failures" in message
    assert "last: refused" in message and "after " in message


def test_a_success_resets_the_count():
    breaker = CircuitBreaker("n", failures=2, reset=30, clock=Clock())
    breaker.record_failure("x")
    breaker.record_success()
    breaker.record_failure("x")
    assert breaker.state == CLOSED


def test_after_the_reset_one_trial_goes_through_and_its_result_decides():
    clock = Clock()
    breaker = CircuitBreaker("n", failures=1, reset=10, clock=clock)
    breaker.record_failure("x")
    clock.now += 10
    assert breaker.state == HALF_OPEN
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # everyone else waits for the trial
    breaker.record_failure("still down")
    assert breaker.state == OPEN
    clock.now += 10
    breaker.before_call()
    breaker.record_success()
    assert breaker.state == CLOSED
    breaker.before_call()


def test_counting_is_thread_safe():
    breaker = CircuitBreaker("n", failures=10_000, reset=10, clock=Clock())
    threads = [threading.Thread(target=lambda: [breaker.record_failure("x") for _ in range(1000)])
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert breaker._consecutive == 4000
