"""Trace a CRM field back to the words spoken: its history of values, each with the call and sentence."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from callsync.store.db import Database
from callsync.store.tables import CallRow, LedgerRow

_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)")


@dataclass(frozen=True)
class Quote:
    turn: int
    speaker: str
    sentence: str
    # The span of the value inside `sentence`, for highlighting.
    start: int
    end: int


@dataclass(frozen=True)
class TraceEntry:
    value: Any
    old_value: Any
    call_id: str
    policy: str
    decision: str
    confidence: float | None
    written_at: datetime
    confirmed_at: datetime | None
    integration_version: str
    crm_request_id: str | None
    quotes: tuple[Quote, ...]


def sentence_around(text: str, start: int, end: int) -> tuple[str, int, int]:
    """The sentence of `text` holding [start, end), and the span's offsets inside it. ASR text often has
    no punctuation: then the sentence is the whole turn."""
    begin, stop = 0, len(text)
    for match in _SENTENCE_END.finditer(text):
        if match.end() <= start:
            begin = match.end()
        elif match.start() >= end:
            stop = match.end()
            break
    raw = text[begin:stop]
    lead = len(raw) - len(raw.lstrip())
    return raw.strip(), start - begin - lead, end - begin - lead


def _quotes(raw_payload: str, evidence: list[dict[str, int]]) -> tuple[Quote, ...]:
    try:
        turns = json.loads(raw_payload).get("turns", [])
    except (ValueError, AttributeError):
        return ()
    quotes = []
    for ev in evidence:
        if not 0 <= ev["turn"] < len(turns):
            continue
        turn = turns[ev["turn"]]
        sentence, s, e = sentence_around(str(turn.get("text", "")), ev["start"], ev["end"])
        quotes.append(Quote(ev["turn"], str(turn.get("speaker", "?")), sentence, s, e))
    return tuple(quotes)


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
                select(CallRow).where(CallRow.call_id.in_({r.call_id for r in rows}))
            ).all()
        }
    return [
        TraceEntry(
            value=r.new_value,
            old_value=r.old_value,
            call_id=r.call_id,
            policy=r.policy,
            decision=r.decision,
            confidence=r.confidence,
            written_at=r.written_at,
            confirmed_at=r.confirmed_at,
            integration_version=r.integration_version,
            crm_request_id=r.crm_request_id,
            quotes=_quotes(calls.get((r.tenant, r.call_id), "{}"), r.evidence),
        )
        for r in rows
    ]
