"""One setting sizes a process's PostgreSQL connections, and a worker refuses to start when the server cannot
give it that many beside the callsync processes already running (issue 19 item 2)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from callsync.cli import app
from callsync.pipeline.worker import ConnectionBudgetError, check_connection_budget
from callsync.store.db import ConnectionBudget, Database, DatabaseURLError


def test_one_setting_splits_into_callsyncs_pool_and_the_queues() -> None:
    budget = ConnectionBudget(48)
    assert (budget.callsync, budget.queue) == (36, 12)
    assert ConnectionBudget.from_env(24).total == 24
    with pytest.raises(DatabaseURLError, match="between 8 and 10000"):
        ConnectionBudget.from_env(2)


def test_the_pool_never_grows_past_its_share(pg_url: str) -> None:
    db = Database(pg_url, connections=ConnectionBudget(16))
    try:
        assert db.engine.pool.size() == 12  # type: ignore[attr-defined]
        assert db.engine.pool._max_overflow == 0  # type: ignore[attr-defined]
    finally:
        db.dispose()


def test_a_worker_that_would_exhaust_the_server_is_refused_with_the_figures(pg_url: str) -> None:
    db = Database(pg_url, connections=ConnectionBudget(48))
    others: list[psycopg.Connection[tuple[object, ...]]] = []
    try:
        assert "48 connections" in check_connection_budget(db, concurrency=32)
        # Another host's worker already budgets 60 connections (it names its budget on its connections).
        database = pg_url.rsplit("/", 1)[1]
        base = pg_url.rsplit("/", 1)[0]
        others.append(psycopg.connect(f"{base}/{database}", application_name="callsync/otherhost/4242/60/db"))
        with pytest.raises(ConnectionBudgetError, match="1 other callsync process\\(es\\) budgeting 60"):
            check_connection_budget(db, concurrency=32)
        smaller = Database(pg_url, connections=ConnectionBudget(16))
        try:
            assert "16 connections" in check_connection_budget(smaller, concurrency=8)
        finally:
            smaller.dispose()
    finally:
        for conn in others:
            conn.close()
        db.dispose()


def test_concurrency_beyond_the_pool_is_allowed_because_a_sync_pins_no_connection(
    sqlite_db: Database,
) -> None:
    # Identity locks share one connection per process (tests/store/test_locks.py), so 128 syncs in flight
    # fit a budget of 48; only a nonsensical value is refused.
    assert "48 connections" in check_connection_budget(sqlite_db, concurrency=128)
    with pytest.raises(ConnectionBudgetError, match="--concurrency must be at least 1"):
        check_connection_budget(sqlite_db, concurrency=0)


def test_doctor_shows_the_budget_and_fails_when_the_server_has_no_room(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_CRM_TOKEN", "tok")
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "acme.yaml").write_text("name: acme\ncrm: {kind: hubspot, token_env: ACME_CRM_TOKEN}\n")
    runner = CliRunner()
    fits = runner.invoke(app, ["doctor", "--tenants", str(tenants), "--db", pg_url, "--concurrency", "8",
                               "--db-connections", "16"])  # fmt: skip
    assert fits.exit_code == 0, fits.output
    assert "ok      database connections: 16 connections (12 callsync, 4 queue); server max_connections" in (
        fits.stdout
    )
    too_many = runner.invoke(
        app, ["doctor", "--tenants", str(tenants), "--db", pg_url, "--db-connections", "5000"]
    )
    assert too_many.exit_code == 1
    assert "TOO MANY database connections: this worker needs 5000 connections" in too_many.stdout
