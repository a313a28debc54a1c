"""Receiving calls: the call row and its sync workflow are committed in one transaction.

Only after that commit may a webhook answer 2xx or `ingest` report the call as stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from callsync.models import CallRecord
from callsync.reconcile.identity import normalize_phone
from callsync.store.db import Database
from callsync.store.tables import CallRow, QuarantineRow

SYNC_QUEUE = "callsync-sync"
SYNC_WORKFLOW = "callsync.sync_call"


def workflow_id_for(tenant: str, call_id: str) -> str:
    """The idempotency key of a call's sync: one workflow per (tenant, call), whatever the retries."""
    return f"sync:{tenant}:{call_id}"


def partition_key_for(call: CallRecord, region: str = "US") -> str:
    """Calls that may concern one person run one at a time. The caller's own line is the key known
    before any extraction; without one, the call is its own partition."""
    line = normalize_phone(call.caller_line, region) if call.caller_line else None
    return f"line:{line}" if line else f"call:{call.call_id}"


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
    `event_key` the platform event it came with (later events: store/events.py)."""
    from dbos import DBOSClient, EnqueueOptions

    workflow_id = workflow_id_for(call.tenant, call.call_id)
    with db.session() as session:
        existing = session.scalar(
            select(CallRow.id).where(CallRow.tenant == call.tenant, CallRow.call_id == call.call_id)
        )
        if existing is not None:
            return Received(call.call_id, "duplicate", workflow_id)
    client = DBOSClient(system_database_engine=db.engine)
    try:
        with db.session() as session:
            session.add(
                CallRow(
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
                    identity_key=partition_key_for(call),
                    payload_format=payload_format,
                    event_key=event_key,
                )
            )
            session.flush()
            options: EnqueueOptions = {
                "queue_name": SYNC_QUEUE,
                "workflow_name": SYNC_WORKFLOW,
                "workflow_id": workflow_id,
                "queue_partition_key": partition_key_for(call),
            }
            client.enqueue_in_transaction(session, options, call.tenant, call.call_id)
    except IntegrityError:
        # A concurrent delivery of the same call committed first.
        return Received(call.call_id, "duplicate", workflow_id)
    finally:
        client.destroy()
    return Received(call.call_id, "queued", workflow_id)


def quarantine(db: Database, source: str, reason: str, payload: str, tenant: str | None = None) -> int:
    """Keep a payload that failed validation whole, with the reason, so nothing received is lost."""
    with db.session() as session:
        row = QuarantineRow(tenant=tenant, source=source, reason=reason, payload=payload)
        session.add(row)
        session.flush()
        return row.id
