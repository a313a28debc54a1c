"""Applying a reviewer's decision through the normal delivery path.

An approval or correction of a field is a durable workflow like a call's sync: write, confirm by reading
back, and a ledger row whose policy is `reviewer` — from then on the value counts as human-verified and no
call may overwrite it. An identity conflict is answered by re-running the call's sync against the record
the reviewer chose.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from dbos import DBOS

from callsync.crm.protocol import CRMAdapter, NotYetConsistent, PermanentError, RecordRef, WriteRequest
from callsync.pipeline.engine import attempt_with, deliver, runtime
from callsync.pipeline.queue import REVIEW_WORKFLOW
from callsync.reconcile.policy import same_value
from callsync.store import review as review_store
from callsync.store.ledger import REVIEWER_POLICY, record_review_write
from callsync.store.review import FIELD_KINDS


def review_workflow_id(item_id: int, n: int = 0) -> str:
    return f"review:{item_id}:{n}"


def _load(item_id: int) -> dict[str, Any]:
    db = runtime().db
    item = review_store.get_item(db, item_id)
    if item is None:
        return {"error": f"no review item {item_id}"}
    if item.kind not in FIELD_KINDS or not item.field:
        return {"error": f"review item {item_id} ({item.kind}) is not about one field"}
    record_id = item.record_id or review_store.record_of_call(db, item.tenant, item.call_id, item.object_type)
    if not record_id:
        return {"error": f"the record of call {item.call_id} is not known yet (its sync has not confirmed)"}
    return {
        "id": item.id,
        "tenant": item.tenant,
        "crm": item.crm,
        "call_id": item.call_id,
        "object_type": item.object_type,
        "record_id": record_id,
        "field": item.field,
        "reason": item.reason,
        "evidence": (item.detail or {}).get("evidence", []),
    }


@DBOS.step(name="callsync.review_load")
async def load_step(item_id: int) -> dict[str, Any]:
    return await asyncio.to_thread(_load, item_id)


async def write_field(adapter: CRMAdapter, item: dict[str, Any], value: Any) -> dict[str, Any]:
    ref = RecordRef(item["object_type"], item["record_id"])
    current = await adapter.read(ref, (item["field"],))
    if current is None:
        raise PermanentError(f"record {ref.record_id} no longer exists in the CRM")
    old = current.fields.get(item["field"])
    request_id = None
    if not same_value(old, value):
        result = await adapter.write(
            WriteRequest(ref.object_type, {item["field"]: value}, ref.record_id, f"review:{item['id']}")
        )
        request_id = result.request_id
    back = await adapter.read(ref, (item["field"],))
    if back is None or not same_value(back.fields.get(item["field"]), value):
        raise NotYetConsistent(f"read-back of {item['field']} does not show the reviewer's value yet")
    return {
        "status": "confirmed",
        "old": old,
        "request_id": request_id,
        "confirmed_at": datetime.now(UTC).isoformat(),
    }


@DBOS.step(name="callsync.review_write")
async def review_write_step(item: dict[str, Any], value: Any) -> dict[str, Any]:
    return await attempt_with(item["tenant"], f"review {item['id']}", lambda a: write_field(a, item, value))


def _finish(item: dict[str, Any], value: Any, decision: str, outcome: dict[str, Any]) -> str:
    db = runtime().db
    if outcome["status"] != "confirmed":
        review_store.note_failed_attempt(db, item["id"], {"action": decision, "error": outcome.get("error")})
        return "failed"
    record_review_write(db, item, value, decision, outcome, runtime().integration_version(item["tenant"]))
    status = "approved" if decision == "approve" else "corrected"
    review_store.decide(
        db, item["id"], status, {"action": decision, "value": value, "policy": REVIEWER_POLICY}
    )
    return status


@DBOS.step(name="callsync.review_finish", retries_allowed=True, max_attempts=5, interval_seconds=0.5)
async def finish_step(item: dict[str, Any], value: Any, decision: str, outcome: dict[str, Any]) -> str:
    return await asyncio.to_thread(_finish, item, value, decision, outcome)


@DBOS.workflow(name=REVIEW_WORKFLOW)
async def apply_review(item_id: int, value: Any, decision: str) -> str:
    """Write the reviewer's value (approve: the proposal; correct: their own) and ledger it."""
    item = await load_step(item_id)
    if "error" in item:
        return f"refused: {item['error']}"
    outcome = await deliver(
        item["tenant"], review_workflow_id(item_id), lambda: review_write_step(item, value)
    )
    return await finish_step(item, value, decision, outcome)
