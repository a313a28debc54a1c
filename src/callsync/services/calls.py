"""Calls for the dashboard: search (phone, email, call id, CRM record id), one call with everything known of
it (transcript, extracted values at their evidence, writes, ledger rows, review items, dead letters), and a
CRM record's fields. Every query takes the tenants a user may see (`None`: all)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, union
from sqlalchemy.sql.elements import ColumnElement

from callsync.capture.platforms import record_from_payloads
from callsync.config import TenantConfig
from callsync.errors import InputError
from callsync.models import Turn
from callsync.reconcile.identity import normalize_email, normalize_phone
from callsync.services.errors import NotFound, ServiceError
from callsync.services.trace import TraceEntry, field_trace
from callsync.store.db import Database
from callsync.store.events import later_payloads
from callsync.store.tables import (
    CallRow,
    DeadLetterRow,
    FieldValueRow,
    IdentityLinkRow,
    LedgerRow,
    ReviewItemRow,
)
from callsync.structure.mapping import FieldType
from callsync.structure.payload import coerce

MAX_QUERY = 200
_QUERY_CHARS = re.compile(r"^[\w@.+\-:() /#]*$", re.UNICODE)


@dataclass(frozen=True)
class CallSummary:
    tenant: str
    call_id: str
    platform: str
    direction: str
    from_number: str | None
    to_number: str | None
    ended_at: datetime | None
    received_at: datetime
    sync_state: str


@dataclass(frozen=True)
class ExtractedValue:
    name: str
    value: Any
    confidence: float
    status: str
    reason: str | None
    evidence: list[dict[str, Any]]
    extractor: str


@dataclass(frozen=True)
class Span:
    """A piece of a turn's text; `field` names the extracted value whose evidence it is (None: plain)."""

    text: str
    field: str | None = None
    confidence: float | None = None
    status: str | None = None


@dataclass(frozen=True)
class TranscriptTurn:
    index: int
    speaker: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class LedgerEntry:
    crm: str
    object_type: str
    record_id: str
    field: str
    old_value: Any
    new_value: Any
    policy: str
    decision: str
    confidence: float | None
    written_at: datetime
    confirmed_at: datetime | None
    reviewer: str | None


@dataclass(frozen=True)
class CallItem:
    """A review item or dead letter of the call, in brief."""

    id: int
    kind: str
    status: str
    text: str


@dataclass(frozen=True)
class CallDetail:
    call: CallSummary
    turns: tuple[TranscriptTurn, ...]
    values: tuple[ExtractedValue, ...]
    ledger: tuple[LedgerEntry, ...]
    review_items: tuple[CallItem, ...]
    dead_letters: tuple[CallItem, ...]
    transcript_removed: bool


def _summary(row: CallRow) -> CallSummary:
    return CallSummary(
        row.tenant, row.call_id, row.platform, row.direction, row.from_number, row.to_number, row.ended_at,
        row.received_at, row.sync_state,
    )  # fmt: skip


def _scope(column: Any, tenants: Collection[str] | None) -> ColumnElement[bool] | None:
    return None if tenants is None else column.in_(list(tenants))


def check_query(query: str) -> str:
    """The search text, trimmed; ServiceError for one too long or with characters no id, phone or email has."""
    text = query.strip()
    if len(text) > MAX_QUERY:
        raise ServiceError(f"a search is at most {MAX_QUERY} characters")
    if not _QUERY_CHARS.match(text):
        raise ServiceError("search by phone, email, call id or CRM record id (letters, digits, @ . + - _ :)")
    return text


def search(db: Database, query: str, tenants: Collection[str] | None, limit: int = 50) -> list[CallSummary]:
    """Calls matching a phone (any format), an email, a call id or a CRM record id, newest first. An empty
    query lists the newest calls."""
    text = check_query(query)
    limit = max(1, min(limit, 200))
    with db.session() as session:
        stmt = select(CallRow)
        scope = _scope(CallRow.tenant, tenants)
        if scope is not None:
            stmt = stmt.where(scope)
        if text:
            ids: set[str] = set()
            keys = {text, text.lower()}
            email = normalize_email(text) if "@" in text else None
            phone = normalize_phone(text) if any(c.isdigit() for c in text) and "@" not in text else None
            # identity_links keys are "email:<normalized>" and "phone:<E.164>" (store/ledger.py).
            keys |= {f"email:{email}"} if email else set()
            keys |= {f"phone:{phone}"} if phone else set()
            link_q = select(IdentityLinkRow.call_id, IdentityLinkRow.record_id).where(
                IdentityLinkRow.key.in_(keys)
            )
            led_q = select(LedgerRow.call_id, LedgerRow.origin_call_id).where(LedgerRow.record_id == text)
            link_scope, led_scope = _scope(IdentityLinkRow.tenant, tenants), _scope(LedgerRow.tenant, tenants)
            if link_scope is not None:
                link_q = link_q.where(link_scope)
            if led_scope is not None:
                led_q = led_q.where(led_scope)
            records = set()
            for call_id, record_id in session.execute(link_q.limit(500)).all():
                ids.add(call_id)
                records.add(record_id)
            if records:
                more = select(LedgerRow.call_id, LedgerRow.origin_call_id).where(
                    LedgerRow.record_id.in_(records)
                )
                led_q = led_q.union(more.where(led_scope) if led_scope is not None else more)  # type: ignore[assignment]
            for call_id, origin in session.execute(led_q.limit(1000)).all():
                ids.add(origin or call_id)
            numbers = [n for n in {phone, text if text.startswith("+") else None} if n]
            # One indexed lookup per key, united: with an OR of them the planner walks the whole table in
            # received_at order looking for the few matches.
            matching = [select(CallRow.id).where(CallRow.call_id == text)]
            if ids:
                matching.append(select(CallRow.id).where(CallRow.call_id.in_(ids)))
            if numbers:
                matching.append(select(CallRow.id).where(CallRow.from_number.in_(numbers)))
                matching.append(select(CallRow.id).where(CallRow.to_number.in_(numbers)))
            stmt = stmt.where(CallRow.id.in_(union(*matching)))
        rows = session.scalars(stmt.order_by(CallRow.received_at.desc(), CallRow.id.desc()).limit(limit)).all()
        return [_summary(r) for r in rows]


def _marked(index: int, text: str, values: list[ExtractedValue]) -> tuple[Span, ...]:
    """The turn's text cut at each evidence span of an extracted value (overlaps: the first wins)."""
    marks: list[tuple[int, int, ExtractedValue]] = []
    for v in values:
        for ev in v.evidence:
            if ev.get("source", "transcript") != "transcript" or ev.get("turn") != index:
                continue
            start, end = int(ev.get("start", 0)), int(ev.get("end", 0))
            if 0 <= start < end <= len(text):
                marks.append((start, end, v))
    marks.sort(key=lambda m: (m[0], -m[1]))
    spans: list[Span] = []
    at = 0
    for start, end, v in marks:
        if start < at:
            continue
        if start > at:
            spans.append(Span(text[at:start]))
        spans.append(Span(text[start:end], v.name, v.confidence, v.status))
        at = end
    if at < len(text):
        spans.append(Span(text[at:]))
    return tuple(spans)


def call_detail(db: Database, tenant: str, call_id: str, tenants: Collection[str] | None) -> CallDetail:
    """Raises NotFound when the call does not exist or belongs to a tenant the user may not see."""
    if tenants is not None and tenant not in tenants:
        raise NotFound(f"no call {call_id}")
    with db.session() as session:
        row = session.scalars(select(CallRow).where(CallRow.tenant == tenant, CallRow.call_id == call_id)).first()
        if row is None:
            raise NotFound(f"no call {call_id}")
        values = [
            ExtractedValue(v.name, v.value, v.confidence, v.status, v.reason, list(v.evidence or []), v.extractor)
            for v in session.scalars(
                select(FieldValueRow)
                .where(FieldValueRow.tenant == tenant, FieldValueRow.call_id == call_id)
                .order_by(FieldValueRow.id)
            ).all()
        ]
        ledger = [
            LedgerEntry(w.crm, w.object_type, w.record_id, w.field, w.old_value, w.new_value, w.policy,
                        w.decision, w.confidence, w.written_at, w.confirmed_at, w.reviewer)
            for w in session.scalars(
                select(LedgerRow)
                .where(LedgerRow.tenant == tenant)
                .where(or_(LedgerRow.call_id == call_id, LedgerRow.origin_call_id == call_id))
                .order_by(LedgerRow.written_at, LedgerRow.id)
            ).all()
        ]
        items = [
            CallItem(r.id, r.kind, r.status, f"{r.field or ''} {r.reason}".strip())
            for r in session.scalars(
                select(ReviewItemRow)
                .where(ReviewItemRow.tenant == tenant, ReviewItemRow.call_id == call_id)
                .order_by(ReviewItemRow.id)
            ).all()
        ]
        dead = [
            CallItem(d.id, d.operation, d.status, d.last_error[:300])
            for d in session.scalars(
                select(DeadLetterRow)
                .where(DeadLetterRow.tenant == tenant, DeadLetterRow.call_id == call_id)
                .order_by(DeadLetterRow.id)
            ).all()
        ]
    try:
        record = record_from_payloads(
            row.payload_format, [row.raw_payload, *later_payloads(db, tenant, call_id)], tenant
        )
        turns: list[Turn] = list(record.turns)
    except (InputError, ValueError, KeyError, TypeError):
        turns = []
    shown = tuple(
        TranscriptTurn(i, str(t.speaker), _marked(i, t.text, values)) for i, t in enumerate(turns)
    )
    return CallDetail(
        _summary(row), shown, tuple(values), tuple(ledger), tuple(items), tuple(dead),
        row.transcript_removed_at is not None,
    )  # fmt: skip


@dataclass(frozen=True)
class RecordField:
    tenant: str
    crm: str
    object_type: str
    record_id: str
    field: str
    value: Any
    written_at: datetime
    writes: int


def record_fields(db: Database, crm: str, record_id: str, tenants: Collection[str] | None) -> list[RecordField]:
    """The fields callsync wrote to one CRM record, each with its latest value. NotFound: none (or none the
    user may see)."""
    stmt = select(LedgerRow).where(LedgerRow.crm == crm, LedgerRow.record_id == record_id)
    scope = _scope(LedgerRow.tenant, tenants)
    if scope is not None:
        stmt = stmt.where(scope)
    with db.session() as session:
        rows = session.scalars(stmt.order_by(LedgerRow.written_at, LedgerRow.id).limit(5000)).all()
    latest: dict[str, RecordField] = {}
    for r in rows:
        before = latest.get(r.field)
        latest[r.field] = RecordField(
            r.tenant, r.crm, r.object_type, r.record_id, r.field, r.new_value, r.written_at,
            (before.writes if before else 0) + 1,
        )  # fmt: skip
    if not latest:
        raise NotFound(f"callsync has no record of writing {crm} {record_id}")
    return sorted(latest.values(), key=lambda f: f.field)


def check_correction(
    tenants: dict[str, TenantConfig], tenant: str, object_type: str | None, field: str | None, value: str
) -> Any:
    """A reviewer's correction as the CRM field takes it (the mapping's type: email, phone, number, string),
    before anything is written. ServiceError when it is not a value of that type, or is empty/over-long."""
    text = value.strip()
    if not text or len(text) > 2000:
        raise ServiceError("a correction is 1 to 2,000 characters")
    config = tenants.get(tenant)
    if config is None or not field:
        return text  # services.review refuses an unknown tenant itself, with its own message
    kind: FieldType = "string"
    for obj in config.load_mapping().model.objects.values():
        if object_type in (obj.crm_object, *obj.match_objects) and field in obj.fields:
            kind = obj.fields[field].type
            break
    coerced = coerce(text, kind, "US")
    if coerced is None:
        raise ServiceError(f"{text[:80]!r} is not a valid {kind} for {field}: nothing was written")
    return coerced


def record_traces(
    db: Database, crm: str, record_id: str, tenants: Collection[str] | None
) -> list[tuple[RecordField, list[TraceEntry]]]:
    """Each field callsync wrote to the record, with its history back to the sentence (services.trace),
    keeping only the writes of tenants the user may see: two tenants' CRM accounts may both have a record
    with this id. NotFound: nothing the user may see."""
    fields = record_fields(db, crm, record_id, tenants)
    out = []
    for f in fields:
        entries = list(field_trace(db, crm, record_id, f.field).entries)
        if tenants is not None:
            with db.session() as session:
                owners = list(
                    session.scalars(
                        select(LedgerRow.tenant)
                        .where(LedgerRow.crm == crm, LedgerRow.record_id == record_id, LedgerRow.field == f.field)
                        .order_by(LedgerRow.written_at, LedgerRow.id)
                    ).all()
                )
            # field_history reads the same rows in the same order; rows are only ever appended.
            entries = [e for e, owner in zip(entries, owners, strict=False) if owner in tenants]
        out.append((f, entries))
    return out
