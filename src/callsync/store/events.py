"""Ingest storage beyond receiving a call (`pipeline/intake.py`): later events' payloads, quarantine with
the platform, poll cursors.

The payloads of later events are read back here when a call is re-planned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, select, tuple_

from callsync.store.db import Database
from callsync.store.tables import CallEventRow, CallRow, PollCursorRow, QuarantineRow, table

_calls, _events = table(CallRow), table(CallEventRow)
_LATER_PAYLOADS = (
    select(_events.c.payload)
    .where(_events.c.tenant == bindparam("tenant"), _events.c.call_id == bindparam("call_id"))
    .order_by(_events.c.id)
)

# Several calls' first payloads and later events at once (`stored_calls`).
_several: BindParameter[Any] = bindparam("keys", expanding=True)
_CALLS_PAYLOADS = select(
    _calls.c.tenant, _calls.c.call_id, _calls.c.raw_payload, _calls.c.payload_format, _calls.c.source
).where(tuple_(_calls.c.tenant, _calls.c.call_id).in_(_several))
_CALLS_LATER_PAYLOADS = (
    select(_events.c.tenant, _events.c.call_id, _events.c.payload)
    .where(tuple_(_events.c.tenant, _events.c.call_id).in_(_several))
    .order_by(_events.c.id)
)


@dataclass(frozen=True)
class StoredCall:
    """A call as received: its first payload verbatim, the adapter that reads it (None: the generic call
    JSON), where it came from, and its later events' payloads in the order they were received."""

    raw_payload: str
    payload_format: str | None
    source: str | None
    later: list[str]


def stored_call(db: Database, tenant: str, call_id: str) -> StoredCall:
    """One transaction for the call and its later events. LookupError: no such call."""
    return stored_calls(db, [(tenant, call_id)])[0]


def stored_calls(db: Database, keys: Sequence[tuple[str, str]]) -> list[StoredCall]:
    """`stored_call` for several calls (tenant, call id) in one transaction of two statements, in order
    (store/group_commit.py gathers them). LookupError names a call that is not stored."""
    with db.transaction() as conn:
        wanted = list(dict.fromkeys(keys))
        found = {(row.tenant, row.call_id): row for row in conn.execute(_CALLS_PAYLOADS, {"keys": wanted})}
        later: dict[tuple[str, str], list[str]] = {}
        for row in conn.execute(_CALLS_LATER_PAYLOADS, {"keys": wanted}):
            later.setdefault((row.tenant, row.call_id), []).append(row.payload)
    missing = [key for key in wanted if key not in found]
    if missing:
        raise LookupError(f"no stored call {missing[0][1]!r} of tenant {missing[0][0]!r}")
    return [
        StoredCall(found[k].raw_payload, found[k].payload_format, found[k].source, later.get(k, []))
        for k in keys
    ]


def later_payloads(db: Database, tenant: str, call_id: str) -> list[str]:
    """The verbatim payloads of a call's later events, in the order they were received."""
    with db.transaction() as conn:
        return list(conn.scalars(_LATER_PAYLOADS, {"tenant": tenant, "call_id": call_id}).all())


def find_call_tenants(db: Database, call_id: str, tenants: list[str]) -> list[str]:
    """Which of these tenants already hold a call with this id (a later event routes where its call went)."""
    if not tenants:
        return []
    with db.session() as session:
        return list(
            session.scalars(
                select(CallRow.tenant).where(CallRow.call_id == call_id, CallRow.tenant.in_(tenants))
            ).all()
        )


# -- quarantine ---------------------------------------------------------------------------------------


def quarantine_payload(
    db: Database, *, source: str, reason: str, payload: str, platform: str | None, tenant: str | None = None
) -> int:
    """Keep a received payload that could not become a call, whole, with the reason and its platform."""
    with db.session() as session:
        # The reason may quote the payload's values; PostgreSQL text cannot hold NUL.
        row = QuarantineRow(
            tenant=tenant, source=source[:500], reason=reason.replace("\x00", "\\x00"), payload=payload,
            platform=platform,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def list_quarantine(db: Database, status: str | None = "open") -> list[QuarantineRow]:
    with db.session() as session:
        query = select(QuarantineRow).order_by(QuarantineRow.id)
        if status is not None:
            query = query.where(QuarantineRow.status == status)
        return list(session.scalars(query).all())


def get_quarantined(db: Database, quarantine_id: int) -> QuarantineRow | None:
    with db.session() as session:
        return session.get(QuarantineRow, quarantine_id)


def resolve_quarantined(db: Database, quarantine_id: int, tenant: str, call_id: str) -> None:
    """A retry stored the payload as a call: the row stays (the audit trail) but is no longer open."""
    with db.session() as session:
        row = session.get(QuarantineRow, quarantine_id)
        if row is not None:
            row.status, row.tenant, row.call_id = "retried", tenant, call_id
            row.resolved_at = datetime.now(UTC)


def discard_quarantined(db: Database, quarantine_id: int, reason: str, by: str) -> QuarantineRow | None:
    """Give up on an open quarantined payload, with a reason. The row stays whole (the audit trail) as
    `discarded`; its reason keeps the original refusal, then who discarded it and why. None: no such row.
    Raises ValueError when the row is not open."""
    with db.session() as session:
        row = session.get(QuarantineRow, quarantine_id)
        if row is None:
            return None
        if row.status != "open":
            raise ValueError(f"quarantined payload {quarantine_id} is {row.status}, not open")
        row.status = "discarded"
        row.resolved_at = datetime.now(UTC)
        row.reason = f"{row.reason} — discarded by {by}: {reason}"
        return row


def requarantine(db: Database, quarantine_id: int, reason: str) -> None:
    """A retry failed again: the row stays open with the newest reason."""
    with db.session() as session:
        row = session.get(QuarantineRow, quarantine_id)
        if row is not None:
            row.reason = reason


# -- poll cursors -------------------------------------------------------------------------------------


def get_cursor(db: Database, tenant: str, platform: str) -> str | None:
    with db.session() as session:
        return session.scalar(
            select(PollCursorRow.cursor).where(
                PollCursorRow.tenant == tenant, PollCursorRow.platform == platform
            )
        )


def set_cursor(db: Database, tenant: str, platform: str, cursor: str) -> None:
    with db.session() as session:
        row = session.scalars(
            select(PollCursorRow).where(PollCursorRow.tenant == tenant, PollCursorRow.platform == platform)
        ).one_or_none()
        if row is None:
            session.add(PollCursorRow(tenant=tenant, platform=platform, cursor=cursor))
        else:
            row.cursor, row.updated_at = cursor, datetime.now(UTC)
