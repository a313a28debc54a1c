"""Per-identity locks around find-then-create, so two calls about one person or company never both create.

SQLite runs one worker process, so a process-wide lock per key suffices. PostgreSQL runs several worker
processes: a session-level advisory lock per key. All of a process's advisory locks live on **one**
connection (`_LockSession`), taken with `pg_try_advisory_lock` and waited for by polling: a sync in flight
holds no connection of its own while it talks to the CRM, so the number of syncs in flight is not bounded
by the pool (issue 19: concurrency is what a latency-bound worker needs). Advisory locks are re-entrant
within a session, so the process-wide lock per key comes first and keeps two syncs of one process apart;
the advisory lock keeps processes apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from callsync.store.db import Database, is_sqlite
from callsync.store.errors import LockWaitTimeout, is_transient_database_error

_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()

# Waiting for a key another process holds: polled, from LOCK_POLL_MIN_S doubling to LOCK_POLL_MAX_S. A holder
# keeps a key for one write attempt (a few CRM round trips); a wait past LOCK_WAIT_S is given up as a blip
# (LockWaitTimeout is transient: the attempt is retried later, never dead-lettered).
LOCK_POLL_MIN_S, LOCK_POLL_MAX_S, LOCK_WAIT_S = 0.005, 0.2, 120.0
# Every key of a call in one round trip each way (a call has two or three: its email, its phones).
_TRY_LOCKS = text(
    "SELECT pg_try_advisory_lock(k) FROM unnest(CAST(:ks AS bigint[])) WITH ORDINALITY AS t(k, n) ORDER BY n"
)
_UNLOCKS = text("SELECT pg_advisory_unlock(k) FROM unnest(CAST(:ks AS bigint[])) AS t(k)")


def _lock_id(key: str) -> int:
    """A stable signed 64-bit id for pg_advisory_lock."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


async def _acquire_local(key: str, deadline: float) -> threading.Lock:
    with _local_guard:
        lock = _local_locks.setdefault(key, threading.Lock())
    # Workflows may run on different threads and loops: poll instead of blocking the loop.
    while not lock.acquire(blocking=False):
        if time.monotonic() > deadline:
            raise LockWaitTimeout(f"identity lock {key!r} still held after {LOCK_WAIT_S:g} s")
        await asyncio.sleep(0.01)
    return lock


class _LockSession:
    """The one connection holding this process's advisory locks on one database. It is open while at least
    one key is held and goes back to the pool when the last one is released, so an idle process (or a
    disposed test database) keeps nothing open. Statements on it are serialised by `guard` (a connection is
    not thread-safe; each lock or unlock is one short round trip)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.guard = threading.Lock()
        self.conn: Connection | None = None
        self.held = 0
        # Bumped when the connection is lost: its locks went with it, so releases of that generation are moot.
        self.generation = 0

    def try_lock(self, ids: Sequence[int]) -> int | None:
        """Take every id or none (so a waiter holds nothing while it waits): the generation, or None if
        another process holds one of them."""
        with self.guard:
            try:
                if self.conn is None:
                    self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                got = list(self.conn.execute(_TRY_LOCKS, {"ks": list(ids)}).scalars())
                if not all(got):
                    taken = [lock_id for lock_id, ok in zip(ids, got, strict=True) if ok]
                    if taken:
                        self.conn.execute(_UNLOCKS, {"ks": taken})
                    self._close_if_idle()
                    return None
                self.held += 1
                return self.generation
            except Exception as exc:
                if is_transient_database_error(exc):
                    self._lost()
                raise

    def release(self, ids: Sequence[int], generation: int) -> None:
        with self.guard:
            if generation != self.generation or self.conn is None:
                return  # the session those locks were on is gone, and the locks with it
            self.held -= 1
            try:
                self.conn.execute(_UNLOCKS, {"ks": list(ids)})
                self._close_if_idle()
            except Exception as exc:
                if not is_transient_database_error(exc):
                    raise
                self._lost()  # killed or restarted: the server dropped the locks with the session

    def _close_if_idle(self) -> None:
        if self.held == 0 and self.conn is not None:
            conn, self.conn = self.conn, None
            conn.execute(text("SELECT pg_advisory_unlock_all()"))
            conn.close()

    def _lost(self) -> None:
        conn, self.conn = self.conn, None
        self.held = 0
        self.generation += 1
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing more to free
                conn.invalidate()


_sessions: weakref.WeakKeyDictionary[Engine, _LockSession] = weakref.WeakKeyDictionary()


def _session_for(db: Database) -> _LockSession:
    with _local_guard:
        session = _sessions.get(db.engine)
        if session is None:
            session = _sessions[db.engine] = _LockSession(db.engine)
        return session


@asynccontextmanager
async def identity_lock(db: Database, keys: Sequence[str]) -> AsyncIterator[None]:
    """Hold every key's lock (in sorted order, so two holders of overlapping keys cannot deadlock)."""
    ordered = sorted(set(keys))
    deadline = time.monotonic() + LOCK_WAIT_S
    held: list[threading.Lock] = []
    try:
        for key in ordered:
            held.append(await _acquire_local(key, deadline))
        if is_sqlite(db.url):
            yield
            return
        session = _session_for(db)
        ids = [_lock_id(key) for key in ordered]
        delay = LOCK_POLL_MIN_S
        while (generation := await asyncio.to_thread(session.try_lock, ids)) is None:
            if time.monotonic() > deadline:
                raise LockWaitTimeout(
                    f"identity locks {ordered!r} held by another worker for {LOCK_WAIT_S:g} s"
                )
            await asyncio.sleep(delay)
            delay = min(LOCK_POLL_MAX_S, delay * 2)
        try:
            yield
        finally:
            await asyncio.to_thread(session.release, ids, generation)
    finally:
        for lock in reversed(held):
            lock.release()
