"""Ingest storage beyond `receive_call`: later events of a call, quarantine with the platform, poll cursors.

A platform may deliver one call as several events (Retell `call_ended` then `call_analyzed`; Twilio's
status, recording and transcript callbacks). The first event is the call row (`store/calls.py`, one
transaction with its sync workflow). A later event is stored verbatim in `call_events` and re-plans the
sync in the same transaction: a new workflow `sync:<tenant>:<call id>:<revision>` on the call's original
queue partition, so it runs after the earlier one. The write path is idempotent (origin stamp, ledger),
so a re-plan only adds what the new event taught us. Each event is stored once, whatever the retries:
its key (platform event type, recording or transcript sid) is unique per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from callsync.models import CallRecord
from callsync.store.calls import SYNC_QUEUE, SYNC_WORKFLOW, partition_key_for, receive_call, workflow_id_for
from callsync.store.db import Database
from callsync.store.tables import CallEventRow, CallRow, PollCursorRow, QuarantineRow

# The event key of calls stored without one (`callsync ingest`, the generic endpoint): the call itself.
CALL_EVENT = "call"


@dataclass(frozen=True)
class Delivery:
    call_id: str
    status: Literal["queued", "duplicate", "updated"]
    workflow_id: str


def receive_event(
    db: Database, call: CallRecord, raw_payload: str, source: str | None, *, platform: str, event_key: str
) -> Delivery:
    """Store one platform event of a call and make sure its sync is planned, exactly once per event.

    queued: the call is new (call row + sync workflow, one transaction); duplicate: this event of this call
    is already stored; updated: a later event was stored and the sync re-planned (one transaction)."""
    first = receive_call(db, call, raw_payload, source, payload_format=platform, event_key=event_key)
    if first.status == "queued":
        return Delivery(first.call_id, "queued", first.workflow_id)
    return _later_event(db, call, raw_payload, source, event_key)


def _later_event(
    db: Database, call: CallRecord, raw_payload: str, source: str | None, event_key: str
) -> Delivery:
    from dbos import DBOSClient, EnqueueOptions

    with db.session() as session:
        row = session.scalars(
            select(CallRow).where(CallRow.tenant == call.tenant, CallRow.call_id == call.call_id)
        ).one()
        known = (row.event_key or CALL_EVENT) == event_key or session.scalar(
            select(CallEventRow.id).where(
                CallEventRow.tenant == call.tenant,
                CallEventRow.call_id == call.call_id,
                CallEventRow.event_key == event_key,
            )
        ) is not None
        if known:
            return Delivery(call.call_id, "duplicate", row.workflow_id)
    client = DBOSClient(system_database_engine=db.engine)
    try:
        with db.session() as session:
            # The insert comes first: it takes the write lock (SQLite) and its unique key turns a concurrent
            # copy of this event into an IntegrityError before anything else happens.
            event = CallEventRow(
                tenant=call.tenant, call_id=call.call_id, event_key=event_key, payload=raw_payload,
                source=source, revision=0,
            )  # fmt: skip
            session.add(event)
            session.flush()
            revision, partition = session.execute(
                update(CallRow)
                .where(CallRow.tenant == call.tenant, CallRow.call_id == call.call_id)
                .values(revision=CallRow.revision + 1)
                .returning(CallRow.revision, CallRow.identity_key)
            ).one()
            workflow_id = f"{workflow_id_for(call.tenant, call.call_id)}:{revision}"
            event.revision = revision
            session.execute(
                update(CallRow)
                .where(CallRow.tenant == call.tenant, CallRow.call_id == call.call_id)
                .values(workflow_id=workflow_id, sync_state="queued", synced_at=None)
            )
            options: EnqueueOptions = {
                "queue_name": SYNC_QUEUE,
                "workflow_name": SYNC_WORKFLOW,
                "workflow_id": workflow_id,
                # The call's original partition: the re-plan waits for the earlier sync of this caller.
                "queue_partition_key": partition or partition_key_for(call),
            }
            client.enqueue_in_transaction(session, options, call.tenant, call.call_id)
    except IntegrityError:
        return Delivery(call.call_id, "duplicate", workflow_id_for(call.tenant, call.call_id))
    finally:
        client.destroy()
    return Delivery(call.call_id, "updated", workflow_id)


def later_payloads(db: Database, tenant: str, call_id: str) -> list[str]:
    """The verbatim payloads of a call's later events, in the order they were received."""
    with db.session() as session:
        return list(
            session.scalars(
                select(CallEventRow.payload)
                .where(CallEventRow.tenant == tenant, CallEventRow.call_id == call_id)
                .order_by(CallEventRow.id)
            ).all()
        )


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
