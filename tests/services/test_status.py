"""services.status: the counts, and whether any worker is moving the queue."""

from __future__ import annotations

import time

from callsync.capture.platforms.generic import parse_generic_call
from callsync.pipeline.intake import receive_call
from callsync.pipeline.liveness import worker_liveness
from callsync.services import status
from callsync.store.db import Database

CALL = {"call_id": "c-1", "from": "+14155550123", "turns": [{"speaker": "caller", "text": "hi"}]}


def queue_one(db: Database) -> None:
    receive_call(db, parse_generic_call(CALL, tenant="t1"), "{}")


def test_nothing_pending_is_idle_not_a_claim_about_workers(sqlite_db: Database) -> None:
    report = status.status(sqlite_db)
    assert report.workers.verdict == "idle"
    assert report.to_json()["workers"] == "idle"


def test_work_just_queued_is_active_and_stalled_once_nothing_moves(sqlite_db: Database) -> None:
    queue_one(sqlite_db)
    assert status.status(sqlite_db).workers.verdict == "active"
    later = worker_liveness(sqlite_db, now=time.time() + 120)
    assert later.verdict == "stalled" and later.pending == 1 and (later.last_progress_s or 0) >= 119


def test_counts_name_calls_in_review_apart_from_review_items(sqlite_db: Database) -> None:
    queue_one(sqlite_db)
    counts = status.counts(sqlite_db)
    assert counts["calls"] == 1 and counts["queued"] == 1
    assert counts["calls_in_review"] == 0 and counts["review"] == 0 and counts["closed"] == 0
