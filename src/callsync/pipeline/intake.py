"""Receiving calls: the call row and its sync workflow are committed in one transaction.

Only after that commit may a webhook answer 2xx or `ingest` report the call as stored.

A platform may deliver one call as several events (Retell `call_ended` then `call_analyzed`; Twilio's
status, recording and transcript callbacks). The first event is the call row, in one transaction with its
sync workflow. A later event is stored verbatim in `call_events` and re-plans the sync in the same
transaction: a new workflow `sync:<tenant>:<call id>:<revision>` on the call's original queue partition, so
it runs after the earlier one. The write path is idempotent (origin stamp, ledger), so a re-plan only adds
what the new event taught us. Each event is stored once, whatever the retries: its key (platform event
type, recording or transcript sid) is unique per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from callsync.config import redact_patterns_for
from callsync.models import CallRecord
from callsync.pipeline.queue import (
    SYNC_WORKFLOW,
    enqueue_in,
    partition_key_for,
    queue_client,
    workflow_id_for,
)
from callsync.redaction import mask_payload
from callsync.store.db import Database
from callsync.store.tables import CallEventRow, CallRow

_CALLS = cast(Table, CallRow.__table__)


@dataclass(frozen=True)
class Received:
    call_id: str
    status: Literal["queued", "duplicate"]
    workflow_id: str


def receive_call(
    db: Database,
    call: CallRecord,
    raw_payload: str,
    source: str | None = None,
    *,
    payload_format: str | None = None,
    event_key: str | None = None,
) -> Received:
    """Store the call verbatim and enqueue its sync, atomically. A second delivery is a no-op.
    `payload_format` names the platform adapter that reads `raw_payload` (default: generic call JSON);
    `event_key` the platform event it came with (later events: store/events.py).
    Card numbers, social security numbers and the tenant's `redact_patterns` are masked before anything is
    stored (docs/privacy.md)."""
    raw_payload = mask_payload(raw_payload, redact_patterns_for(call.tenant))
    workflow_id = workflow_id_for(call.tenant, call.call_id)
    # No look-up first: the call's unique key makes a second delivery an IntegrityError below, and most
    # deliveries are new calls, so a separate read would cost every webhook a transaction.
    client = queue_client(db)
    partition = partition_key_for(call)
    try:
        with db.session() as session:
            # A plain INSERT: nothing reads the row object back, and the ORM's unit of work (state tracking,
            # flush ordering, RETURNING the id) was a sixth of a webhook's CPU time.
            session.execute(
                insert(_CALLS).values(
                    tenant=call.tenant,
                    call_id=call.call_id,
                    platform=call.platform,
                    direction=call.direction.value,
                    from_number=call.from_number,
                    to_number=call.to_number,
                    started_at=call.started_at,
                    ended_at=call.ended_at,
                    raw_payload=raw_payload,
                    source=source,
                    sync_state="queued",
                    workflow_id=workflow_id,
                    identity_key=partition,
                    payload_format=payload_format,
                    event_key=event_key,
                )
            )
            enqueue_in(client, session, workflow=SYNC_WORKFLOW, workflow_id=workflow_id, partition=partition,
                       args=(call.tenant, call.call_id))  # fmt: skip
    except IntegrityError:
        # A concurrent delivery of the same call committed first.
        return Received(call.call_id, "duplicate", workflow_id)
    return Received(call.call_id, "queued", workflow_id)


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
    raw_payload = mask_payload(raw_payload, redact_patterns_for(call.tenant))
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
    client = queue_client(db)
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
            # The call's original partition: the re-plan waits for the earlier sync of this caller.
            enqueue_in(client, session, workflow=SYNC_WORKFLOW, workflow_id=workflow_id,
                       partition=partition or partition_key_for(call), args=(call.tenant, call.call_id))  # fmt: skip
    except IntegrityError:
        return Delivery(call.call_id, "duplicate", workflow_id_for(call.tenant, call.call_id))
    return Delivery(call.call_id, "updated", workflow_id)
