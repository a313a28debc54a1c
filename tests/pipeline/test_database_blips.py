"""A database blip is never a dead letter: connections killed in the middle of a run on PostgreSQL
(`pg_terminate_backend`, as a restart, a failover or a pooler does) cost a retry, not a call."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg

from callsync.config import DeliverySettings
from callsync.store.db import Database
from callsync.store.tables import DeadLetterRow
from tests.conftest import PG_ADMIN_URL
from tests.pipeline.test_engine import call_payload, make_harness

__all__ = ["make_harness"]

N = 24


def kill_connections(database: str, stop: threading.Event, kills: list[int]) -> None:
    """Terminate every connection to `database` every 0.3 s, 12 times (or until stopped)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        for _ in range(12):
            if stop.wait(0.3):
                return
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchall()
            kills.append(len(rows))


def settle(url: str) -> None:
    """Wait until the queue's own bookkeeping caught up (a retry of it may still be sleeping after a kill):
    the database is dropped after the test, and nothing may be left retrying against it."""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(120):
            row = conn.execute(
                "SELECT count(*) FROM dbos.workflow_status WHERE status IN ('PENDING', 'ENQUEUED')"
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.5)


def stuck(url: str) -> list[tuple[object, ...]]:
    """The queue's view of the calls still queued: status, attempts, last error (for the failure message)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT w.workflow_uuid, w.status, w.recovery_attempts, left(coalesce(w.error, ''), 120), "
            "(SELECT string_agg(o.function_name || ':' || left(coalesce(o.error, 'ok'), 300), ' | ' "
            "ORDER BY o.function_id) FROM dbos.operation_outputs o WHERE o.workflow_uuid = w.workflow_uuid) "
            "FROM dbos.workflow_status w JOIN calls c ON w.workflow_uuid LIKE '%' || c.call_id "
            "WHERE c.sync_state = 'queued'"
        ).fetchall()


def test_killed_connections_mid_run_lose_nothing_double_nothing_and_dead_letter_nothing(
    make_harness: Any, pg_url: str
) -> None:
    db = Database(pg_url)
    db.migrate()
    h = make_harness(db=db)
    # Outage retries may wait up to two minutes in all (the harness default gives up after one second).
    h.tenant = h.tenant.model_copy(
        update={
            "delivery": DeliverySettings(
                max_attempts=3, base_delay_s=0.05, max_delay_s=0.5, outage_horizon_s=120
            )
        }
    )
    h.ingest(
        *(call_payload(f"c-{i}", [f"hi it's caller number {i}, calling about my order"], from_=f"+1415555{i:04d}")
          for i in range(N))
    )  # fmt: skip
    stop, kills = threading.Event(), []
    killer = threading.Thread(target=kill_connections, args=(pg_url.rsplit("/", 1)[1], stop, kills))
    killer.start()
    try:
        started = time.monotonic()
        state = h.sync(timeout_s=150)
    finally:
        stop.set()
        killer.join(timeout=10)
    settle(pg_url)
    assert sum(kills) > 0, "the test must actually kill connections"
    assert (state.confirmed, state.queued, state.dead_letter) == (N, 0, 0), (
        f"after {time.monotonic() - started:.0f} s; workflows of calls still queued: {stuck(pg_url)}"
    )
    assert h.rows(DeadLetterRow) == []
    phones = sorted(c["properties"]["phone"] for c in h.contacts())
    assert phones == sorted(f"+1415555{i:04d}" for i in range(N)), (
        "one record per caller: nothing lost, nothing doubled"
    )
    db.dispose()
