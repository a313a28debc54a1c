"""One workflow action's attempt against the CRM (the engine's `callsync.action` step runs it).

The request carries the action's stamp (one per call and rule): the adapter looks for the object with that
stamp before creating anything, so an attempt re-run after a lost answer, a replay of the call or a
reviewer's approval of a doubtful action all end with one object. Nothing here imports the engine: the
engine (and pipeline/review.py) import this.
"""

from __future__ import annotations

from datetime import UTC, datetime

from callsync.actions.plan import ActionRun, PlannedAction, RunStatus
from callsync.crm.protocol import (
    ActionAdapter,
    ActionOutcome,
    ActionRequest,
    CallFacts,
    CRMAdapter,
    PermanentError,
    RecordRef,
)
from callsync.delivery import Outcome, RecordLink, Status
from callsync.store.tables import CallRow

# The mapped object whose record is "the call's deal" (advance_stage moves it; activities link to it).
DEAL_OBJECT = "deal"


def call_facts(row: CallRow, outcome: str) -> CallFacts:
    """The facts a call activity records; the trace is where a person sees how the call was synced."""
    duration = None
    if row.started_at is not None and row.ended_at is not None:
        duration = max(0, int((row.ended_at - row.started_at).total_seconds()))
    return CallFacts(
        call_id=row.call_id,
        direction=row.direction,
        started_at=row.started_at.replace(tzinfo=row.started_at.tzinfo or UTC) if row.started_at else None,
        duration_s=duration,
        outcome=outcome,
        from_number=row.from_number,
        to_number=row.to_number,
        trace=f"callsync trace --call {row.call_id}",
    )


def action_request(
    planned: PlannedAction,
    stamp: str,
    person: RecordLink,
    deal: RecordLink | None,
    facts: CallFacts | None,
    open_candidates: list[RecordLink],
) -> ActionRequest:
    body = "\n".join([*planned.summary, *([f"Trace: {facts.trace}"] if facts else [])])
    return ActionRequest(
        kind=planned.kind,
        stamp=stamp,
        person=RecordRef(person.object_type, person.record_id),
        title=planned.title,
        body=body,
        deal=RecordRef(deal.object_type, deal.record_id) if deal else None,
        due_at=planned.due_at,
        duration_min=planned.duration_min,
        owner_id=planned.owner_id,
        priority=planned.priority,
        queue=planned.queue,
        pipeline_id=planned.pipeline_id,
        stage=planned.stage,
        stages=planned.stages,
        allow_backwards=planned.allow_backwards,
        open_candidates=tuple(RecordRef(c.object_type, c.record_id) for c in open_candidates),
        call=facts,
    )


async def run_action(adapter: CRMAdapter, planned: PlannedAction, request: ActionRequest) -> Outcome:
    """One attempt. Errors propagate to the engine's `attempt_with` (retry, rate limit, dead letter)."""
    if not isinstance(adapter, ActionAdapter):
        raise PermanentError(f"the {adapter.name} adapter does no workflow actions")
    sent_at = datetime.now(UTC)
    result = await adapter.act(request)
    run = ActionRun(
        planned=planned,
        stamp=request.stamp,
        status=RunStatus.CONFIRMED,
        result=result.outcome.value,
        person_type=request.person.object_type,
        person_id=request.person.record_id,
        deal_type=request.deal.object_type if request.deal else None,
        deal_id=request.deal.record_id if request.deal else None,
        object_type=result.ref.object_type if result.ref else None,
        record_id=result.ref.record_id if result.ref else None,
        detail=result.detail,
        request_id=result.request_id,
        confirmed_at=datetime.now(UTC),
    )
    return Outcome(
        status=Status.CONFIRMED,
        object=f"action:{planned.rule}",
        object_type=run.object_type,
        record_id=run.record_id,
        created=result.outcome is ActionOutcome.CREATED,
        request_id=result.request_id,
        sent_at=sent_at,
        confirmed_at=run.confirmed_at,
        actions=[run],
    )


def unfinished_run(
    planned: PlannedAction, stamp: str, person: RecordLink, deal: RecordLink | None, outcome: Outcome
) -> ActionRun:
    """The run of an action whose delivery did not confirm: in review (nothing done) or a dead letter."""
    status = RunStatus.REVIEW if outcome.status is Status.REVIEW else RunStatus.DEAD_LETTER
    return ActionRun(
        planned=planned, stamp=stamp, status=status, person_type=person.object_type, person_id=person.record_id,
        deal_type=deal.object_type if deal else None, deal_id=deal.record_id if deal else None,
        error=outcome.error, attempts=outcome.attempts,
        detail=outcome.review.reason if outcome.review else "",
    )  # fmt: skip
