"""Which actions a call triggers, and which of them wait for a person (pure).

A rule's condition is evaluated three ways: it holds (the action is planned), it does not (nothing), or it
would hold but rests on a doubtful value — a label below the rule's confidence, a field still in review —
and then the action is planned *in review*: it waits for a person's approval or correction and is never
run on the doubtful value by itself. An action's own inputs (a booking time, a callback time) are checked
the same way.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from callsync.actions.rules import ActionKind, ActionRule, ActionsBlock, Condition, pipeline_of
from callsync.models import Extraction, FieldStatus, FieldValue, Label


class Verdict(StrEnum):
    FIRES = "fires"
    DOUBTFUL = "doubtful"  # it would fire, but on a value a person has not confirmed
    NO = "no"


def evaluate(
    condition: Condition,
    labels: Mapping[str, Label],
    fields: Mapping[str, FieldValue],
    min_confidence: float,
) -> tuple[Verdict, tuple[str, ...]]:
    """The verdict of a `when`, and the doubts behind a DOUBTFUL one. A clause that fails on its value
    decides NO whatever the confidence: doubt only ever holds back an action, never adds one."""
    doubts: list[str] = []
    for name, allowed in condition.labels().items():
        label = labels.get(name)
        if label is None or label.value not in allowed:
            return Verdict.NO, ()
        if label.confidence < min_confidence:
            doubts.append(
                f"{name} {label.value!r} at confidence {label.confidence:.2f} < {min_confidence:.2f}"
            )
    for name, test in condition.fields.items():
        fv = fields.get(name)
        if fv is None or fv.status is FieldStatus.REJECTED or not test.holds(fv.value):
            return Verdict.NO, ()
        if fv.status is not FieldStatus.ACCEPTED:
            doubts.append(f"{name} {fv.value!r} is in review ({fv.reason or 'low confidence'})")
    return (Verdict.DOUBTFUL, tuple(doubts)) if doubts else (Verdict.FIRES, ())


class ActionState(StrEnum):
    READY = "ready"
    REVIEW = "review"


class PlannedAction(BaseModel):
    """One action a call triggers, resolved to what the CRM needs. Crosses DBOS checkpoints as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    kind: ActionKind
    state: ActionState
    title: str
    due_at: datetime | None = None
    duration_min: int = 30
    owner: str | None = None  # the alias
    owner_id: str | None = None  # the CRM's user id
    priority: str | None = None
    queue: str | None = None
    pipeline_id: str | None = None
    stage: str | None = None
    stages: tuple[str, ...] = ()
    allow_backwards: bool = False
    once_open: bool = False
    doubts: tuple[str, ...] = ()
    question: str | None = None  # what a reviewer is asked ("book a meeting for Tue 24 Nov 3:00 PM?")
    summary: tuple[str, ...] = Field(default_factory=tuple)  # short structured lines, never the transcript

    def with_time(self, due_at: datetime) -> PlannedAction:
        """A reviewer's correction of the time: ready, with nothing left in doubt."""
        return self.model_copy(update={"due_at": due_at, "state": ActionState.READY, "doubts": ()})

    def approved(self) -> PlannedAction:
        return self.model_copy(update={"state": ActionState.READY, "doubts": ()})


_PRIORITY_BY_SENTIMENT = {"frustrated": "high", "positive": "low"}
_VERBS = {
    ActionKind.BOOK_MEETING: "book a meeting",
    ActionKind.CREATE_TASK: "create a task",
    ActionKind.OPEN_TICKET: "open a ticket",
    ActionKind.ADVANCE_STAGE: "move the deal",
    ActionKind.HANDOFF: "hand the caller over",
    ActionKind.LOG_CALL: "log the call",
}


def _render(template: str | None, default: str, accepted: Mapping[str, FieldValue]) -> str:
    """A title naming captured fields; a field not accepted reads as "the caller" (never a doubtful value)."""
    if not template:
        return default
    values = {
        name: str(accepted[name].value) if name in accepted else "the caller"
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }
    return template.format_map(values)


def _when(fields: Mapping[str, FieldValue], zone: ZoneInfo) -> tuple[datetime | None, list[str], bool]:
    """The arranged moment (date + time, local → UTC), the doubts about it, and whether a time was said."""
    date, time = fields.get("date"), fields.get("time")
    if date is None or date.status is FieldStatus.REJECTED:
        return None, [], False
    doubts = [
        f"{fv_name} {fv.value!r} is in review ({fv.reason or 'low confidence'})"
        for fv_name, fv in (("date", date), ("time", time))
        if fv is not None and fv.status is not FieldStatus.ACCEPTED
    ]
    clock = str(time.value) if time is not None and time.status is not FieldStatus.REJECTED else "09:00"
    try:
        local = datetime.fromisoformat(f"{date.value}T{clock}").replace(tzinfo=zone)
    except ValueError:
        return None, [f"date {date.value!r} / time {clock!r} is not a moment"], False
    return local.astimezone(UTC), doubts, time is not None


def _moment(due: datetime, zone: ZoneInfo) -> str:
    local = due.astimezone(zone)
    return f"{local:%a %d %b} {local.hour % 12 or 12}:{local.minute:02d} {'PM' if local.hour >= 12 else 'AM'}"


def call_summary(extraction: Extraction) -> tuple[str, ...]:
    """What a call activity says about the call: labels and which values were captured — short and
    structured. Contact values are named, not repeated (they are on the record); the transcript never."""
    lines = [
        f"Intent: {extraction.intent.value} ({extraction.intent.confidence:.2f})",
        f"Outcome: {extraction.outcome.value} ({extraction.outcome.confidence:.2f})",
        f"Sentiment: {extraction.sentiment.value}",
    ]
    accepted = extraction.accepted()
    shown = [f"{n} {accepted[n].value}" for n in ("amount", "date", "time", "reference_id") if n in accepted]
    named = [n for n in ("full_name", "email", "phone", "company", "job_title", "address") if n in accepted]
    if shown or named:
        lines.append("Captured: " + ", ".join([*named, *shown]))
    waiting = sorted(n for n, fv in extraction.fields.items() if fv.status is FieldStatus.NEEDS_REVIEW)
    if waiting:
        lines.append("In review: " + ", ".join(waiting))
    return tuple(lines)


def plan_actions(
    extraction: Extraction,
    block: ActionsBlock,
    *,
    called_at: datetime,
    timezone: str = "UTC",
) -> list[PlannedAction]:
    """The actions this call triggers, in rule order: each ready, or in review with its doubts and the
    question a reviewer answers."""
    zone = ZoneInfo(timezone)
    labels = {"intent": extraction.intent, "outcome": extraction.outcome, "sentiment": extraction.sentiment}
    accepted = extraction.accepted()
    summary = call_summary(extraction)
    planned: list[PlannedAction] = []
    for rule in block.rules:
        verdict, why = evaluate(rule.when, labels, extraction.fields, rule.min_confidence)
        if verdict is Verdict.NO:
            continue
        planned.append(_planned(rule, block, why, extraction, accepted, summary, called_at, zone))
    return planned


def _planned(
    rule: ActionRule,
    block: ActionsBlock,
    why: tuple[str, ...],
    extraction: Extraction,
    accepted: Mapping[str, FieldValue],
    summary: tuple[str, ...],
    called_at: datetime,
    zone: ZoneInfo,
) -> PlannedAction:
    p = rule.params
    doubts = list(why)
    due: datetime | None = None
    if rule.do is ActionKind.BOOK_MEETING:
        due, about_time, said_time = _when(extraction.fields, zone)
        doubts += about_time
        if due is None:
            doubts.append("no meeting time was arranged on the call")
        elif not said_time:
            doubts.append("no time of day was arranged on the call")
    elif rule.do in (ActionKind.CREATE_TASK, ActionKind.HANDOFF):
        due, about_time, _ = _when(extraction.fields, zone)
        doubts += about_time
        if due is None:
            due = called_at.astimezone(UTC) + timedelta(hours=p.due_in_hours)
    elif rule.do is ActionKind.LOG_CALL:
        due = called_at.astimezone(UTC)
    pipeline = pipeline_of(block, rule)
    default_titles = {
        ActionKind.BOOK_MEETING: "Meeting with {full_name}",
        ActionKind.CREATE_TASK: "Call back {full_name}",
        ActionKind.OPEN_TICKET: "Support request from {full_name}",
        ActionKind.ADVANCE_STAGE: f"Stage {p.stage}",
        ActionKind.HANDOFF: "Handed over: {full_name}",
        ActionKind.LOG_CALL: f"{extraction.intent.value.title()} call",
    }
    title = _render(p.title or default_titles[rule.do], rule.do.value, accepted)
    question = None
    if doubts:
        at = f" for {_moment(due, zone)}" if due is not None else ""
        question = f"{_VERBS[rule.do]} {title!r}{at}? ({'; '.join(doubts)})"
    return PlannedAction(
        rule=rule.name,
        kind=rule.do,
        state=ActionState.REVIEW if doubts else ActionState.READY,
        title=title,
        due_at=due,
        duration_min=p.duration_min,
        owner=p.owner,
        owner_id=block.owners.get(p.owner) if p.owner else None,
        priority=(p.priority or _PRIORITY_BY_SENTIMENT.get(extraction.sentiment.value, "medium"))
        if rule.do in (ActionKind.CREATE_TASK, ActionKind.OPEN_TICKET, ActionKind.HANDOFF)
        else None,
        queue=p.queue,
        pipeline_id=pipeline.id if pipeline else None,
        stage=p.stage,
        stages=pipeline.stages if pipeline else (),
        allow_backwards=p.allow_backwards,
        once_open=p.once_open,
        doubts=tuple(doubts),
        question=question,
        summary=summary,
    )


def describe(action: PlannedAction, timezone: str = "UTC") -> dict[str, Any]:
    """What `callsync plan` prints for one planned action."""
    out: dict[str, Any] = {"rule": action.rule, "action": action.kind.value, "state": action.state.value,
                           "title": action.title}  # fmt: skip
    if action.due_at is not None:
        out["at"] = _moment(action.due_at, ZoneInfo(timezone))
    for key in ("owner", "priority", "queue", "stage"):
        if getattr(action, key):
            out[key] = getattr(action, key)
    if action.question:
        out["question"] = action.question
    return out


class RunStatus(StrEnum):
    """Where one action of one call ended: the status of its ledger row."""

    CONFIRMED = "confirmed"  # done (or already so) in the CRM and read back
    REVIEW = "review"  # waits for a person: nothing done
    DROPPED = "dropped"  # a reviewer rejected it: nothing done, ever
    DEAD_LETTER = "dead_letter"  # failed for good: replaying the call retries it under the same stamp


class ActionRun(BaseModel):
    """What became of one planned action: recorded by the ledger (one row per stamp)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    planned: PlannedAction
    stamp: str
    status: RunStatus
    result: str | None = None  # crm.protocol.ActionOutcome's value, once confirmed
    person_type: str | None = None
    person_id: str | None = None
    deal_type: str | None = None
    deal_id: str | None = None
    object_type: str | None = None
    record_id: str | None = None
    detail: str = ""
    error: str | None = None
    attempts: int = 0
    request_id: str | None = None
    confirmed_at: datetime | None = None


def action_stamp(tenant: str, call_id: str, rule: str) -> str:
    """The idempotency key of one rule's action on one call: every retry, replay and re-delivered webhook of
    the call computes the same, and the object the action creates carries it."""
    return f"callsync:{tenant}:{call_id}:{rule}"
