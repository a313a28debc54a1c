"""The queue's (DBOS's) pool on PostgreSQL: its share of the connection budget, named for it, with DBOS's
idle-transaction timeout, and checked on checkout like callsync's own pool (no ping on every checkout, a
terminated connection replaced before use)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from callsync.store.db import QUEUE_IDLE_TRANSACTION_TIMEOUT_MS, ConnectionBudget, make_queue_engine
from tests.conftest import PG_ADMIN_URL


def _pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = engine.dialect.do_ping

    def counting(dbapi_conn: Any) -> bool:
        pings.append(1)
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return pings


def test_the_queue_pool_is_its_share_of_the_budget_named_for_it_with_an_idle_transaction_timeout(
    pg_url: str,
) -> None:
    budget = ConnectionBudget(40)
    engine = make_queue_engine(pg_url, budget)
    try:
        assert engine.pool.size() == budget.queue  # type: ignore[attr-defined]
        with engine.connect() as conn:
            name = conn.execute(text("SELECT current_setting('application_name')")).scalar_one()
            timeout = conn.execute(text("SELECT current_setting('idle_in_transaction_session_timeout')"))
            assert name == budget.application_name("queue")
            assert timeout.scalar_one() == f"{QUEUE_IDLE_TRANSACTION_TIMEOUT_MS // 60_000}min"
    finally:
        engine.dispose()


def test_the_queue_pool_does_not_ping_a_connection_used_moments_ago(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_queue_engine(pg_url, ConnectionBudget(8))
    try:
        _pid(engine)
        pings = _count_pings(engine, monkeypatch)
        for _ in range(5):
            _pid(engine)
        assert pings == []
    finally:
        engine.dispose()


def test_the_queue_pool_replaces_a_terminated_connection_before_use(pg_url: str) -> None:
    engine = make_queue_engine(pg_url, ConnectionBudget(8))
    try:
        first = _pid(engine)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        deadline = time.monotonic() + 5
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (first,)).fetchone():
                assert time.monotonic() < deadline, "the terminated backend did not go away"
                time.sleep(0.05)
        assert _pid(engine) != first  # no error reached the caller: the pool swapped the connection
    finally:
        engine.dispose()
