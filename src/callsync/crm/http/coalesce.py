"""Group commit for CRM requests: what concurrent write attempts ask at the same moment goes out as one
batch request.

Each submission waits for the next batch. A batch leaves after a short linger when nothing of its kind
is in flight; while one is in flight, new submissions wait and leave together when it returns. With one
caller a request waits at most `linger_s` (50 ms); under a burst, batches fill up to `max_size` by themselves,
which is what keeps a CRM's request budget for calls rather than for round trips.

A full batch does not wait for the one in flight: waiting cannot make it bigger, and when the work of one
round trip outgrows `max_size` (a name search of 16 names whose answer takes several pages), serial
batches would cap a worker at `max_size` per round trip. Lookups let up to `LOOKUP_FULL_IN_FLIGHT` full
batches go out at once (the CRM's limits still pace them: the shared transport's rate limiter); writes keep
one batch in flight, so two writes to one record never race in two requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

# The delivery queue's polling interval (pipeline/worker.py): calls that arrive within one window start
# together, so their requests meet here. Longer: fewer CRM requests per call, that much more latency. A
# quarter second keeps call-end -> confirmed p99 near 1.4 s at nominal load (1 s gave 2.9 s); under load
# batches fill by themselves, since requests wait on the one in flight and on the CRM's limits.
DEFAULT_BATCH_WINDOW_S = 0.25
# Calls a worker syncs at once. Their requests share batches, so more at once means bigger batches, not
# more requests. A worker is latency-bound (a sync waits on CRM round trips most of its time), so what it
# confirms per second is about what it has in flight: on PostgreSQL a sync in flight holds no connection
# of its own (store/locks.py), so a worker keeps many; SQLite has one writer for everything.
DEFAULT_CONCURRENCY = 32
DEFAULT_PG_CONCURRENCY = 128

# Full lookup batches in flight at once (reads and searches: no order to keep between them).
LOOKUP_FULL_IN_FLIGHT = 4

K = TypeVar("K", bound=Hashable)
I = TypeVar("I")  # noqa: E741 - the submitted item
V = TypeVar("V")

# A batch function gets every submission of the batch (a key may come more than once) and answers per key:
# a value, or the exception that key's submitters should see.
BatchFunction = Callable[[Sequence[tuple[K, I]]], Awaitable[Mapping[K, "V | BaseException"]]]


@dataclass
class _Waiting(Generic[K, I, V]):
    key: K
    item: I
    future: asyncio.Future[V]


@dataclass
class Coalescer(Generic[K, I, V]):
    """Batches submissions made on one event loop (the loop of the first submission)."""

    run: BatchFunction[K, I, V]
    max_size: int = 100
    linger_s: float = 0.05
    max_in_flight: int = 1
    max_full_in_flight: int = 1  # new_coalescer: LOOKUP_FULL_IN_FLIGHT for lookups
    _pending: list[_Waiting[K, I, V]] = field(default_factory=list)
    _pending_keys: dict[K, None] = field(default_factory=dict)  # the distinct keys of `_pending`
    _in_flight: int = 0
    _scheduled: bool = False
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    batches: int = 0  # sent so far, for tests and benchmarks
    submitted: int = 0

    async def submit(self, key: K, item: I) -> V:
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending.append(_Waiting(key, item, future))
        self._pending_keys[key] = None
        self.submitted += 1
        self._kick()
        return await future

    def _kick(self) -> None:
        while len(self._pending_keys) >= self.max_size and self._in_flight < self.max_full_in_flight:
            batch = self._take()
            if not batch:
                break
            self._in_flight += 1  # before the task runs, so this loop sees it
            self._start(self._send(batch))
        if self._pending and not self._scheduled and self._in_flight < self.max_in_flight:
            self._scheduled = True
            self._start(self._flush())

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # a task nobody references may be garbage-collected mid-flight
        task.add_done_callback(self._tasks.discard)

    def _take(self) -> list[_Waiting[K, I, V]]:
        """The next batch: up to `max_size` keys, in submission order, each with all its submitters."""
        # Submitters that gave up (a cancelled attempt) need no answer.
        self._pending = [w for w in self._pending if not w.future.done()]
        batch: list[_Waiting[K, I, V]] = []
        keys: set[K] = set()
        rest: list[_Waiting[K, I, V]] = []
        for waiting in self._pending:
            if waiting.key in keys or len(keys) < self.max_size:
                keys.add(waiting.key)
                batch.append(waiting)
            else:
                rest.append(waiting)
        self._pending = rest
        self._pending_keys = dict.fromkeys(w.key for w in rest)
        return batch

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(self.linger_s)
        finally:
            self._scheduled = False
        if self._in_flight >= self.max_in_flight:  # full batches left meanwhile: the last one back kicks
            return
        batch = self._take()
        if not batch:  # full batches took everything meanwhile
            return
        self._in_flight += 1
        self._kick()  # what is left may fill batches of its own
        await self._send(batch)

    async def _send(self, batch: list[_Waiting[K, I, V]]) -> None:
        """Runs one batch (counted in flight by the caller) and answers its submitters."""
        self.batches += 1
        try:
            answers: Mapping[K, V | BaseException] = await self.run([(w.key, w.item) for w in batch])
            failure: BaseException | None = None
        except Exception as exc:  # the whole request failed: every submitter sees why
            answers, failure = {}, exc
        finally:
            self._in_flight -= 1
        for waiting in batch:
            if waiting.future.done():
                continue
            if failure is not None:
                answer: V | BaseException = failure
            elif waiting.key in answers:
                answer = answers[waiting.key]
            else:  # built only when needed: an exception per submitter showed in profiles
                answer = _missing(waiting.key)
            if isinstance(answer, BaseException):
                waiting.future.set_exception(answer)
            else:
                waiting.future.set_result(answer)
        self._kick()


def new_coalescer(run: BatchFunction[K, I, V], max_size: int, *, lookup: bool) -> Coalescer[K, I, V]:
    """A CRM operation's coalescer: a lookup may send `LOOKUP_FULL_IN_FLIGHT` full batches at once, a write
    keeps one batch in flight (two writes to one record never race in two requests)."""
    return Coalescer(run, max_size=max_size, max_full_in_flight=LOOKUP_FULL_IN_FLIGHT if lookup else 1)


class Coalescers:
    """One batched CRM account's coalescers, one per operation (a key such as `("read", "contacts")`),
    each made on its first use."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, ...], Coalescer[Any, Any, Any]] = {}

    def get(
        self, key: tuple[str, ...], run: BatchFunction[Any, Any, Any], max_size: int, *, lookup: bool = False
    ) -> Coalescer[Any, Any, Any]:
        """The operation's coalescer (`new_coalescer(run, max_size, lookup=...)` the first time)."""
        if key not in self._by_key:
            self._by_key[key] = new_coalescer(run, max_size, lookup=lookup)
        return self._by_key[key]

    def stats(self) -> dict[str, tuple[int, int]]:
        """Per operation: (requests made by callers, batch requests sent)."""
        return {":".join(k): (c.submitted, c.batches) for k, c in self._by_key.items()}


def _missing(key: object) -> BaseException:
    return LookupError(f"the batch answered nothing for {key!r}")
