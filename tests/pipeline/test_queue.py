"""The queue's own tables live beside callsync's, in the same database, created by the pipeline."""

from __future__ import annotations

from sqlalchemy import inspect

from callsync.pipeline.queue import ensure_queue_tables
from callsync.store.db import Database


def test_queue_tables_are_created_beside_callsyncs_on_sqlite(sqlite_db: Database) -> None:
    assert "workflow_status" not in inspect(sqlite_db.engine).get_table_names()
    ensure_queue_tables(sqlite_db)
    ensure_queue_tables(sqlite_db)  # safe to repeat
    names = set(inspect(sqlite_db.engine).get_table_names())
    assert {"workflow_status", "calls", "ledger"} <= names


def test_queue_tables_live_in_their_own_schema_on_postgres(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        db.migrate()
        ensure_queue_tables(db)
        assert "workflow_status" in inspect(db.engine).get_table_names(schema="dbos")
    finally:
        db.dispose()
