"""Group commit: calls finishing at the same moment share one transaction; each caller still gets its own
answer, a bad item fails alone, a database blip reaches every caller, and nothing is committed twice."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from callsync.store.group_commit import GroupCommit


class Bad(Exception):
    """An item's own error (a bug, bad data): not a database blip."""


class Store:
    """A stand-in transaction: all of a group or nothing; negative items are bad data."""

    def __init__(self, blips: int = 0) -> None:
        self.groups: list[list[int]] = []
        self.committed: list[int] = []
        self.blips = blips

    def commit(self, items: Sequence[int]) -> list[str]:
        self.groups.append(list(items))
        if self.blips:
            self.blips -= 1
            raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))
        if any(i < 0 for i in items):
            raise Bad(f"item {min(items)} is bad")
        self.committed.extend(items)  # only a whole group that succeeded
        return [f"done {i}" for i in items]


async def _submit_all(group: GroupCommit[int, str], items: Sequence[int]) -> list[str | BaseException]:
    return await asyncio.gather(*(group.submit(i) for i in items), return_exceptions=True)


def test_calls_submitting_in_the_same_moment_share_one_transaction() -> None:
    store = Store()
    group = GroupCommit(store.commit)
    results = asyncio.run(_submit_all(group, range(10)))
    assert results == [f"done {i}" for i in range(10)]
    assert store.groups == [list(range(10))]
    assert group.transactions == 1


def test_a_lone_call_is_committed_at_once_and_the_next_ones_gather_while_it_runs() -> None:
    store = Store()
    running, release = threading.Event(), threading.Event()

    def slow_commit(items: Sequence[int]) -> list[str]:
        if not store.groups:
            running.set()
            release.wait(5)
        return store.commit(items)

    group = GroupCommit(slow_commit)

    async def scenario() -> list[str]:
        first = asyncio.ensure_future(group.submit(1))
        await asyncio.to_thread(running.wait, 5)  # the first transaction is under way, alone
        later = [asyncio.ensure_future(group.submit(i)) for i in (2, 3, 4)]
        await asyncio.sleep(0.01)
        release.set()
        return list(await asyncio.gather(first, *later))

    assert asyncio.run(scenario()) == ["done 1", "done 2", "done 3", "done 4"]
    assert store.groups == [[1], [2, 3, 4]]


def test_a_burst_larger_than_the_group_limit_is_committed_in_several_transactions() -> None:
    store = Store()
    results = asyncio.run(_submit_all(GroupCommit(store.commit, max_group=4), range(10)))
    assert results == [f"done {i}" for i in range(10)]
    assert [len(g) for g in store.groups] == [4, 4, 2]


def test_a_bad_item_fails_alone_and_the_others_are_committed() -> None:
    store = Store()
    results = asyncio.run(_submit_all(GroupCommit(store.commit), [1, -2, 3]))
    assert results[0] == "done 1" and results[2] == "done 3"
    assert isinstance(results[1], Bad)
    assert sorted(store.committed) == [1, 3]


def test_a_database_blip_reaches_every_caller_to_retry_and_commits_nothing() -> None:
    store = Store(blips=1)
    results = asyncio.run(_submit_all(GroupCommit(store.commit), [1, 2, 3]))
    assert all(isinstance(r, OperationalError) for r in results)
    # Not split into one transaction per item: a blip is the database's, each caller retries it.
    assert store.groups == [[1, 2, 3]] and store.committed == []


def test_a_caller_cancelled_while_waiting_leaves_the_others_answered() -> None:
    store = Store()
    group = GroupCommit(store.commit)

    async def scenario() -> list[str]:
        tasks = [asyncio.ensure_future(group.submit(i)) for i in range(3)]
        await asyncio.sleep(0)
        tasks[1].cancel()
        with pytest.raises(asyncio.CancelledError):
            await tasks[1]
        return [await tasks[0], await tasks[2]]

    assert asyncio.run(scenario()) == ["done 0", "done 2"]


def test_a_group_commit_serves_one_event_loop_after_another() -> None:
    store = Store()
    group = GroupCommit(store.commit)
    assert asyncio.run(group.submit(1)) == "done 1"
    assert asyncio.run(group.submit(2)) == "done 2"  # a new asyncio.run: a new loop
    assert store.committed == [1, 2]


@settings(max_examples=60, deadline=None)
@given(
    bursts=st.lists(st.lists(st.integers(min_value=-3, max_value=50), max_size=12), min_size=1, max_size=4),
    max_group=st.integers(min_value=1, max_value=6),
)
def test_every_good_item_is_committed_exactly_once_and_every_bad_one_fails(
    bursts: list[list[int]], max_group: int
) -> None:
    store = Store()
    group = GroupCommit(store.commit, max_group=max_group)

    async def scenario() -> list[str | BaseException]:
        out: list[str | BaseException] = []
        for burst in bursts:
            out.extend(await _submit_all(group, burst))
        return out

    items = [i for burst in bursts for i in burst]
    results = asyncio.run(scenario())
    for item, result in zip(items, results, strict=True):
        if item < 0:
            assert isinstance(result, Bad)
        else:
            assert result == f"done {item}"
    assert sorted(store.committed) == sorted(i for i in items if i >= 0)
