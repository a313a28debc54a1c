"""Dead letters: list, show, replay, discard (trust/dead_letters.py reads and settles them; replaying is
pipeline/replay.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from callsync.config import TenantConfig
from callsync.pipeline.replay import Replay, replay
from callsync.services.errors import AlreadyDecided, NotFound, ServiceError
from callsync.store.calls import queued_tenants
from callsync.store.db import Database
from callsync.trust import dead_letters as trust
from callsync.trust.dead_letters import DeadLetter, Settled

__all__ = [
    "DeadLetter",
    "Replay",
    "ReplayRun",
    "Settled",
    "count",
    "discard",
    "get",
    "list_",
    "queue_replays",
    "run_replays",
]


def list_(
    db: Database,
    *,
    status: str | None = trust.OPEN,
    tenant: str | None = None,
    tenants: Collection[str] | None = None,
    limit: int | None = None,
) -> list[DeadLetter]:
    """Dead letters oldest first (`status=None`: every state), after settling finished replays; `tenants`:
    only those a user may see (None: all); `limit`: the oldest that many."""
    _check_status(status)
    trust.settle_replays(db)
    return trust.list_dead_letters(db, status=status, tenant=tenant, tenants=tenants, limit=limit)


def count(db: Database, *, status: str | None = trust.OPEN, tenants: Collection[str] | None = None) -> int:
    _check_status(status)
    return trust.count_dead_letters(db, status=status, tenants=tenants)


def _check_status(status: str | None) -> None:
    if status is not None and status not in trust.STATUSES:
        raise ServiceError(f"no dead-letter status {status!r}; one of: {', '.join(trust.STATUSES)}")


def get(db: Database, dead_letter_id: int) -> DeadLetter:
    trust.settle_replays(db)
    found = trust.get_dead_letter(db, dead_letter_id)
    if found is None:
        raise NotFound(f"no dead letter {dead_letter_id}")
    return found


def discard(db: Database, dead_letter_id: int, *, reason: str, by: str) -> DeadLetter:
    """Give up on an open dead letter, with a reason; kept for audit, its call closed if nothing else is open."""
    if not reason.strip():
        raise ServiceError("say why with --reason: the reason is kept with the dead letter")
    try:
        found = trust.discard_dead_letter(db, dead_letter_id, reason.strip(), by)
    except ValueError as exc:
        raise AlreadyDecided(str(exc)) from exc
    if found is None:
        raise NotFound(f"no dead letter {dead_letter_id}")
    return found


def queue_replays(
    db: Database,
    ids: list[int] | None,
    *,
    tenant: str | None = None,
    runnable_tenants: dict[str, TenantConfig] | None = None,
) -> list[Replay]:
    """Queue a fresh sync of each dead letter's call (`ids=None`: every open one, of `tenant` if given).
    With `runnable_tenants` (the replays will run here): refuse before queueing anything if a queued call or
    a replayed dead letter belongs to a tenant with no configuration, since a worker runs every queued call."""
    trust.settle_replays(db)
    chosen = [d.id for d in trust.list_dead_letters(db, tenant=tenant)] if ids is None else ids
    if not chosen:
        return []
    if runnable_tenants is not None:
        unknown = sorted((queued_tenants(db) | trust.tenants_of(db, chosen)) - set(runnable_tenants))
        if unknown:
            raise ServiceError(
                f"no configuration here for tenant(s) {', '.join(unknown)}; pass their --tenant-file"
            )
    return replay(db, chosen)


@dataclass(frozen=True)
class ReplayRun:
    settled: list[Settled]
    pending: int  # replays still running when the time was up


def run_replays(
    db: Database,
    tenants: dict[str, TenantConfig],
    replays: list[Replay],
    timeout_s: float,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReplayRun:
    """Run the queued replays in this process and wait for them (bounded by `timeout_s`)."""
    from callsync.pipeline import engine
    from callsync.pipeline.worker import running_worker

    calls = [(r.tenant, r.call_id) for r in replays if r.queued]
    deadline = time.monotonic() + timeout_s
    with running_worker(engine.Runtime(db, tenants)):
        while True:
            states = trust.call_states(db, calls)
            done = sum(1 for c in calls if states.get(c, "queued") != "queued")
            if on_progress:
                on_progress(done, len(calls))
            if done == len(calls) or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
    settled = trust.settle_replays(db)
    return ReplayRun(settled, len(calls) - len(settled))
