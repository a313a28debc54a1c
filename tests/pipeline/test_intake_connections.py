"""The PostgreSQL pool that intake writes through: a connection whose server side is gone is replaced before
use (no webhook sees it), without a ping round trip on every transaction of a busy pool."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from callsync.store import db as store_db
from callsync.store.db import ConnectionBudget, Database
from tests.conftest import PG_ADMIN_URL


def _backend_pid(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _count_pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = db.engine.dialect.do_ping

    def counting(dbapi_conn: Any) -> bool:
        pings.append(1)
        return real(dbapi_conn)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counting)
    return pings


def test_a_pooled_connection_whose_backend_was_terminated_is_replaced_before_use(pg_url: str) -> None:
    db = Database(pg_url, connections=ConnectionBudget(8))
    try:
        first = _backend_pid(db)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
            for _ in range(50):  # the backend is gone once pg_stat_activity no longer lists it
                if (
                    admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (first,)).fetchone()
                    is None
                ):
                    break
                time.sleep(0.05)
        assert _backend_pid(db) != first  # no OperationalError: the dead connection never reached a caller
    finally:
        db.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(pg_url, connections=ConnectionBudget(8))
    try:
        _backend_pid(db)
        pings = _count_pings(db, monkeypatch)
        pids = {_backend_pid(db) for _ in range(5)}
        assert pings == [] and len(pids) == 1
    finally:
        db.dispose()


def test_a_connection_that_rested_in_the_pool_is_pinged_first(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(pg_url, connections=ConnectionBudget(8))
    try:
        _backend_pid(db)
        pings = _count_pings(db, monkeypatch)
        monkeypatch.setattr(store_db, "PING_AFTER_IDLE_S", 0.0)
        _backend_pid(db)
        assert pings == [1]
    finally:
        db.dispose()
