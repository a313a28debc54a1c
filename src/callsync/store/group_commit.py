"""Group commit: concurrent calls' database work of one kind, in one transaction.

A worker finishes its calls in bursts (a batch write answers for up to a hundred calls at once), and each
call's own transaction cost the worker a connection checkout, a BEGIN and a COMMIT, and the server a commit
of its own. `GroupCommit` gathers the items submitted while a transaction is running and commits them
together in the next one: nothing waits on a timer, so a lone call is written at once, and a burst shares
one transaction. Each caller still gets its own answer, and only once its item is committed. The same
gathering serves reads: a group's calls are loaded, and their identity links looked up, at once.

A batch that fails is not one caller's failure: a database blip (store/errors.py) is raised to every
caller, each of which retries it as it would its own; any other error sends each item through alone, so
a bug or bad data in one call is that call's error, and the others are written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from callsync.store.errors import is_transient_database_error

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

# Items per transaction at most: a burst larger than this is committed in several (a long transaction
# holds its row locks, and a retried one redoes all of its work).
MAX_GROUP = 64


class GroupCommit(Generic[ItemT, ResultT]):
    """`await submit(item)` commits `item` with the others submitted meanwhile: `commit(items)` writes a
    group in one transaction (off the event loop) and returns each item's result, in order. `commit` must
    leave nothing behind when it raises (one transaction), so an item can be written again alone."""

    def __init__(self, commit: Callable[[Sequence[ItemT]], Sequence[ResultT]], max_group: int = MAX_GROUP):
        self._commit = commit
        self._max_group = max_group
        self._pending: list[tuple[ItemT, asyncio.Future[ResultT]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flushing: asyncio.Task[None] | None = None
        self.transactions = 0  # committed or failed groups, for tests and metrics

    async def submit(self, item: ItemT) -> ResultT:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._pending or (self._flushing is not None and not self._flushing.done()):
                # Another event loop (a second asyncio.run in a thread) is using this one: go alone.
                return (await asyncio.to_thread(self._commit, [item]))[0]
            self._loop, self._flushing = loop, None
        future: asyncio.Future[ResultT] = loop.create_future()
        self._pending.append((item, future))
        if self._flushing is None or self._flushing.done():
            # A task, not an inline call: the callers woken in this turn of the loop join the same group.
            self._flushing = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            group, self._pending = self._pending[: self._max_group], self._pending[self._max_group :]
            await self._commit_group(group)

    async def _commit_group(self, group: list[tuple[ItemT, asyncio.Future[ResultT]]]) -> None:
        items = [item for item, _ in group]
        self.transactions += 1
        try:
            results = await asyncio.to_thread(self._commit, items)
        except asyncio.CancelledError:
            for _, future in group:
                future.cancel()  # the worker is stopping: its callers stop with it
            raise
        except Exception as exc:
            if len(group) > 1 and not is_transient_database_error(exc):
                for one in group:  # one item's bug or bad data must not fail the others' writes
                    await self._commit_group([one])
                return
            for _, future in group:
                if not future.done():  # done: its caller was cancelled while it waited
                    future.set_exception(exc)
            return
        for (_, future), result in zip(group, results, strict=True):
            if not future.done():
                future.set_result(result)
