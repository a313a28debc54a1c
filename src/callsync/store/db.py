"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from callsync.store.migrate import upgrade

DEFAULT_DB_URL = "sqlite:///./callsync.db"
ENV_DB_URL = "CALLSYNC_DB_URL"


def resolve_db_url(explicit: str | None = None) -> str:
    """`--db` wins, then CALLSYNC_DB_URL, then ./callsync.db. Plain `postgresql://` gets the psycopg driver."""
    url = explicit or os.environ.get(ENV_DB_URL) or DEFAULT_DB_URL
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers (status, trace) run while the worker writes; busy_timeout absorbs the short
    # write-lock waits between our engine and DBOS's engine, which share the file.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A worker's syncs each hold a connection while they hold a caller's advisory lock (store/locks.py).
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)


class Database:
    """One database: callsync's tables and DBOS's system tables side by side."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_db_url(url)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dbos_url(self) -> str:
        """DBOS takes a plain URL; it picks its own driver."""
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring callsync's schema to head. Safe to run on every start."""
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
