"""Per-identity locks around find-then-create, so two calls about one person or company never both create.

SQLite runs one worker process, so a process-wide lock per key suffices. PostgreSQL runs several worker
processes: a session-level advisory lock per key, held on a dedicated connection for the critical section.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import text

from callsync.store.db import Database, is_sqlite
from callsync.store.errors import is_transient_database_error

_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def _lock_id(key: str) -> int:
    """A stable signed 64-bit id for pg_advisory_lock."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


async def _acquire_local(key: str) -> threading.Lock:
    with _local_guard:
        lock = _local_locks.setdefault(key, threading.Lock())
    # Workflows may run on different threads and loops: poll instead of blocking the loop.
    while not lock.acquire(blocking=False):
        await asyncio.sleep(0.01)
    return lock


@asynccontextmanager
async def identity_lock(db: Database, keys: Sequence[str]) -> AsyncIterator[None]:
    """Hold every key's lock (in sorted order, so two holders of overlapping keys cannot deadlock)."""
    ordered = sorted(set(keys))
    if is_sqlite(db.url):
        held = []
        try:
            for key in ordered:
                held.append(await _acquire_local(key))
            yield
        finally:
            for lock in reversed(held):
                lock.release()
        return
    conn = await asyncio.to_thread(db.engine.connect)
    try:
        for key in ordered:
            await asyncio.to_thread(conn.execute, text("SELECT pg_advisory_lock(:k)"), {"k": _lock_id(key)})
        yield
    finally:
        try:
            await asyncio.to_thread(conn.execute, text("SELECT pg_advisory_unlock_all()"))
        except Exception as exc:
            if not is_transient_database_error(exc):
                raise
            # The session is gone (killed, restarted): its advisory locks went with it.
        finally:
            await asyncio.to_thread(conn.close)
