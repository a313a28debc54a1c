"""Where things stand: calls by state, open work for people, the queue's backlog, CRM allowances that hold
work back, and whether any worker is moving the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callsync.pipeline.backlog import BacklogView, backlog_view
from callsync.pipeline.liveness import Liveness, worker_liveness
from callsync.store.calls import overview_counts
from callsync.store.db import Database


@dataclass(frozen=True)
class BudgetWait:
    """A CRM account whose new writes wait for its API allowance until `until` (UTC)."""

    until: datetime
    reason: str


@dataclass(frozen=True)
class DeliveryHop:
    """Call end -> the receiver's 2xx, over the newest delivered calls (targets that cannot be read back:
    a 2xx is all callsync knows, so these calls are delivered, not confirmed)."""

    calls: int
    p50_s: float
    p95_s: float
    max_s: float


@dataclass(frozen=True)
class Status:
    # calls, queued, confirmed, calls_in_review, closed (calls); dead_letters, quarantined, review (open
    # items); waiting_for_crm_budget (queued calls held back by a CRM allowance)
    counts: dict[str, int]
    backlog: BacklogView
    budget_waits: tuple[BudgetWait, ...]
    workers: Liveness
    delivery: DeliveryHop | None = None

    def to_json(self) -> dict[str, Any]:
        """The object `callsync status --json` prints (docs/cli.md)."""
        return {
            **self.counts,
            **self.backlog.status_keys(),
            "workers": self.workers.verdict,
            "worker_last_progress_s": self.workers.last_progress_s,
            **(
                {"delivered_hop_p50_s": self.delivery.p50_s, "delivered_hop_p95_s": self.delivery.p95_s}
                if self.delivery
                else {}
            ),
        }


def counts(db: Database) -> dict[str, int]:
    """The counts alone (cheap: no look into the queue's workflows)."""
    from callsync.crm.http.budget import calls_waiting_for_budget

    found = overview_counts(db)
    with db.session() as session:
        found["waiting_for_crm_budget"] = calls_waiting_for_budget(session)
    return found


def budget_waits(db: Database) -> tuple[BudgetWait, ...]:
    from callsync.crm.http.budget import waiting_budgets

    with db.session() as session:
        return tuple(
            BudgetWait(r.blocked_until, r.blocked_reason or r.label)
            for r in waiting_budgets(session)
            if r.blocked_until is not None
        )


def delivery_hop(db: Database) -> DeliveryHop | None:
    """The hop's latency over the newest delivered calls; None when no call was delivered."""
    from callsync.store.calls import delivery_hops

    hops = sorted(delivery_hops(db))
    if not hops:
        return None

    def at(q: float) -> float:
        return round(hops[min(len(hops) - 1, int(q * len(hops)))], 3)

    return DeliveryHop(len(hops), at(0.5), at(0.95), round(hops[-1], 3))


def status(db: Database) -> Status:
    return Status(counts(db), backlog_view(db), budget_waits(db), worker_liveness(db), delivery_hop(db))
