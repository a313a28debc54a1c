"""Group commit: what concurrent attempts submit while a batch is in flight leaves as one batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from callsync.crm.http.coalesce import LOOKUP_FULL_IN_FLIGHT, Coalescer, Coalescers


class Recorder:
    def __init__(self, delay: float = 0.05, fail: Exception | None = None) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.delay = delay
        self.fail = fail

    async def __call__(self, entries: Sequence[tuple[str, int]]) -> dict[str, object]:
        self.batches.append(list(entries))
        await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return {k: (ValueError(f"bad {k}") if k.startswith("bad") else v * 10) for k, v in entries}


def test_submissions_made_while_a_batch_is_in_flight_leave_together_in_the_next() -> None:
    async def scenario() -> tuple[list[int], Recorder]:
        run = Recorder()
        c: Coalescer[str, int, int] = Coalescer(run, linger_s=0.005)
        first = asyncio.create_task(c.submit("a", 1))
        await asyncio.sleep(0.02)  # the first batch is in flight now
        rest = [asyncio.create_task(c.submit(k, i)) for i, k in enumerate("bcdef", start=2)]
        return [await first, *[await t for t in rest]], run

    answers, run = asyncio.run(scenario())
    assert answers == [10, 20, 30, 40, 50, 60]
    assert [[k for k, _ in b] for b in run.batches] == [["a"], ["b", "c", "d", "e", "f"]]


def test_a_lone_submission_waits_only_the_linger() -> None:
    async def scenario() -> float:
        c: Coalescer[str, int, int] = Coalescer(Recorder(delay=0), linger_s=0.005)
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await c.submit("a", 1) == 10
        return loop.time() - start

    assert asyncio.run(scenario()) < 0.5


def test_a_failed_request_reaches_every_submitter_and_a_failed_key_only_its_own() -> None:
    async def scenario() -> None:
        c: Coalescer[str, int, int] = Coalescer(Recorder(fail=ConnectionError("down")))
        results = await asyncio.gather(c.submit("a", 1), c.submit("b", 2), return_exceptions=True)
        assert all(isinstance(r, ConnectionError) for r in results)

        c2: Coalescer[str, int, int] = Coalescer(Recorder())
        good, bad = await asyncio.gather(c2.submit("ok", 1), c2.submit("bad", 2), return_exceptions=True)
        assert good == 10 and isinstance(bad, ValueError) and "bad" in str(bad)

    asyncio.run(scenario())


def test_batches_never_exceed_max_size_and_a_repeated_key_shares_its_answer() -> None:
    async def scenario() -> Recorder:
        run = Recorder(delay=0.01)
        c: Coalescer[str, int, int] = Coalescer(run, max_size=3)
        answers = await asyncio.gather(*(c.submit(k, 1) for k in ["a", "b", "a", "c", "d", "e", "f", "g"]))
        assert answers == [10] * 8
        return run

    run = asyncio.run(scenario())
    assert all(len({k for k, _ in b}) <= 3 for b in run.batches)
    assert sorted(k for b in run.batches for k, _ in b) == sorted("abacdefg")
    assert [k for k, _ in run.batches[0]] == ["a", "b", "a", "c"], "the second 'a' rides with the first"


def test_a_cancelled_submitter_does_not_disturb_the_others() -> None:
    async def scenario() -> None:
        run = Recorder(delay=0.05)
        c: Coalescer[str, int, int] = Coalescer(run)
        first = asyncio.create_task(c.submit("a", 1))
        await asyncio.sleep(0.01)
        doomed = asyncio.create_task(c.submit("b", 2))
        kept = asyncio.create_task(c.submit("c", 3))
        await asyncio.sleep(0)
        doomed.cancel()
        assert await first == 10 and await kept == 30
        with pytest.raises(asyncio.CancelledError):
            await doomed
        assert [k for b in run.batches for k, _ in b] == ["a", "c"]

    asyncio.run(scenario())


def test_a_full_batch_leaves_at_once_instead_of_waiting_for_the_one_in_flight() -> None:
    """When a round trip's worth of work outgrows one batch, serial batches would cap the rate at
    `max_size` per round trip; full batches go out together (up to `max_full_in_flight`)."""

    async def scenario() -> tuple[list[list[str]], list[int]]:
        batches: list[list[str]] = []
        started_when_one_returned: list[int] = []

        async def run(entries: Sequence[tuple[str, int]]) -> dict[str, object]:
            batches.append([k for k, _ in entries])
            await asyncio.sleep(0.05)
            started_when_one_returned.append(len(batches))
            return {k: v * 10 for k, v in entries}

        c: Coalescer[str, int, int] = Coalescer(run, max_size=2, linger_s=0.01, max_full_in_flight=3)
        answers = await asyncio.gather(*(c.submit(k, 1) for k in "abcdefg"))
        assert answers == [10] * 7
        return batches, started_when_one_returned

    batches, started = asyncio.run(scenario())
    assert batches == [["a", "b"], ["c", "d"], ["e", "f"], ["g"]]
    # Three full batches were out before the first came back; the partial one waited for them.
    assert started == [3, 3, 3, 4], started


@pytest.mark.parametrize(("full_in_flight", "most"), [(2, 2), (None, 1)])
def test_full_batches_in_flight_are_bounded_and_a_partial_batch_waits_for_them(
    full_in_flight: int | None, most: int
) -> None:
    """Lookups allow a few full batches at once; by default (writes) one batch is in flight, so two writes
    to one record never race in two requests."""

    async def scenario() -> list[int]:
        in_flight: list[int] = []
        now = 0

        async def run(entries: Sequence[tuple[str, int]]) -> dict[str, object]:
            nonlocal now
            now += 1
            in_flight.append(now)
            await asyncio.sleep(0.05)
            now -= 1
            return {k: v for k, v in entries}

        c: Coalescer[str, int, int] = Coalescer(run, max_size=2, linger_s=0.001)
        if full_in_flight is not None:
            c.max_full_in_flight = full_in_flight
        await asyncio.gather(*(c.submit(str(i), i) for i in range(9)))
        return in_flight

    assert max(asyncio.run(scenario())) == most


def test_an_accounts_coalescers_are_one_per_operation_and_count_what_they_batched() -> None:
    async def scenario() -> Coalescers:
        ops = Coalescers()
        reads = ops.get(("read", "contacts"), Recorder(delay=0), 10, lookup=True)
        assert ops.get(("read", "contacts"), Recorder(delay=0), 99) is reads, "made once, on first use"
        writes = ops.get(("create", "contacts"), Recorder(delay=0), 10)
        assert writes is not reads
        assert reads.max_full_in_flight == LOOKUP_FULL_IN_FLIGHT and writes.max_full_in_flight == 1
        await asyncio.gather(*(reads.submit(k, 1) for k in "abc"), writes.submit("d", 2))
        return ops

    stats = asyncio.run(scenario()).stats()
    assert stats["read:contacts"][0] == 3 and stats["create:contacts"] == (1, 1)
