"""A worker runs its blocking work on a small, bounded pool of threads (pipeline/worker.py)."""

from __future__ import annotations

import asyncio
import threading
import time

from dbos._dbos import _get_dbos_instance

from callsync.pipeline import engine
from callsync.pipeline.worker import BLOCKING_THREADS, running_worker
from callsync.store.db import Database


def test_a_workers_blocking_work_shares_a_bounded_pool_of_threads(sqlite_db: Database) -> None:
    running = 0
    most = 0
    threads: set[int] = set()
    guard = threading.Lock()

    def blocking() -> None:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
            threads.add(threading.get_ident())
        time.sleep(0.02)
        with guard:
            running -= 1

    async def many() -> None:
        # What the sync steps do: asyncio.to_thread on the queue's event loop, many syncs at once.
        await asyncio.gather(*(asyncio.to_thread(blocking) for _ in range(64)))

    with running_worker(engine.Runtime(sqlite_db, {}), poll_s=0.05):
        # The queue's own event loop (private to DBOS): where the sync workflows and their steps run.
        _get_dbos_instance()._background_event_loop.submit_coroutine(many())

    assert most == BLOCKING_THREADS
    assert len(threads) <= BLOCKING_THREADS
