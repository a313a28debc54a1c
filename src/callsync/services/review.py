"""The review queue: items waiting for a person, and the decisions on them.

Approving or correcting a field writes it through the delivery path (`pipeline/commands.py`), confirmed by
read-back and ledgered with the reviewer's name; answering an identity question re-runs the call's sync
against the record the reviewer names; rejecting writes nothing. A call waiting in review whose last open
item is decided reaches a final state (`store/calls.py`).
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from callsync.config import TenantConfig
from callsync.crm.pool import AdapterPool
from callsync.crm.protocol import RecordRef
from callsync.delivery import SuppliedIdentity
from callsync.services.errors import AlreadyDecided, NotFound, ServiceError, Unfinished
from callsync.store import review as store
from callsync.store.calls import call_state
from callsync.store.db import Database
from callsync.store.ledger import drop_action
from callsync.store.review import ACTION_KIND, FIELD_KINDS, KINDS, RECORD_KINDS, STATUSES

__all__ = [
    "KINDS",
    "STATUSES",
    "Decision",
    "ReviewItem",
    "SampledWrite",
    "approve",
    "correct",
    "current_user",
    "get_item",
    "list_items",
    "reject",
    "resolve",
    "sample",
]

# Where a re-sync ends well: confirmed by read-back, or delivered (2xx) to a target that has none.
SYNCED = ("confirmed", "delivered")


def current_user() -> str:
    """Who decides at this terminal: the operating-system user (the dashboard passes its signed-in user)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class ReviewItem:
    id: int
    tenant: str
    call_id: str
    crm: str | None
    object_type: str | None
    record_id: str | None
    field: str | None
    kind: str
    reason: str
    proposed_value: Any
    current_value: Any
    detail: dict[str, Any]
    status: str
    created_at: datetime
    decided_at: datetime | None

    @property
    def candidates(self) -> list[str]:
        """The records an identity question may be answered with (empty: any record of the CRM)."""
        return [str(c) for c in self.detail.get("candidates", [])]

    @property
    def decision(self) -> dict[str, Any] | None:
        found = self.detail.get("decision")
        return dict(found) if isinstance(found, dict) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "tenant": self.tenant, "call_id": self.call_id, "crm": self.crm,
            "object_type": self.object_type, "record_id": self.record_id, "field": self.field,
            "kind": self.kind, "reason": self.reason, "proposed_value": self.proposed_value,
            "current_value": self.current_value, "detail": self.detail, "status": self.status,
            "created_at": self.created_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }  # fmt: skip


def _view(row: Any) -> ReviewItem:
    return ReviewItem(
        id=row.id, tenant=row.tenant, call_id=row.call_id, crm=row.crm, object_type=row.object_type,
        record_id=row.record_id, field=row.field, kind=row.kind, reason=row.reason,
        proposed_value=row.proposed_value, current_value=row.current_value, detail=dict(row.detail or {}),
        status=row.status, created_at=row.created_at, decided_at=row.decided_at,
    )  # fmt: skip


@dataclass(frozen=True)
class Decision:
    item_id: int
    status: str  # approved | corrected | rejected | resolved
    call_id: str
    call_state: str | None  # the call's sync state after the decision
    record_id: str | None = None  # the record the call was synced to (identity answers)


def list_items(
    db: Database,
    status: str | None = "open",
    kind: str | None = None,
    limit: int = 200,
    tenants: Collection[str] | None = None,
) -> list[ReviewItem]:
    """The oldest `limit` items (`status=None`: every state; `tenants`: only a user's, None: all). Raises
    ServiceError for a status or kind that does not exist."""
    _check_filters(status, kind)
    return [_view(r) for r in store.list_items(db, status, kind, limit, tenants)]


def count_items(
    db: Database, status: str | None = "open", kind: str | None = None, tenants: Collection[str] | None = None
) -> int:
    _check_filters(status, kind)
    return store.count_items(db, status, kind, tenants)


def _check_filters(status: str | None, kind: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise ServiceError(f"no review status {status!r}; one of: {', '.join(STATUSES)}")
    if kind is not None and kind not in KINDS:
        raise ServiceError(f"no review kind {kind!r}; one of: {', '.join(KINDS)}")


def get_item(db: Database, item_id: int) -> ReviewItem:
    row = store.get_item(db, item_id)
    if row is None:
        raise NotFound(f"no review item {item_id}")
    return _view(row)


def _open_item(db: Database, item_id: int) -> ReviewItem:
    item = get_item(db, item_id)
    if item.status != "open":
        raise AlreadyDecided(f"review item {item_id} is already {item.status}")
    return item


def _check_tenant(item: ReviewItem, tenants: dict[str, TenantConfig]) -> None:
    if item.tenant not in tenants:
        raise ServiceError(f"item {item.id} belongs to tenant {item.tenant!r}: pass its --tenant-file")


def _write(
    db: Database,
    tenants: dict[str, TenantConfig],
    item: ReviewItem,
    value: Any,
    action: str,
    reviewer: str,
    run_here: bool = True,
) -> Decision:
    from callsync.pipeline.commands import WorkflowTimeout, apply_review_decision

    _check_tenant(item, tenants)
    try:
        result = apply_review_decision(
            db, tenants, item.id, f"review:{item.record_id or item.call_id}", value, action,
            store.attempts_made(db, item.id), reviewer=reviewer, run_here=run_here,
        )  # fmt: skip
    except WorkflowTimeout as exc:
        raise Unfinished(str(exc)) from exc
    if result not in ("approved", "corrected"):
        raise ServiceError(f"review item {item.id} stays open: {result}")
    return Decision(item.id, result, item.call_id, call_state(db, item.tenant, item.call_id), item.record_id)


def approve(
    db: Database,
    tenants: dict[str, TenantConfig],
    item_id: int,
    *,
    reviewer: str,
    record: str | None = None,
    run_here: bool = True,
) -> Decision:
    """Accept the proposal. `run_here`: this process works the queue for the decision (the CLI); False when
    workers already run in this process or elsewhere (the dashboard inside `callsync serve`). A field: written to the CRM (human-verified from then on). An identity question:
    the call synced to `record`. A possible duplicate: both records kept."""
    item = _open_item(db, item_id)
    if item.kind in RECORD_KINDS:
        return resolve(db, tenants, item_id, reviewer=reviewer, record=record, run_here=run_here)
    if item.kind == "possible_duplicate":
        note = "different people: keep both records"
        closed = store.decide(
            db, item_id, "approved", {"action": "approve", "note": note, "reviewer": reviewer}
        )
        return Decision(
            item_id,
            "approved",
            item.call_id,
            "closed" if closed else call_state(db, item.tenant, item.call_id),
        )
    if item.kind == ACTION_KIND:
        # A doubtful workflow action: run it now, exactly once (its stamp), as planned.
        return _write(db, tenants, item, None, "approve", reviewer, run_here)
    if item.kind not in FIELD_KINDS:
        raise ServiceError(
            f"review item {item_id} ({item.kind}) proposes no value to write: handle it in the CRM, then "
            "reject it with a --note saying what was done"
        )
    return _write(db, tenants, item, item.proposed_value, "approve", reviewer, run_here)


def correct(
    db: Database,
    tenants: dict[str, TenantConfig],
    item_id: int,
    value: Any,
    *,
    reviewer: str,
    run_here: bool = True,
) -> Decision:
    """Write the reviewer's own value instead of the proposal (human-verified from then on)."""
    item = _open_item(db, item_id)
    if item.kind == ACTION_KIND:
        # A doubtful action corrected: run at the reviewer's time (local to the tenant when no offset given).
        _check_tenant(item, tenants)
        at = action_time(str(value), tenants[item.tenant].timezone)
        return _write(db, tenants, item, at.isoformat(), "correct", reviewer, run_here)
    if item.kind not in FIELD_KINDS:
        raise ServiceError(f"review item {item_id} ({item.kind}) is not about one field: nothing to correct")
    return _write(db, tenants, item, value, "correct", reviewer, run_here)


def action_time(value: str, timezone: str) -> datetime:
    """A reviewer's time for an action: ISO 8601 (`2026-11-24T16:00`, local to the tenant unless it names
    an offset), as UTC. Anything else is a one-line error."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ServiceError(
            f"{value!r} is not a time: write it as 2026-11-24T16:00 (the tenant's local time)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


def reject(db: Database, item_id: int, *, reviewer: str, note: str = "") -> Decision:
    """Drop the proposal: nothing is written. A call waiting in review with no other open item is closed."""
    item = _open_item(db, item_id)
    if item.kind == ACTION_KIND:
        drop_action(db, item_id, reviewer)  # dropped, and ledgered as such: it never runs
    closed = store.decide(db, item_id, "rejected", {"action": "reject", "note": note, "reviewer": reviewer})
    return Decision(
        item_id, "rejected", item.call_id, "closed" if closed else call_state(db, item.tenant, item.call_id)
    )


def resolve(
    db: Database,
    tenants: dict[str, TenantConfig],
    item_id: int,
    *,
    reviewer: str,
    record: str | None,
    email: str | None = None,
    phone: str | None = None,
    run_here: bool = True,
) -> Decision:
    """Answer an identity question (identity conflict, no identity, missing required values) by naming the
    CRM record the call belongs to: the call's sync runs again against that record. A call with nothing to
    match on may instead be given the caller's email and/or phone, which are matched and written like the
    call's own (ledgered as supplied by the reviewer)."""
    from callsync.pipeline.commands import WorkflowTimeout, sync_to_record, sync_with_identity

    item = _open_item(db, item_id)
    if item.kind == "waiting_object":
        return _link_waiting_object(db, tenants, item, reviewer, record, run_here)
    if item.kind not in RECORD_KINDS:
        raise ServiceError(
            f"review item {item_id} ({item.kind}) is not answered with a record; approve, correct or reject it"
        )
    if (email or phone) and record:
        raise ServiceError("give either --record or --email/--phone, not both")
    if email or phone:
        if item.kind != "no_identity":
            raise ServiceError(
                f"review item {item_id} ({item.kind}) is answered with --record, not an email or phone"
            )
        _check_tenant(item, tenants)
        supplied = SuppliedIdentity(email=email, phone=phone, reviewer=reviewer)
        try:
            state = sync_with_identity(
                db, tenants, item.tenant, item.call_id, item_id, supplied, run_here=run_here
            )
        except WorkflowTimeout as exc:
            raise Unfinished(str(exc)) from exc
        if state not in SYNCED:
            raise ServiceError(
                f"the call's sync with the supplied identity ended as {state}; item {item_id} stays open"
            )
        decision = {"action": "resolve", "email": email, "phone": phone, "reviewer": reviewer}
        store.decide(db, item_id, "resolved", {k: v for k, v in decision.items() if v})
        return Decision(item_id, "resolved", item.call_id, call_state(db, item.tenant, item.call_id), None)
    candidates = item.candidates
    if not record or (candidates and record not in candidates):
        choice = f"one of: {', '.join(candidates)}" if candidates else "the CRM record id of this caller"
        raise ServiceError(f"choose the record with --record, {choice}")
    _check_tenant(item, tenants)
    try:
        state = sync_to_record(db, tenants, item.tenant, item.call_id, item_id, record, run_here=run_here)
    except WorkflowTimeout as exc:
        raise Unfinished(str(exc)) from exc
    if state not in SYNCED:
        raise ServiceError(
            f"the call's sync against record {record} ended as {state}; item {item_id} stays open"
        )
    status = "approved" if item.kind == "identity_conflict" else "resolved"
    store.decide(db, item_id, status, {"action": "resolve", "record": record, "reviewer": reviewer})
    return Decision(item_id, status, item.call_id, call_state(db, item.tenant, item.call_id), record)


def _record_exists(db: Database, tenant: TenantConfig, object_name: str, record_id: str) -> bool:
    """Whether the CRM holds this record of a mapped object (checked before a reviewer's answer is used)."""
    obj = tenant.load_mapping().object(object_name)

    async def check() -> bool:
        adapter = AdapterPool(db)(tenant)
        try:
            return await adapter.read(RecordRef(obj.crm_object, record_id), (obj.stamp_field,)) is not None
        finally:
            await adapter.aclose()

    return asyncio.run(check())


def _link_waiting_object(
    db: Database,
    tenants: dict[str, TenantConfig],
    item: ReviewItem,
    reviewer: str,
    record: str | None,
    run_here: bool = True,
) -> Decision:
    """An object the call could not create (a deal with no company, a required value missing) answered with
    the existing CRM record it is: the call's sync runs again and links that record to the call's records."""
    from callsync.pipeline.commands import WorkflowTimeout, link_waiting_object

    if not record or not item.field:
        raise ServiceError(f"choose the existing {item.field or 'object'} record with --record")
    _check_tenant(item, tenants)
    if not _record_exists(db, tenants[item.tenant], item.field, record):
        raise ServiceError(f"no {item.field} record {record} in the CRM; item {item.id} stays open")
    try:
        state = link_waiting_object(
            db, tenants, item.tenant, item.call_id, item.id, item.field, record, run_here=run_here
        )
    except WorkflowTimeout as exc:
        raise Unfinished(str(exc)) from exc
    if state not in SYNCED:
        raise ServiceError(f"linking {item.field} {record} ended as {state}; item {item.id} stays open")
    store.decide(db, item.id, "resolved", {"action": "link", "record": record, "reviewer": reviewer})
    return Decision(item.id, "resolved", item.call_id, call_state(db, item.tenant, item.call_id), record)


@dataclass(frozen=True)
class SampledWrite:
    crm: str
    record_id: str
    field: str
    value: Any
    call_id: str
    confidence: float | None


def sample(db: Database, days: int, n: int, seed: int | None = None) -> list[SampledWrite]:
    """A uniform random sample of recent confirmed call writes, for the weekly human spot-check."""
    return [
        SampledWrite(r.crm, r.record_id, r.field, r.new_value, r.call_id, r.confidence)
        for r in store.sample_writes(db, days, n, seed)
    ]
