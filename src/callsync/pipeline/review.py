"""Applying a reviewer's decision through the normal delivery path.

An approval or correction of a field is a durable workflow like a call's sync: write, confirm by reading
back, and a ledger row whose policy is `reviewer` — from then on the value counts as human-verified and no
call may overwrite it. The row keeps the call the value was heard in, who decided and when. An identity
conflict is answered by re-running the call's sync against the record the reviewer chose.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial
from typing import Any

from dbos import DBOS
from pydantic import BaseModel

from callsync.actions.plan import ActionRun, RunStatus
from callsync.crm.protocol import CRMAdapter, NotYetConsistent, PermanentError, RecordRef, WriteRequest
from callsync.delivery import FieldWrite, Outcome, RecordLink, ReviewTarget, Status
from callsync.pipeline.engine import (
    action_step,
    attempt_with,
    database_step,
    deliver,
    runtime,
)
from callsync.pipeline.queue import REVIEW_WORKFLOW
from callsync.reconcile.policy import same_value
from callsync.store import review as review_store
from callsync.store.ledger import REVIEWER_POLICY, record_action_decision, record_review_write
from callsync.store.review import ACTION_KIND, FIELD_KINDS


def review_workflow_id(item_id: int, n: int = 0) -> str:
    return f"review:{item_id}:{n}"


class ActionTarget(BaseModel):
    """A doubtful workflow action a reviewer decides: the run that waits (its plan, stamp, person, deal)."""

    id: int
    tenant: str
    call_id: str
    run: ActionRun


def _load(item_id: int) -> ReviewTarget | ActionTarget | str:
    """The item's target, or why it cannot be applied."""
    db = runtime().db
    item = review_store.get_item(db, item_id)
    if item is None:
        return f"no review item {item_id}"
    if item.kind == ACTION_KIND:
        run = (item.detail or {}).get("run")
        if not isinstance(run, dict):
            return f"review item {item_id} names no action to run"
        return ActionTarget(
            id=item.id, tenant=item.tenant, call_id=item.call_id, run=ActionRun.model_validate(run)
        )
    if item.kind not in FIELD_KINDS or not item.field:
        return f"review item {item_id} ({item.kind}) is not about one field"
    record_id = item.record_id or review_store.record_of_call(db, item.tenant, item.call_id, item.object_type)
    if not record_id or not item.object_type:
        return f"the record of call {item.call_id} is not known yet (its sync has not confirmed)"
    return ReviewTarget(
        id=item.id,
        tenant=item.tenant,
        crm=item.crm or "",
        call_id=item.call_id,
        object_type=item.object_type,
        record_id=record_id,
        field=item.field,
        reason=item.reason,
        evidence=(item.detail or {}).get("evidence", []),
    )


class _Loaded(BaseModel):
    """The load step's checkpoint: the target, or why the decision cannot be applied."""

    target: ReviewTarget | None = None
    action: ActionTarget | None = None
    error: str | None = None


@DBOS.step(name="callsync.review_load")
async def load_step(item_id: int) -> dict[str, Any]:
    loaded = await asyncio.to_thread(_load, item_id)
    if isinstance(loaded, str):
        result = _Loaded(error=loaded)
    elif isinstance(loaded, ActionTarget):
        result = _Loaded(action=loaded)
    else:
        result = _Loaded(target=loaded)
    return result.model_dump(mode="json")


async def write_field(adapter: CRMAdapter, target: ReviewTarget, value: Any) -> Outcome:
    ref = RecordRef(target.object_type, target.record_id)
    current = await adapter.read(ref, (target.field,))
    if current is None:
        raise PermanentError(f"record {ref.record_id} no longer exists in the CRM")
    old = current.fields.get(target.field)
    request_id = sent_at = acknowledged_at = None
    if not same_value(old, value):
        sent_at = datetime.now(UTC)
        result = await adapter.write(
            WriteRequest(ref.object_type, {target.field: value}, ref.record_id, f"review:{target.id}")
        )
        acknowledged_at = datetime.now(UTC)
        request_id = result.request_id
    back = await adapter.read(ref, (target.field,))
    if back is None or not same_value(back.fields.get(target.field), value):
        raise NotYetConsistent(f"read-back of {target.field} does not show the reviewer's value yet")
    return Outcome(
        status=Status.CONFIRMED,
        object_type=ref.object_type,
        record_id=ref.record_id,
        request_id=request_id,
        sent_at=sent_at,
        acknowledged_at=acknowledged_at,
        confirmed_at=datetime.now(UTC),
        writes={target.field: FieldWrite(old=old, new=value, decision="reviewer", policy=REVIEWER_POLICY)},
    )


@DBOS.step(name="callsync.review_write")
async def review_write_step(target_json: dict[str, Any], value: Any) -> dict[str, Any]:
    target = ReviewTarget.model_validate(target_json)
    outcome = await attempt_with(
        target.tenant, f"review {target.id}", lambda a: write_field(a, target, value)
    )
    return outcome.model_dump(mode="json")


def _finish(target: ReviewTarget, value: Any, decision: str, outcome: Outcome, reviewer: str | None) -> str:
    db = runtime().db
    if outcome.status is not Status.CONFIRMED:
        review_store.note_failed_attempt(db, target.id, {"action": decision, "error": outcome.error})
        return "failed"
    record_review_write(
        db, target, value, decision, outcome, runtime().integration_version(target.tenant), reviewer
    )
    status = "approved" if decision == "approve" else "corrected"
    review_store.decide(
        db,
        target.id,
        status,
        {"action": decision, "value": value, "policy": REVIEWER_POLICY, "reviewer": reviewer},
    )
    return status


@database_step("callsync.review_finish")
async def finish_step(
    target_json: dict[str, Any], value: Any, decision: str, outcome_json: dict[str, Any], reviewer: str | None
) -> str:
    target, outcome = ReviewTarget.model_validate(target_json), Outcome.model_validate(outcome_json)
    return await asyncio.to_thread(_finish, target, value, decision, outcome, reviewer)


@DBOS.workflow(name=REVIEW_WORKFLOW)
async def apply_review(item_id: int, value: Any, decision: str, reviewer: str | None = None) -> str:
    """Write the reviewer's value (approve: the proposal; correct: their own) and ledger it, with who
    decided (`reviewer`: the OS user for the CLI, the signed-in user for the dashboard)."""
    loaded = _Loaded.model_validate(await load_step(item_id))
    if loaded.action is not None:
        return await _apply_action(loaded.action, value, decision, reviewer)
    if loaded.target is None:
        return f"refused: {loaded.error}"
    target_json = loaded.target.model_dump(mode="json")
    tenant = loaded.target.tenant
    outcome = await deliver(
        tenant, review_workflow_id(item_id), lambda: review_write_step(target_json, value)
    )
    return await finish_step(target_json, value, decision, outcome.model_dump(mode="json"), reviewer)


# -- doubtful workflow actions (docs/actions.md) --------------------------------------------------------


async def _apply_action(target: ActionTarget, value: Any, decision: str, reviewer: str | None) -> str:
    """Approve: run the action as planned. Correct: run it at the reviewer's time (`value`, ISO 8601 UTC).
    Either way under the action's own stamp, so it exists once however often this is tried."""
    run = target.run
    planned = (
        run.planned.with_time(datetime.fromisoformat(str(value)))
        if decision == "correct"
        else run.planned.approved()
    )
    if not run.person_id:
        return "refused: the action's caller record is not known"
    person = RecordLink(object_type=run.person_type or "", record_id=run.person_id)
    deal = RecordLink(object_type=run.deal_type or "", record_id=run.deal_id) if run.deal_id else None
    attempt = partial(
        action_step, target.tenant, target.call_id, planned.model_dump(mode="json"), run.stamp,
        person.model_dump(mode="json"), deal.model_dump(mode="json") if deal else None,
    )  # fmt: skip
    outcome = await deliver(target.tenant, f"{review_workflow_id(target.id)}:action", attempt)
    return await action_finish_step(
        target.model_dump(mode="json"), outcome.model_dump(mode="json"), decision, reviewer
    )


@database_step("callsync.review_action_finish")
async def action_finish_step(
    target_json: dict[str, Any], outcome_json: dict[str, Any], decision: str, reviewer: str | None
) -> str:
    target, outcome = ActionTarget.model_validate(target_json), Outcome.model_validate(outcome_json)
    return await asyncio.to_thread(_finish_action, target, outcome, decision, reviewer)


def _finish_action(target: ActionTarget, outcome: Outcome, decision: str, reviewer: str | None) -> str:
    db = runtime().db
    if outcome.status is not Status.CONFIRMED or not outcome.actions:
        review_store.note_failed_attempt(db, target.id, {"action": decision, "error": outcome.error})
        return "failed"
    done: ActionRun = outcome.actions[0]
    record_action_decision(
        db, target.tenant, done, reviewer, target.id, runtime().integration_version(target.tenant)
    )
    status = "approved" if decision == "approve" else "corrected"
    review_store.decide(
        db, target.id, status,
        {"action": decision, "result": done.result, "record_id": done.record_id, "reviewer": reviewer,
         "status": RunStatus.CONFIRMED.value},
    )  # fmt: skip
    return status
