"""The circuit breaker: one probe instead of every retry while a CRM is down; random faults never trip it."""

from __future__ import annotations

import random

import pytest

from callsync.crm.http.breaker import CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_after_consecutive_failures_and_one_probe_closes_it() -> None:
    clock = Clock()
    b = CircuitBreaker(threshold=3, cooldown_s=1.0, clock=clock)
    for _ in range(3):
        b.before()
        b.failure("HTTP 503")
    with pytest.raises(CircuitOpen) as refused:
        b.before()
    assert "HTTP 503" in str(refused.value) and refused.value.retry_in == pytest.approx(1.0)
    clock.now = 1.01
    b.before()  # the probe
    with pytest.raises(CircuitOpen):
        b.before()  # only one probe at a time
    b.success()
    b.before()
    assert not b.is_open and b.refused == 2


def test_a_failed_probe_doubles_the_cool_down_up_to_the_cap() -> None:
    clock = Clock()
    b = CircuitBreaker(threshold=2, cooldown_s=1.0, max_cooldown_s=3.0, clock=clock)
    b.failure()
    b.failure()
    waits = []
    for _ in range(4):
        with pytest.raises(CircuitOpen) as refused:
            b.before()
        waits.append(round(refused.value.retry_in, 2))
        clock.now += refused.value.retry_in + 0.001
        b.before()
        b.failure()
    assert waits == [1.0, 2.0, 3.0, 3.0]


def test_random_faults_at_the_benchmark_rate_do_not_open_it() -> None:
    rng = random.Random(7)
    b = CircuitBreaker()
    for _ in range(5000):
        b.before()
        (b.failure if rng.random() < 0.22 else b.success)()
    assert b.opened == 0
