"""Review queue queries: items waiting for a person, their decisions, and the weekly spot-check sample."""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select

from callsync.store.calls import REVIEW, close_if_settled
from callsync.store.db import Database
from callsync.store.tables import LedgerRow, ReviewItemRow

# Kinds whose decision writes one field of one record.
FIELD_KINDS = frozenset({"held_value", "protected_field"})
# Every kind an item may have (pipeline/engine.py and store/ledger.py create them).
KINDS = (
    "held_value", "protected_field", "identity_conflict", "possible_duplicate", "no_identity",
    "missing_required", "waiting_object", "unlinked", "ambiguous_match", "action",
)  # fmt: skip
# A doubtful workflow action (docs/actions.md): approve runs it, correct runs it at another time, reject drops it.
ACTION_KIND = "action"
# Kinds a reviewer answers by naming the record the call belongs to.
RECORD_KINDS = frozenset({"identity_conflict", "no_identity", "missing_required"})
STATUSES = ("open", "approved", "corrected", "rejected", "resolved")


def _item_filters(
    status: str | None, kind: str | None, tenants: Collection[str] | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if status:
        where.append(ReviewItemRow.status == status)
    if kind:
        where.append(ReviewItemRow.kind == kind)
    if tenants is not None:
        where.append(ReviewItemRow.tenant.in_(list(tenants)))
    return where


def list_items(
    db: Database,
    status: str | None = "open",
    kind: str | None = None,
    limit: int = 200,
    tenants: Collection[str] | None = None,
) -> list[ReviewItemRow]:
    """The oldest `limit` items; `tenants`: only those (None: every tenant)."""
    query = (
        select(ReviewItemRow)
        .where(*_item_filters(status, kind, tenants))
        .order_by(ReviewItemRow.id)
        .limit(limit)
    )
    with db.session() as session:
        return list(session.scalars(query).all())


def count_items(
    db: Database, status: str | None = "open", kind: str | None = None, tenants: Collection[str] | None = None
) -> int:
    query = select(func.count()).select_from(ReviewItemRow).where(*_item_filters(status, kind, tenants))
    with db.session() as session:
        return int(session.scalar(query) or 0)


def get_item(db: Database, item_id: int) -> ReviewItemRow | None:
    with db.session() as session:
        return session.get(ReviewItemRow, item_id)


def record_of_call(db: Database, tenant: str, call_id: str, object_type: str | None) -> str | None:
    """The record a call's sync wrote to (from the ledger), e.g. to apply a held value to it later."""
    with db.session() as session:
        query = select(LedgerRow.record_id).where(LedgerRow.tenant == tenant, LedgerRow.call_id == call_id)
        if object_type:
            query = query.where(LedgerRow.object_type == object_type)
        return session.scalars(query.limit(1)).first()


def decide(db: Database, item_id: int, status: str, decision: dict[str, Any]) -> bool:
    """Close an item. The decision (who, what, why) stays on the item; writes are also in the ledger.

    A call waiting in review whose last open item this was is closed (a final state): returns True then."""
    with db.session() as session:
        item = session.get(ReviewItemRow, item_id)
        if item is None:
            raise KeyError(item_id)
        item.status = status
        item.decided_at = datetime.now(UTC)
        item.detail = {**(item.detail or {}), "decision": decision}
        session.flush()
        return close_if_settled(session, item.tenant, item.call_id, REVIEW)


def sample_writes(db: Database, days: int, n: int, seed: int | None = None) -> list[LedgerRow]:
    """A uniform random sample of confirmed call writes from the last `days` days, for a human check."""
    since = datetime.now(UTC) - timedelta(days=days)
    with db.session() as session:
        rows = list(
            session.scalars(
                select(LedgerRow).where(
                    LedgerRow.confirmed_at.is_not(None),
                    LedgerRow.written_at >= since,
                    LedgerRow.policy != "reviewer",
                )
            ).all()
        )
    rng = random.Random(seed)
    return rng.sample(rows, min(n, len(rows)))


def note_failed_attempt(db: Database, item_id: int, info: dict[str, Any]) -> None:
    """A decision that could not be applied leaves the item open, with the failure on record."""
    with db.session() as session:
        item = session.get(ReviewItemRow, item_id)
        if item is None:
            raise KeyError(item_id)
        detail = dict(item.detail or {})
        detail["attempts"] = [*detail.get("attempts", []), info]
        item.detail = detail


def attempts_made(db: Database, item_id: int) -> int:
    item = get_item(db, item_id)
    return len((item.detail or {}).get("attempts", [])) if item else 0
