"""A call delivered as one document, to a target that keeps nothing to find or read back (a webhook).

The engine takes this path when the tenant's CRM declares neither `read_back` nor `search`: there is no
record to look for, decide against or confirm, so the whole prepared call (every object, field, confidence
and evidence reference) goes in one signed request. Its idempotency key is derived from the call and the
document's content: every retry, a step run again after a crash and a replay send the same id, and a
re-plan of the call with different content sends a new one. A 2xx is `delivered`, not `confirmed`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from callsync.crm.protocol import CRMAdapter, PermanentError, WriteRequest
from callsync.delivery import CallDocument, ObjectPlanData, Outcome, PreparedCall, Status
from callsync.reconcile.fields import new_record_writes


def document_key(tenant: str, target: str, call_id: str, document: CallDocument) -> str:
    digest = hashlib.sha256(
        json.dumps(document.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()[:16]
    return f"{tenant}:{target}:{call_id}:document:{digest}"


async def send_document(adapter: CRMAdapter, tenant: str, call_id: str, prepared: PreparedCall) -> Outcome:
    """POST the call's document; the outcome is `delivered` with every planned field as a write (the
    ledger's rows, sent and acknowledged, never confirmed by read-back)."""
    if prepared.plan is None:
        raise PermanentError("the call has no plan to deliver")
    document = CallDocument.of(tenant, call_id, prepared)
    request = WriteRequest(
        prepared.plan.crm_object,
        document.model_dump(mode="json"),
        None,
        document_key(tenant, adapter.name, call_id, document),
    )
    sent_at = datetime.now(UTC)
    result = await adapter.write(request)
    acknowledged_at = datetime.now(UTC)
    event_id = result.ref.record_id

    def delivered(plan: ObjectPlanData, name: str | None) -> Outcome:
        return Outcome(
            status=Status.DELIVERED,
            object=name,
            object_type=plan.crm_object,
            record_id=event_id,
            created=True,
            request_id=result.request_id,
            sent_at=sent_at,
            acknowledged_at=acknowledged_at,
            writes=new_record_writes(plan),
        )

    related = [delivered(p, p.object) for p in prepared.related]
    contact = delivered(prepared.plan, None)
    return contact.model_copy(update={"related": related})
