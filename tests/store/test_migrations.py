"""The same migration runs on SQLite and on the real PostgreSQL server, and is safe to re-run."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from callsync.store.db import Database, resolve_db_url
from callsync.store.migrate import alembic_config

TABLES = {"calls", "field_values", "ledger", "identity_links", "dead_letters", "review_items", "quarantine"}


def test_sqlite_gets_every_table_in_wal_mode(sqlite_db: Database) -> None:
    names = set(inspect(sqlite_db.engine).get_table_names())
    assert names >= TABLES
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_migration_history_is_linear_and_migrating_twice_is_a_no_op(sqlite_db: Database) -> None:
    sqlite_db.migrate()
    heads = ScriptDirectory.from_config(alembic_config(sqlite_db.engine)).get_heads()
    assert len(heads) == 1, f"migration branches must be merged into one history: {heads}"
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == heads[0]


def test_postgres_gets_every_table(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        db.migrate()
        db.migrate()
        insp = inspect(db.engine)
        assert set(insp.get_table_names()) >= TABLES
    finally:
        db.dispose()


def test_db_url_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLSYNC_DB_URL", raising=False)
    assert resolve_db_url() == "sqlite:///./callsync.db"
    monkeypatch.setenv("CALLSYNC_DB_URL", "postgresql://u@h/db")
    assert resolve_db_url() == "postgresql+psycopg://u@h/db"
    assert resolve_db_url("sqlite:///x.db") == "sqlite:///x.db"
