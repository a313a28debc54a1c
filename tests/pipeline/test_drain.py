"""`drain` returns once no call is queued and the queue has marked every sync done, never later than
SETTLE_S after the last call settled (a sync the queue still runs, e.g. asleep, does not hold it up)."""

from __future__ import annotations

import time

import pytest

from callsync.pipeline import worker
from callsync.store.db import Database


def test_drain_waits_for_the_queue_to_mark_the_last_syncs_done(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    left = [2, 1, 0]
    asked: list[int] = []

    def pending(_db: Database) -> int:
        asked.append(left[0])
        return left.pop(0) if len(left) > 1 else left[0]

    monkeypatch.setattr(worker, "pending_syncs", pending)
    state = worker.drain(sqlite_db, timeout_s=10)
    assert state.queued == 0
    assert asked == [2, 1, 0]  # it asked until none was left, and no further


def test_drain_gives_up_on_a_sync_still_running_after_the_settling_time(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "SETTLE_S", 0.3)
    monkeypatch.setattr(worker, "pending_syncs", lambda _db: 1)
    started = time.monotonic()
    worker.drain(sqlite_db, timeout_s=10)
    assert time.monotonic() - started < 2.0


def test_pending_syncs_counts_nothing_on_an_empty_queue(sqlite_db: Database) -> None:
    assert worker.pending_syncs(sqlite_db) == 0
