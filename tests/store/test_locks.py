"""Identity locks (store/locks.py): processes take turns on a key, a sync in flight pins no connection of its
own (so concurrency is not bounded by the pool, issue 19), and a lost lock connection is a blip."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from callsync.store import locks
from callsync.store.db import ConnectionBudget, Database
from callsync.store.errors import LockWaitTimeout, is_transient_database_error


def test_syncs_in_flight_beyond_the_pool_hold_their_locks_on_one_connection(pg_url: str) -> None:
    db = Database(pg_url, connections=ConnectionBudget(16))  # a pool of 12
    inside = 0
    most_inside = 0
    most_checked_out = 0

    async def sync(i: int, all_in: asyncio.Event) -> None:
        nonlocal inside, most_inside, most_checked_out
        async with locks.identity_lock(
            db, [f"t:hubspot:email:p{i}@x.com", f"t:hubspot:phone:+1415555{i:04d}"]
        ):
            inside += 1
            most_inside = max(most_inside, inside)
            most_checked_out = max(most_checked_out, db.engine.pool.checkedout())  # type: ignore[attr-defined]
            if inside == 40:
                all_in.set()
            await asyncio.wait_for(all_in.wait(), 30)
            inside -= 1

    async def main() -> None:
        all_in = asyncio.Event()
        await asyncio.gather(*(sync(i, all_in) for i in range(40)))

    try:
        asyncio.run(main())
        assert most_inside == 40  # 40 syncs held their locks at once with a pool of 12
        assert most_checked_out == 1  # on one connection
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # and it went back when idle
    finally:
        db.dispose()


def test_two_processes_take_turns_on_one_key(pg_url: str) -> None:
    # Two engines stand for two worker processes: each has its own lock connection.
    first, second = Database(pg_url), Database(pg_url)
    order: list[str] = []

    async def holder(db: Database, name: str, hold_s: float, start_after_s: float) -> None:
        await asyncio.sleep(start_after_s)
        async with locks.identity_lock(db, ["t:hubspot:email:same@x.com"]):
            order.append(f"{name} in")
            await asyncio.sleep(hold_s)
            order.append(f"{name} out")

    async def main() -> None:
        await asyncio.gather(holder(first, "first", 0.5, 0.0), holder(second, "second", 0.0, 0.1))

    try:
        asyncio.run(main())
        assert order == ["first in", "first out", "second in", "second out"]
    finally:
        first.dispose()
        second.dispose()


def test_one_process_keeps_its_own_syncs_apart_on_one_key(pg_url: str) -> None:
    # Advisory locks are re-entrant within a session: the process-wide lock must do this part.
    db = Database(pg_url)
    order: list[str] = []

    async def holder(name: str, start_after_s: float) -> None:
        await asyncio.sleep(start_after_s)
        async with locks.identity_lock(db, ["t:hubspot:phone:+14155550100"]):
            order.append(f"{name} in")
            await asyncio.sleep(0.3)
            order.append(f"{name} out")

    async def main() -> None:
        await asyncio.gather(holder("a", 0.0), holder("b", 0.05))

    try:
        asyncio.run(main())
        assert order == ["a in", "a out", "b in", "b out"]
    finally:
        db.dispose()


def test_a_killed_lock_connection_is_a_blip_and_the_next_lock_works(pg_url: str) -> None:
    db = Database(pg_url)
    admin = psycopg.connect(pg_url, autocommit=True)

    async def main() -> None:
        async with locks.identity_lock(db, ["t:hubspot:email:killed@x.com"]):
            pid = locks._session_for(db).conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # The release met a dead session (its locks died with it) and said nothing; a new lock works.
        async with locks.identity_lock(db, ["t:hubspot:email:killed@x.com"]):
            pass

    try:
        asyncio.run(main())
    finally:
        admin.close()
        db.dispose()


def test_waiting_past_the_limit_is_a_transient_timeout(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locks, "LOCK_WAIT_S", 0.3)
    first, second = Database(pg_url), Database(pg_url)
    caught: list[BaseException] = []

    async def main() -> None:
        async with locks.identity_lock(first, ["t:hubspot:email:busy@x.com"]):
            try:
                async with locks.identity_lock(second, ["t:hubspot:email:busy@x.com"]):
                    pass
            except LockWaitTimeout as exc:
                caught.append(exc)

    try:
        asyncio.run(main())
        assert len(caught) == 1 and is_transient_database_error(caught[0])
    finally:
        first.dispose()
        second.dispose()


def test_sqlite_keeps_one_process_syncs_apart(sqlite_db: Database) -> None:
    order: list[str] = []

    async def holder(name: str, start_after_s: float) -> None:
        await asyncio.sleep(start_after_s)
        async with locks.identity_lock(sqlite_db, ["t:hubspot:email:a@x.com", "t:hubspot:phone:+1"]):
            order.append(f"{name} in")
            await asyncio.sleep(0.2)
            order.append(f"{name} out")

    async def main() -> None:
        await asyncio.gather(holder("a", 0.0), holder("b", 0.05))

    asyncio.run(main())
    assert order == ["a in", "a out", "b in", "b out"]


def test_a_waiter_holds_none_of_its_keys_while_another_process_holds_one_and_all_once_it_is_free(
    pg_url: str,
) -> None:
    db = Database(pg_url)
    free_key, busy_key = "t:hubspot:email:a@x.com", "t:hubspot:phone:+14155550100"
    other = psycopg.connect(pg_url, autocommit=True)  # another worker process's lock connection
    probe = psycopg.connect(pg_url, autocommit=True)
    other.execute("SELECT pg_advisory_lock(%s)", (locks._lock_id(busy_key),))
    seen: list[bool] = []

    async def main() -> None:
        async def waiter() -> None:
            async with locks.identity_lock(db, [free_key, busy_key]):
                # Inside: both keys are this process's, so the probe gets neither.
                for key in (free_key, busy_key):
                    row = probe.execute("SELECT pg_try_advisory_lock(%s)", (locks._lock_id(key),)).fetchone()
                    seen.append(bool(row and row[0]))

        async def another_sync(done: asyncio.Event) -> None:
            # Keeps this process's lock connection open (an idle one is closed, dropping every lock).
            async with locks.identity_lock(db, ["t:hubspot:email:someone-else@x.com"]):
                await done.wait()

        done = asyncio.Event()
        holding = asyncio.create_task(another_sync(done))
        await asyncio.sleep(0.1)
        task = asyncio.create_task(waiter())
        await asyncio.sleep(0.3)
        assert not task.done()  # still waiting for the busy key
        # While it waits, the key it could have taken is not held: the probe takes it and gives it back.
        row = probe.execute("SELECT pg_try_advisory_lock(%s)", (locks._lock_id(free_key),)).fetchone()
        assert row is not None and row[0] is True
        probe.execute("SELECT pg_advisory_unlock(%s)", (locks._lock_id(free_key),))
        other.execute("SELECT pg_advisory_unlock(%s)", (locks._lock_id(busy_key),))
        await asyncio.wait_for(task, 10)
        done.set()
        await asyncio.wait_for(holding, 10)

    try:
        asyncio.run(main())
        assert seen == [False, False]
    finally:
        other.close()
        probe.close()
        db.dispose()
