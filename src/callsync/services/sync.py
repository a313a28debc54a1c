"""Running the queued sync work here until it is done (or a time limit), and receiving call files."""

from __future__ import annotations

from collections.abc import Callable

from callsync.config import TenantConfig
from callsync.pipeline.worker import Backlog, backlog
from callsync.services.errors import ServiceError
from callsync.store.calls import queued_tenants
from callsync.store.db import Database

__all__ = ["Backlog", "pending", "run_sync"]


def pending(db: Database) -> Backlog:
    """How many calls are waiting for their sync, and how the others ended."""
    return backlog(db)


def run_sync(
    db: Database,
    tenants: dict[str, TenantConfig],
    *,
    timeout_s: float,
    concurrency: int | None,
    batch_window_s: float,
    on_progress: Callable[[Backlog], None] | None = None,
) -> Backlog:
    """Sync every queued call in this process; returns the backlog at the end (calls still queued when the
    time was up included). Nothing queued: returns at once, without starting a worker."""
    from callsync.pipeline import engine
    from callsync.pipeline.worker import drain, running_worker

    unknown = sorted(queued_tenants(db) - set(tenants))
    if unknown:
        raise ServiceError(
            f"queued calls belong to tenant(s) with no configuration here: {', '.join(unknown)}; "
            "pass their --tenant-file"
        )
    before = backlog(db)
    if before.queued == 0:
        return before
    with running_worker(engine.Runtime(db, tenants), concurrency=concurrency, poll_s=batch_window_s):
        return drain(db, timeout_s=timeout_s, on_progress=on_progress)
