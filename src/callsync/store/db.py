"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, InvalidatePoolError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callsync.store.migrate import upgrade

DEFAULT_DB_URL = "sqlite:///./callsync.db"
ENV_DB_URL = "CALLSYNC_DB_URL"


SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class DatabaseURLError(ValueError):
    """A database URL that cannot be used: not a URL, an unsupported driver, no file named, or a server that
    does not answer. The message is one line a user can act on."""


class NoDatabase(DatabaseURLError):
    """A read-only command was pointed at a SQLite file that does not exist (a typo looks like "no calls")."""


def resolve_db_url(explicit: str | None = None) -> str:
    """`--db` wins, then CALLSYNC_DB_URL, then ./callsync.db. Plain `postgresql://` gets the psycopg driver.

    Raises DatabaseURLError for a value that is not a usable URL of a supported database."""
    url = explicit or os.environ.get(ENV_DB_URL) or DEFAULT_DB_URL
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    _check_url(url)
    return url


def _check_url(url: str) -> None:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseURLError(
            f"{url!r} is not a database URL: use sqlite:///path/to/callsync.db or postgresql://user@host/db"
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseURLError(f"unsupported driver {backend}; supported are sqlite and postgresql")
    if backend == "sqlite" and not parsed.database:
        raise DatabaseURLError(f"{url!r} names no database file: use sqlite:///path/to/callsync.db")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None: not SQLite, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _reason(exc: OperationalError) -> str:
    """The driver's own words, one line: "Connection refused", "password authentication failed ..."."""
    text_ = str(exc.orig or exc).strip()
    for line in text_.splitlines():
        if "refused" in line.lower():
            return "connection refused"
    first = text_.splitlines()[0] if text_ else "no answer"
    return first.split(": ", 1)[-1] if first.startswith("connection failed") else first


def _server(parsed: URL) -> str:
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


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


def make_engine(url: str, *, create: bool = True, connections: ConnectionBudget | None = None) -> Engine:
    """An engine for `url`. `create=False` (read-only commands): a SQLite file that does not exist is
    refused (NoDatabase) instead of being created with its directories."""
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            if not create and not path.is_file():
                raise NoDatabase(f"no database at {path}; check --db")
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    budget = connections or ConnectionBudget.from_env()
    return _budgeted_pool(url, budget.callsync, budget.application_name("db"))


def _budgeted_pool(url: str | URL, size: int, application_name: str, **connect_args: Any) -> Engine:
    """A PostgreSQL pool of one share of a process's connection budget, capped (no overflow) so a process
    never opens more than its share of the server's connections, and checked on checkout
    (`_check_on_checkout`)."""
    engine = create_engine(
        url,
        pool_size=size,
        max_overflow=0,
        pool_timeout=30,
        connect_args={"application_name": application_name, **connect_args},
    )
    _check_on_checkout(engine)
    return engine


# The queue's (DBOS's) connections end a transaction left idle this long, as DBOS's own engine does.
QUEUE_IDLE_TRANSACTION_TIMEOUT_MS = 60_000


def make_queue_engine(url: str, connections: ConnectionBudget) -> Engine:
    """The queue's own pool on PostgreSQL: its share of the process's connection budget, checked on checkout
    as callsync's pool is (`_check_on_checkout`). DBOS's default engine pings on every checkout: a round
    trip and a statement more on each of the four or so queue transactions a call costs."""
    engine = _budgeted_pool(
        make_url(url).set(drivername="postgresql+psycopg"),
        connections.queue,
        connections.application_name("queue"),
        connect_timeout=10,
    )

    def idle_transaction_timeout(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cursor:
            cursor.execute(f"SET idle_in_transaction_session_timeout = {QUEUE_IDLE_TRANSACTION_TIMEOUT_MS}")
        dbapi_conn.commit()  # the pool rolls a connection back on its return, which would undo a bare SET

    event.listen(engine, "connect", idle_transaction_timeout)
    return engine


# A pooled connection idle longer than this is pinged (a round trip) before use; one used more recently is
# checked without a round trip (_has_news). SQLAlchemy's pool_pre_ping pinged on every checkout: a round trip
# more on every transaction (one of a webhook's six).
PING_AFTER_IDLE_S = 5.0
_CHECKED_IN_AT = "callsync_checked_in_at"


def _has_news(dbapi_conn: Any) -> bool:
    """Whether an idle connection's socket has something to read or is closed. A connection resting in the
    pool has nothing to say: a terminated backend (a restart, pg_terminate_backend, a failover) sends its
    FATAL message and closes, which shows here without a round trip."""
    if getattr(dbapi_conn, "closed", False):
        return True
    try:
        fd = dbapi_conn.pgconn.socket
    except Exception:  # libpq has no socket: the connection is gone
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _check_on_checkout(engine: Engine) -> None:
    """Pessimistic disconnect handling that pings only when needed: a connection that is closed, has news
    on its socket, or rested in the pool over PING_AFTER_IDLE_S (a silently dropped peer shows nothing on
    the socket) is pinged; a failed ping raises DisconnectionError, so the pool replaces the connection and
    the caller never sees the stale one (as pool_pre_ping did; a lost connection, as there, retires every
    connection pooled before it)."""

    def checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    def connect(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()  # just made: nothing to ping

    def checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        rested = time.monotonic() - record.info.get(_CHECKED_IN_AT, float("-inf"))
        if rested <= PING_AFTER_IDLE_S and not _has_news(dbapi_conn):
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_conn, None):
                raise InvalidatePoolError(f"pooled connection lost: {exc}") from exc
            raise DisconnectionError(f"pooled connection unusable: {exc}") from exc

    event.listen(engine, "connect", connect)
    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


ENV_DB_CONNECTIONS = "CALLSYNC_DB_CONNECTIONS"
DEFAULT_DB_CONNECTIONS = 48


@dataclass(frozen=True)
class ConnectionBudget:
    """The PostgreSQL connections one callsync process may hold: one setting (`--db-connections` or
    $CALLSYNC_DB_CONNECTIONS), split between callsync's pool and the queue's (DBOS) pool."""

    total: int = DEFAULT_DB_CONNECTIONS

    @staticmethod
    def from_env(explicit: int | None = None) -> ConnectionBudget:
        raw = explicit if explicit is not None else os.environ.get(ENV_DB_CONNECTIONS)
        try:
            total = int(raw) if raw is not None else DEFAULT_DB_CONNECTIONS
        except ValueError as exc:
            raise DatabaseURLError(f"{ENV_DB_CONNECTIONS} must be a whole number, not {raw!r}") from exc
        if not 8 <= total <= 10_000:
            raise DatabaseURLError(f"a process needs between 8 and 10000 database connections, not {total}")
        return ConnectionBudget(total)

    @property
    def queue(self) -> int:
        """The queue's own pool (DBOS's system database)."""
        return max(4, self.total // 4)

    @property
    def callsync(self) -> int:
        return self.total - self.queue

    def application_name(self, pool: str) -> str:
        """Names every connection after its process and budget, so another process can count what the
        running ones may hold (`pg_stat_activity.application_name`)."""
        return f"callsync/{socket.gethostname()[:20]}/{os.getpid()}/{self.total}/{pool}"


class Database:
    """One database: callsync's tables and DBOS's system tables side by side."""

    def __init__(
        self, url: str | None = None, *, create: bool = True, connections: ConnectionBudget | None = None
    ) -> None:
        self.url = resolve_db_url(url)
        self.connections = connections or ConnectionBudget.from_env()
        self.engine = make_engine(self.url, create=create, connections=self.connections)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def check_connection(self) -> None:
        """Reach the database once; a server that does not answer is a DatabaseURLError naming it."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            parsed = make_url(self.url)
            if parsed.get_backend_name() == "sqlite":
                raise DatabaseURLError(f"cannot open {parsed.database}: {exc.orig}") from exc
            raise DatabaseURLError(f"cannot connect to {_server(parsed)}: {_reason(exc)}") from exc

    @property
    def dbos_url(self) -> str:
        """DBOS takes a plain URL; it picks its own driver."""
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A transaction for Core statements only: no ORM session to set up and tear down (~0.15 ms of
        CPU less than `session`, which the statements every call runs do not need)."""
        with self.engine.begin() as conn:
            yield conn

    def migrate(self) -> None:
        """Bring callsync's schema to head. Safe to run on every start."""
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
