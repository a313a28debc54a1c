"""The sync queue: its names, workflow ids and partitions, and enqueueing in the caller's transaction.

Only `pipeline/` talks to DBOS. A call (or a later event, a replay, a reviewer's decision) is enqueued in
the same database transaction as the rows that describe it, so either both exist or neither does.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from dbos import DBOSClient, EnqueueOptions, run_dbos_database_migrations
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from callsync.models import CallRecord
from callsync.reconcile.identity import normalize_phone
from callsync.store.db import Database

SYNC_QUEUE = "callsync-sync"
SYNC_WORKFLOW = "callsync.sync_call"
REVIEW_WORKFLOW = "callsync.apply_review"


def workflow_id_for(tenant: str, call_id: str) -> str:
    """The idempotency key of a call's sync: one workflow per (tenant, call), whatever the retries."""
    return f"sync:{tenant}:{call_id}"


def partition_key_for(call: CallRecord, region: str = "US") -> str:
    """Calls that may concern one person run one at a time. The caller's own line is the key known
    before any extraction; without one, the call is its own partition."""
    line = normalize_phone(call.caller_line, region) if call.caller_line else None
    return f"line:{line}" if line else f"call:{call.call_id}"


_ready: set[str] = set()
_ready_lock = threading.Lock()


def ensure_queue_tables(db: Database) -> None:
    """DBOS's system tables beside callsync's (once per database and process; safe to repeat)."""
    with _ready_lock:
        if db.url in _ready:
            return
        run_dbos_database_migrations(system_database_url=db.dbos_url)
        _ready.add(db.url)


# One client per engine: building one checks the connection (a round trip) and sets up its system-database
# wrapper, which cost ingest a sixth of its time when done per webhook. Weak keys: a disposed test database's
# engine takes its client with it.
_clients: weakref.WeakKeyDictionary[Engine, DBOSClient] = weakref.WeakKeyDictionary()


def queue_client(db: Database) -> DBOSClient:
    ensure_queue_tables(db)
    with _ready_lock:
        client = _clients.get(db.engine)
        if client is None:
            client = _clients[db.engine] = DBOSClient(system_database_engine=db.engine)
        return client


def enqueue_in(
    client: DBOSClient,
    session: Session,
    *,
    workflow: str,
    workflow_id: str,
    partition: str,
    args: tuple[Any, ...],
) -> None:
    """Enqueue a workflow inside `session`'s transaction: it exists exactly when that transaction commits."""
    options: EnqueueOptions = {
        "queue_name": SYNC_QUEUE,
        "workflow_name": workflow,
        "workflow_id": workflow_id,
        "queue_partition_key": partition,
    }
    client.enqueue_in_transaction(session, options, *args)
