"""Running the delivery engine in this process: launch DBOS on the database, drain, shut down."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dbos import DBOS, DBOSConfig
from sqlalchemy import func, select, text

from callsync import __version__
from callsync.crm.http.coalesce import DEFAULT_BATCH_WINDOW_S, DEFAULT_CONCURRENCY, DEFAULT_PG_CONCURRENCY

# Every workflow any command may enqueue is registered in every worker process, so a worker never
# dequeues one it cannot run (a reviewer's decision taken while `callsync serve` runs).
from callsync.pipeline import engine, review  # noqa: F401
from callsync.pipeline.queue import SYNC_QUEUE, queue_client
from callsync.pipeline.retention_job import retention_running
from callsync.store.db import ENV_DB_CONNECTIONS, Database, is_sqlite, make_queue_engine
from callsync.store.errors import is_transient_database_error
from callsync.store.tables import CallRow

# How long a stopping worker lets in-flight steps finish, and when its process ends regardless: a step cut
# short resumes from its last checkpoint on another worker (every step is idempotent), so nothing is lost.
SHUTDOWN_GRACE_S = 5.0
SHUTDOWN_DEADLINE_S = 9.0
# Threads that run a worker's blocking work (database statements, extraction: the steps' to_thread calls).
# DBOS leaves its pool unbounded, so a worker with 128 syncs in flight ran ~80 threads, and they spent
# the worker's CPU contending for the GIL and the pool's connections rather than working (a third of it in
# the kernel). Measured on 2 cores (bench/throughput.py lifted_w1, n=2000): unbounded 46 calls/s at 19.8 ms
# of worker CPU per call; 16 threads 60/s at 16.6; 8 62.7/s at 15.5; 4 75.4/s at 12.2; 2 69/s.
BLOCKING_THREADS = 4


def exit_by_deadline(deadline_s: float = SHUTDOWN_DEADLINE_S) -> None:
    """Make sure this process ends within `deadline_s`, even if a thread is blocked in a CRM request or a
    database retry (Python would otherwise wait for it at exit)."""

    def hard_exit() -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(0)

    timer = threading.Timer(deadline_s, hard_exit)
    timer.daemon = True
    timer.start()


def default_concurrency(db: Database) -> int:
    """Syncs in flight when `--concurrency` is not given: many on PostgreSQL (a latency-bound worker confirms
    about what it has in flight, and a sync pins no connection), fewer on SQLite's single writer."""
    return DEFAULT_CONCURRENCY if is_sqlite(db.url) else DEFAULT_PG_CONCURRENCY


@contextmanager
def running_worker(
    runtime: engine.Runtime,
    *,
    concurrency: int | None = None,
    poll_s: float = DEFAULT_BATCH_WINDOW_S,
    shutdown_grace_s: float = 0.0,
) -> Iterator[None]:
    """Start DBOS on the runtime's database: queued and interrupted sync workflows resume from their
    last completed step. Calls of one caller line run one at a time (a queue partition each). `poll_s`
    is the batch window (DEFAULT_BATCH_WINDOW_S). On the way out, running workflows get
    `shutdown_grace_s` to finish their current step. `concurrency` None: the database's default
    (`default_concurrency`)."""
    concurrency = concurrency or default_concurrency(runtime.db)
    runtime.batch_window_s = poll_s
    engine.configure(runtime)
    config: DBOSConfig = {
        "name": "callsync",
        "system_database_url": runtime.db.dbos_url,
        "application_version": __version__,
        "log_level": "WARNING",
        "max_executor_threads": BLOCKING_THREADS,
    }
    queue_engine = None
    if not is_sqlite(runtime.db.url):
        # The queue's pool is this process's other share of its connection budget (store/db.py).
        queue_engine = config["system_database_engine"] = make_queue_engine(
            runtime.db.url, runtime.db.connections
        )
    DBOS(config=config)
    _route_dbos_logs_through_logging()
    try:
        DBOS.launch()
        DBOS.register_queue(
            SYNC_QUEUE, partition_concurrency=1, worker_concurrency=concurrency, polling_interval_sec=poll_s
        )
        with retention_running(runtime.db, runtime.tenants):
            yield
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=int(shutdown_grace_s))
        # After the workflows stopped: an adapter closed under a running attempt would fail its request.
        runtime.adapters.close()
        if queue_engine is not None:
            queue_engine.dispose()  # DBOS leaves an engine it was given to its owner


def _route_dbos_logs_through_logging() -> None:
    """DBOS installs its own console handler bound to the sys.stderr of import time; a process that swaps
    stderr (a test runner, an embedding CLI) would leave it writing to a closed stream. Its records go
    through standard logging instead, where the host process decides."""
    dbos_log = logging.getLogger("dbos")
    for handler in list(dbos_log.handlers):
        if handler.name == "__dbos_console_log_handler__":
            dbos_log.removeHandler(handler)
    dbos_log.propagate = True


@dataclass(frozen=True)
class Backlog:
    total: int
    queued: int
    confirmed: int
    review: int
    dead_letter: int
    delivered: int = 0  # 2xx from a target that cannot be read back (a webhook): not confirmed

    @property
    def done(self) -> int:
        return self.total - self.queued


def backlog(db: Database) -> Backlog:
    with db.session() as session:
        rows = session.execute(select(CallRow.sync_state, func.count()).group_by(CallRow.sync_state)).all()
    counts = {state: n for state, n in rows}
    return Backlog(
        total=sum(counts.values()),
        queued=counts.get("queued", 0),
        confirmed=counts.get("confirmed", 0),
        review=counts.get("review", 0),
        dead_letter=counts.get("dead_letter", 0),
        delivered=counts.get("delivered", 0),
    )


# A sync records its call's final state inside its last step, and the queue marks the workflow done a moment
# later. Stopping the queue in between leaves the workflow PENDING: it is resumed, harmlessly, at the next
# start, but until then `forget` and `status` see a sync still running. So once no call is queued, `drain`
# waits up to this long for those last records.
SETTLE_S = 5.0


def pending_syncs(db: Database) -> int:
    """Sync workflows the queue has not marked done (running, asleep, or just finishing)."""
    client = queue_client(db)
    pending = client.list_workflows(
        status="PENDING", queue_name=SYNC_QUEUE, load_input=False, load_output=False
    )
    return len(pending)


def drain(
    db: Database,
    *,
    timeout_s: float = 600.0,
    on_progress: Callable[[Backlog], None] | None = None,
) -> Backlog:
    """Wait until no call is waiting for its sync, or the timeout passes (the backlog is returned
    either way, so the caller can say what is left); then up to SETTLE_S more until the queue has marked
    every sync done."""
    deadline = time.monotonic() + timeout_s
    state: Backlog | None = None
    while True:
        try:
            state = backlog(db)
        except Exception as exc:
            if not is_transient_database_error(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.5)  # the database blinked: look again
            continue
        if on_progress:
            on_progress(state)
        if state.queued == 0:
            _settle(db, min(deadline, time.monotonic() + SETTLE_S))
            return state
        if time.monotonic() >= deadline:
            return state
        time.sleep(0.2)


def _settle(db: Database, until: float) -> None:
    while time.monotonic() < until:
        try:
            if pending_syncs(db) == 0:
                return
        except Exception as exc:
            if not is_transient_database_error(exc):
                raise
        time.sleep(0.05)


class ConnectionBudgetError(Exception):
    """Starting this worker would take more PostgreSQL connections than the server has left."""


# Connections kept free for administrators and tools (psql, migrations, a dashboard process).
CONNECTION_RESERVE = 5


def check_connection_budget(db: Database, concurrency: int | None = None) -> str:
    """Refuse to start a worker whose connection budget does not fit what the server allows beside the
    callsync processes already running on this database (each names its budget in `application_name`;
    other databases on the same server are not seen: size `max_connections` for them, docs/scaling.md);
    returns a one-line summary of the budget when it fits. SQLite has no connection limit. `--concurrency`
    is not bounded by the pool: a sync in flight holds a connection only for its short database work (its
    identity locks share one connection per process, store/locks.py), so syncs beyond the pool's size
    wait their turn for a connection rather than fail."""
    budget = db.connections
    if concurrency is not None and concurrency < 1:
        raise ConnectionBudgetError(f"--concurrency must be at least 1, not {concurrency}")
    if is_sqlite(db.url):
        return f"{budget.total} connections budgeted (SQLite: no server limit)"
    with db.engine.connect() as conn:
        limit, reserved = (int(v) for v in conn.execute(text(
            "SELECT current_setting('max_connections'), current_setting('superuser_reserved_connections')"
        )).one())  # fmt: skip
        names = (
            conn.execute(
                text(
                    "SELECT DISTINCT application_name FROM pg_stat_activity "
                    "WHERE application_name LIKE 'callsync/%' AND datname = current_database()"
                )
            )
            .scalars()
            .all()
        )
    mine = budget.application_name("").rsplit("/", 2)[0]
    others: dict[str, int] = {}
    for name in names:
        parts = name.split("/")
        if len(parts) >= 5 and parts[3].isdigit() and "/".join(parts[:3]) != mine:
            others["/".join(parts[:3])] = int(parts[3])
    free = limit - reserved - CONNECTION_RESERVE - sum(others.values())
    summary = (
        f"{budget.total} connections ({budget.callsync} callsync, {budget.queue} queue); server max_connections "
        f"{limit}, {reserved} reserved, {CONNECTION_RESERVE} kept free, {len(others)} other callsync "
        f"process(es) budgeting {sum(others.values())}"
    )
    if budget.total > free:
        raise ConnectionBudgetError(
            f"this worker needs {summary}, leaving only {max(free, 0)}: lower --db-connections "
            f"(${ENV_DB_CONNECTIONS}) and --concurrency, raise max_connections, or put PgBouncer in front "
            "(docs/scaling.md)"
        )
    return summary
