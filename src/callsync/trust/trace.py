"""Trace a CRM field back to the words spoken: its history of values, each with the call and sentence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from callsync.redaction import sentence_around
from callsync.store.db import Database
from callsync.store.tables import CallRow, LedgerRow


@dataclass(frozen=True)
class Quote:
    turn: int
    speaker: str
    sentence: str
    # The span of the value inside `sentence`, for highlighting.
    start: int
    end: int


@dataclass(frozen=True)
class Review:
    """Who approved (or corrected) a value written by a reviewer, when, on which review item."""

    reviewer: str | None
    reviewed_at: datetime | None
    item_id: int | None


@dataclass(frozen=True)
class TraceEntry:
    value: Any
    old_value: Any
    # The call the value was heard in (for a reviewer's write: the original call, not `review:N`).
    call_id: str
    policy: str
    decision: str
    confidence: float | None
    # The write's times, in the order they happen: request sent, CRM's answer received, read-back confirmed;
    # `recorded_at` is when the ledger row was written. A time the pipeline did not record is None.
    sent_at: datetime | None
    acknowledged_at: datetime | None
    confirmed_at: datetime | None
    recorded_at: datetime
    integration_version: str
    crm_request_id: str | None
    quotes: tuple[Quote, ...]
    review: Review | None = None
    ledger_call_id: str = ""  # the ledger row's own call id (`review:N` for a reviewer's write)
    # Evidence that points at the call, not at words: "caller_id" (the line the call came from), "platform".
    other_sources: tuple[str, ...] = ()
    # Privacy (docs/privacy.md): "retention" or "erasure" removed the sentence (and, erasure, the values:
    # `value`/`old_value` are then keyed hashes); the quotes say so and carry the sentence's keyed hash.
    removed_by: str | None = None
    removed_at: datetime | None = None

    @property
    def delivered_only(self) -> bool:
        """Sent and answered 2xx by a target that cannot be read back (a webhook): never confirmed."""
        return self.acknowledged_at is not None and self.confirmed_at is None

    @property
    def written_at(self) -> datetime:
        """Kept for callers of the former name: when the ledger row was recorded."""
        return self.recorded_at


def removed_sentence(by: str, at: datetime | None, sentence_hmac: str | None) -> str:
    """What a quote says once its sentence is gone: who removed it, when, and its keyed hash."""
    day = f" on {at:%Y-%m-%d}" if at else ""
    digest = f"; keyed hash {sentence_hmac}" if sentence_hmac else ""
    return f"[sentence removed by {by}{day}{digest}]"


def _quotes(
    raw_payload: str, evidence: list[dict[str, Any]], removed_at: datetime | None = None
) -> tuple[Quote, ...]:
    try:
        turns = json.loads(raw_payload).get("turns", []) if raw_payload else []
    except (ValueError, AttributeError):
        turns = []
    quotes = []
    for ev in evidence:
        if ev.get("source", "transcript") != "transcript":
            continue
        if "removed_by" in ev:
            turn_no = int(ev.get("turn", -1))
            speaker = str(turns[turn_no].get("speaker", "?")) if 0 <= turn_no < len(turns) else "?"
            text = removed_sentence(str(ev["removed_by"]), removed_at, ev.get("sentence_hmac"))
            quotes.append(Quote(turn_no, speaker, text, 0, 0))
            continue
        if not 0 <= ev["turn"] < len(turns):
            continue
        turn = turns[ev["turn"]]
        sentence, s, e = sentence_around(str(turn.get("text", "")), ev["start"], ev["end"])
        quotes.append(Quote(ev["turn"], str(turn.get("speaker", "?")), sentence, s, e))
    return tuple(quotes)


def _origin(row: LedgerRow) -> str:
    """The call a value was heard in: a reviewer's write names it in `origin_call_id`."""
    return row.origin_call_id or row.call_id


def field_history(db: Database, crm: str, record_id: str, field: str) -> list[TraceEntry]:
    with db.session() as session:
        rows = session.scalars(
            select(LedgerRow)
            .where(LedgerRow.crm == crm, LedgerRow.record_id == record_id, LedgerRow.field == field)
            .order_by(LedgerRow.written_at, LedgerRow.id)
        ).all()
        calls = {
            (c.tenant, c.call_id): c.raw_payload
            for c in session.scalars(
                select(CallRow).where(CallRow.call_id.in_({_origin(r) for r in rows}))
            ).all()
        }
    return [
        TraceEntry(
            value=r.new_value,
            old_value=r.old_value,
            call_id=_origin(r),
            policy=r.policy,
            decision=r.decision,
            confidence=r.confidence,
            sent_at=r.sent_at,
            acknowledged_at=r.acknowledged_at,
            confirmed_at=r.confirmed_at,
            recorded_at=r.written_at,
            integration_version=r.integration_version,
            crm_request_id=r.crm_request_id,
            quotes=_quotes(calls.get((r.tenant, _origin(r)), ""), r.evidence, r.redacted_at),
            review=Review(r.reviewer, r.reviewed_at, r.review_item_id)
            if r.reviewer or r.review_item_id is not None
            else None,
            ledger_call_id=r.call_id,
            removed_by=r.redacted_by,
            removed_at=r.redacted_at,
            other_sources=tuple(
                dict.fromkeys(
                    str(ev["source"]) for ev in r.evidence if ev.get("source") not in (None, "transcript")
                )
            ),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class ActionEntry:
    """One workflow action of a call (docs/actions.md), as its ledger row says."""

    rule: str
    action: str
    status: str  # confirmed | review | dropped | dead_letter
    result: str | None  # created | found | moved | unchanged | held_back | already_open
    object_type: str | None
    record_id: str | None
    title: str
    detail: str | None
    error: str | None
    question: str | None
    reviewer: str | None
    review_item_id: int | None
    confirmed_at: datetime | None


def call_actions(db: Database, call_id: str, tenant: str | None = None) -> list[ActionEntry]:
    """The actions a call produced, in rule order."""
    from callsync.store.tables import ActionRunRow

    query = select(ActionRunRow).where(ActionRunRow.call_id == call_id).order_by(ActionRunRow.id)
    if tenant is not None:
        query = query.where(ActionRunRow.tenant == tenant)
    with db.session() as session:
        rows = session.scalars(query).all()
    return [_action_entry(r) for r in rows]


def _action_entry(r: Any) -> ActionEntry:
    planned = r.planned or {}
    return ActionEntry(
        rule=r.rule, action=r.action, status=r.status, result=r.result, object_type=r.object_type,
        record_id=r.record_id, title=str(planned.get("title") or ""), detail=r.detail, error=r.error,
        question=planned.get("question"), reviewer=r.reviewer, review_item_id=r.review_item_id,
        confirmed_at=r.confirmed_at,
    )  # fmt: skip


@dataclass(frozen=True)
class CallWrite:
    """One field a call wrote (its ledger row), for the call's trace."""

    crm: str
    object_type: str
    record_id: str
    field: str
    value: Any
    policy: str
    confirmed_at: datetime | None


def call_writes(db: Database, call_id: str, tenant: str | None = None) -> list[CallWrite]:
    query = select(LedgerRow).where(LedgerRow.call_id == call_id).order_by(LedgerRow.written_at, LedgerRow.id)
    if tenant is not None:
        query = query.where(LedgerRow.tenant == tenant)
    with db.session() as session:
        rows = session.scalars(query).all()
    return [
        CallWrite(r.crm, r.object_type, r.record_id, r.field, r.new_value, r.policy, r.confirmed_at)
        for r in rows
    ]
