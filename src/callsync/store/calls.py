"""Storing what was received but cannot be a call, and reading the calls' states.

Calls themselves are received by `pipeline/intake.py` (the call row and its sync job in one transaction).

A call's `sync_state`: `queued` → `confirmed` | `delivered` | `review` | `dead_letter`, and `closed` once a person decided
that nothing is to be written for it (its last open review item rejected, its dead letter discarded). Every
call reaches one of `confirmed`, `delivered` (a 2xx from a target that cannot be read back, such as a
webhook), `closed` (final) or waits visibly in `review` / `dead_letter`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callsync.store.db import Database
from callsync.store.tables import CallRow, DeadLetterRow, LedgerRow, QuarantineRow, ReviewItemRow, aware_utc

QUEUED, CONFIRMED, REVIEW, DEAD_LETTER, CLOSED = "queued", "confirmed", "review", "dead_letter", "closed"
DELIVERED = "delivered"


def quarantine(db: Database, source: str, reason: str, payload: str, tenant: str | None = None) -> int:
    """Keep a payload that failed validation whole, with the reason, so nothing received is lost."""
    with db.session() as session:
        row = QuarantineRow(tenant=tenant, source=source, reason=reason, payload=payload)
        session.add(row)
        session.flush()
        return row.id


def overview_counts(db: Database) -> dict[str, int]:
    """Calls received, queued, confirmed, in review (calls) and closed; open dead letters, quarantined
    payloads and review items."""
    with db.session() as session:

        def count(model: Any, *where: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        return {
            "calls": count(CallRow),
            "queued": count(CallRow, CallRow.sync_state == QUEUED),
            "confirmed": count(CallRow, CallRow.sync_state == CONFIRMED),
            "delivered": count(CallRow, CallRow.sync_state == DELIVERED),
            "dead_letters": count(DeadLetterRow, DeadLetterRow.status == "open"),
            "quarantined": count(QuarantineRow, QuarantineRow.status == "open"),
            "review": count(ReviewItemRow, ReviewItemRow.status == "open"),
            "calls_in_review": count(CallRow, CallRow.sync_state == REVIEW),
            "closed": count(CallRow, CallRow.sync_state == CLOSED),
        }


def delivery_hops(db: Database, limit: int = 5_000) -> list[float]:
    """Seconds from call end to the receiver's 2xx, for the newest `limit` delivered calls (a target that
    cannot be read back): the ledger rows' observed_at (the call's end) and acknowledged_at (the 2xx)."""
    call = (CallRow.tenant == LedgerRow.tenant) & (CallRow.call_id == LedgerRow.call_id)
    acknowledged = func.min(LedgerRow.acknowledged_at)
    with db.session() as session:
        rows = session.execute(
            select(func.min(LedgerRow.observed_at), acknowledged)
            .join(CallRow, call)
            .where(CallRow.sync_state == DELIVERED, LedgerRow.acknowledged_at.is_not(None))
            .group_by(LedgerRow.tenant, LedgerRow.call_id)
            .order_by(acknowledged.desc())
            .limit(limit)
        ).all()
    return [
        max(0.0, (aware_utc(acked) - aware_utc(ended)).total_seconds())
        for ended, acked in rows
        if ended is not None and acked is not None
    ]


def queued_tenants(db: Database) -> set[str]:
    """Tenants with calls waiting for their sync."""
    with db.session() as session:
        return set(session.scalars(select(CallRow.tenant).where(CallRow.sync_state == QUEUED)).all())


def call_state(db: Database, tenant: str, call_id: str) -> str | None:
    with db.session() as session:
        return session.scalar(select(CallRow.sync_state).filter_by(tenant=tenant, call_id=call_id))


def close_if_settled(session: Session, tenant: str, call_id: str, waiting_state: str) -> bool:
    """A call waiting in `waiting_state` (review, dead_letter) with nothing of that kind still open becomes
    `closed`: a person decided nothing more is to be written. Returns whether it was closed."""
    call = session.scalars(select(CallRow).filter_by(tenant=tenant, call_id=call_id)).one_or_none()
    if call is None or call.sync_state != waiting_state:
        return False
    if waiting_state == REVIEW:
        still = session.scalar(
            select(func.count())
            .select_from(ReviewItemRow)
            .where(
                ReviewItemRow.tenant == tenant,
                ReviewItemRow.call_id == call_id,
                ReviewItemRow.status == "open",
            )
        )
    else:
        still = session.scalar(
            select(func.count())
            .select_from(DeadLetterRow)
            .where(
                DeadLetterRow.tenant == tenant,
                DeadLetterRow.call_id == call_id,
                DeadLetterRow.status.in_(("open", "replaying")),
            )
        )
    if still:
        return False
    call.sync_state = CLOSED
    return True
