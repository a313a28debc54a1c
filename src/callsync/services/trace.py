"""A CRM field's history, as data: each value, the call and sentence it came from, who approved it, and the
write's moments in the order they happened (rendering is the caller's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callsync.services.errors import NotFound
from callsync.store.db import Database
from callsync.trust.trace import (
    ActionEntry,
    CallWrite,
    Quote,
    Review,
    TraceEntry,
    call_actions,
    call_writes,
    field_history,
)

__all__ = [
    "ActionEntry",
    "CallTrace",
    "CallWrite",
    "FieldTrace",
    "Moment",
    "Quote",
    "Review",
    "TraceEntry",
    "call_trace",
    "field_trace",
    "moments",
]


@dataclass(frozen=True)
class Moment:
    # "sent", "acknowledged" (or "delivered ..." where nothing can be read back), "confirmed by read-back",
    # "recorded in the ledger"
    what: str
    at: datetime


@dataclass(frozen=True)
class FieldTrace:
    crm: str
    record_id: str
    field: str
    entries: tuple[TraceEntry, ...]


def field_trace(db: Database, crm: str, record_id: str, field: str) -> FieldTrace:
    """Raises NotFound when callsync never wrote that field of that record."""
    entries = field_history(db, crm, record_id, field)
    if not entries:
        raise NotFound(f"callsync has no record of writing {crm} {record_id} {field}")
    return FieldTrace(crm, record_id, field, tuple(entries))


def moments(entry: TraceEntry) -> list[Moment]:
    """The moments of one write that were recorded, oldest first, each named for what it is. A moment the
    pipeline did not record is left out, never shown as empty. (A reviewer's decision time is `entry.review`.)"""
    answered = "delivered (2xx, cannot be read back)" if entry.delivered_only else "acknowledged"
    found = [
        Moment("sent", entry.sent_at) if entry.sent_at else None,
        Moment(answered, entry.acknowledged_at) if entry.acknowledged_at else None,
        Moment("confirmed by read-back", entry.confirmed_at) if entry.confirmed_at else None,
        Moment("recorded in the ledger", entry.recorded_at),
    ]
    present = [m for m in found if m is not None]
    return sorted(present, key=lambda m: _utc(m.at))


def _utc(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CallTrace:
    """What one call produced in the CRM: the fields it wrote and its workflow actions."""

    call_id: str
    writes: tuple[CallWrite, ...]
    actions: tuple[ActionEntry, ...]


def call_trace(db: Database, call_id: str, tenant: str | None = None) -> CallTrace:
    """Raises NotFound when callsync wrote nothing and ran no action for that call."""
    writes, actions = call_writes(db, call_id, tenant), call_actions(db, call_id, tenant)
    if not writes and not actions:
        raise NotFound(f"callsync has no record of writing anything for call {call_id}")
    return CallTrace(call_id, tuple(writes), tuple(actions))
