"""The rule language of the mapping document's `actions:` block, as typed data (pure).

    actions:
      owners:    {sales: "1001", customer_success: "1002"}        # alias -> the CRM's user id
      pipelines: {sales: {id: default, stages: [new, qualified, proposal, won]}}   # in order
      rules:
        - name: book_demo
          when: {outcome: appointment_booked}
          do: book_meeting
          with: {title: "Demo with {full_name}", duration_min: 30, owner: sales}

A `when` names labels (intent, outcome, sentiment: one value or a list) and captured fields (canonical names:
`present`, `{equals: V}` or `{at_least: N}`); every clause must hold. An empty `when` holds for every call.
Unknown actions, owners, pipelines and stages are refused here, naming the rule; which actions the tenant's
CRM can do is checked where the CRM is known (config.py), against its declared capabilities.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callsync.capture.extract.labels import INTENTS, OUTCOMES, SENTIMENTS
from callsync.models import CANONICAL_FIELDS


class ActionKind(StrEnum):
    """What a rule makes happen in the CRM. A CRM declares which it can do (`Capabilities.actions`)."""

    BOOK_MEETING = "book_meeting"  # a meeting/event/appointment at the time the call arranged
    CREATE_TASK = "create_task"  # a to-do for an owner, due at the callback time (or after `due_in_hours`)
    OPEN_TICKET = "open_ticket"  # a support ticket/case in a queue, priority from the caller's sentiment
    ADVANCE_STAGE = "advance_stage"  # the call's deal moves forward to a named stage
    HANDOFF = "handoff"  # the person is assigned to an owner, with a task telling them why
    LOG_CALL = "log_call"  # the call itself as the CRM's call activity (no transcript)


LABELS: dict[str, tuple[str, ...]] = {"intent": INTENTS, "outcome": OUTCOMES, "sentiment": SENTIMENTS}
# The fields a rule condition may test: what is captured from the caller (call-level facts are labels).
_LABEL_FIELDS = frozenset({*LABELS, "summary", "call_id", "call_started_at", "call_direction", "caller_line"})
CONDITION_FIELDS: tuple[str, ...] = tuple(f for f in CANONICAL_FIELDS if f not in _LABEL_FIELDS)
Priority = Literal["low", "medium", "high"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldTest(_Data):
    """One captured field's clause: `present`, `{equals: V}` (case-insensitive for text) or `{at_least: N}`."""

    present: bool = False
    equals: Any = None
    at_least: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value == "present":
            return {"present": True}
        if isinstance(value, str):
            raise ValueError(f"{value!r}: write `present`, `{{equals: VALUE}}` or `{{at_least: NUMBER}}`")
        return value

    @model_validator(mode="after")
    def _one(self) -> FieldTest:
        given = [self.present, self.equals is not None, self.at_least is not None]
        if sum(given) != 1:
            raise ValueError("a field test is exactly one of `present`, `equals` or `at_least`")
        return self

    def holds(self, value: Any) -> bool:
        if value is None or value == "":
            return False
        if self.present:
            return True
        if self.at_least is not None:
            try:
                return float(value) >= self.at_least
            except (TypeError, ValueError):
                return False
        if isinstance(value, str) and isinstance(self.equals, str):
            return value.strip().casefold() == self.equals.strip().casefold()
        return bool(value == self.equals)

    def describe(self, name: str) -> str:
        if self.present:
            return f"the {name} was captured"
        if self.at_least is not None:
            return f"the {name} is at least {self.at_least:g}"
        return f"the {name} is {self.equals!r}"


class Condition(_Data):
    """A rule's `when`: labels and field tests, all of which must hold."""

    intent: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    sentiment: tuple[str, ...] = ()
    fields: dict[str, FieldTest] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, value: Any) -> Any:
        """The document writes `{intent: sales, amount: present}`: labels and fields side by side."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("`when` is a mapping of labels and captured fields")
        out: dict[str, Any] = {"fields": {}}
        for key, item in value.items():
            if key in LABELS:
                values = [item] if isinstance(item, str) else item
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise ValueError(f"{key}: give one value or a list of values")
                unknown = [v for v in values if v not in LABELS[key]]
                if unknown:
                    raise ValueError(
                        f"unknown {key} {', '.join(map(repr, unknown))}; one of {', '.join(LABELS[key])}"
                    )
                out[key] = tuple(values)
            elif key in CONDITION_FIELDS:
                out["fields"][key] = item
            else:
                raise ValueError(f"{key!r} is not a label ({', '.join(LABELS)}) or a captured field")
        return out

    def labels(self) -> dict[str, tuple[str, ...]]:
        return {
            k: v
            for k, v in (("intent", self.intent), ("outcome", self.outcome), ("sentiment", self.sentiment))
            if v
        }

    def describe(self) -> str:
        parts = [f"the {k} is {' or '.join(v)}" for k, v in self.labels().items()]
        parts += [test.describe(name) for name, test in self.fields.items()]
        return " and ".join(parts) if parts else "every call"


class ActionParams(_Data):
    """What the action is made of. Text may name captured fields: "Call back {full_name}"."""

    title: str | None = None
    duration_min: int = Field(default=30, ge=5, le=24 * 60)
    owner: str | None = None  # an alias of `owners`
    # A task with no callback time arranged is due this many hours after the call.
    due_in_hours: int = Field(default=24, ge=0, le=24 * 30)
    # Fixed, or from the caller's sentiment (frustrated: high, positive: low, else medium) when not given.
    priority: Priority | None = None
    queue: str | None = None  # a ticket's pipeline/queue, in the CRM's own terms
    pipeline: str | None = None  # a name of `pipelines` (advance_stage)
    stage: str | None = None  # one of that pipeline's stages
    allow_backwards: bool = False
    # Create no second one while an earlier one of this rule for the same person is still open.
    once_open: bool = False


class ActionRule(_Data):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")
    when: Condition = Field(default_factory=Condition)
    do: ActionKind
    params: ActionParams = Field(default_factory=ActionParams, alias="with")
    # A triggering label below this confidence is doubtful: the action waits for a person.
    min_confidence: float = Field(default=0.6, ge=0.0, le=1.0)

    @field_validator("do", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if value not in {k.value for k in ActionKind}:
            raise ValueError(f"unknown action {value!r}; one of {', '.join(k.value for k in ActionKind)}")
        return value


class Pipeline(_Data):
    """A deal pipeline: its id in the CRM and its stages in order (a deal never moves backwards)."""

    id: str
    stages: tuple[str, ...] = Field(min_length=1)


class ActionsBlock(_Data):
    owners: dict[str, str] = Field(default_factory=dict)
    pipelines: dict[str, Pipeline] = Field(default_factory=dict)
    rules: tuple[ActionRule, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> ActionsBlock:
        names = [r.name for r in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(
                f"rule name(s) used twice: {', '.join(twice)} (each rule's name keys its actions)"
            )
        return self


def check_rule(block: ActionsBlock, rule: ActionRule) -> tuple[str, str] | None:
    """(the key at fault, why) for a rule naming what the block does not declare; None when it is sound."""
    p = rule.params
    if p.owner is not None and p.owner not in block.owners:
        known = ", ".join(block.owners) or "none declared under actions.owners"
        return "with.owner", f"unknown owner {p.owner!r}; known: {known}"
    if rule.do is ActionKind.HANDOFF and p.owner is None:
        return "with.owner", "a handoff needs the owner to hand the caller to"
    if rule.do is ActionKind.ADVANCE_STAGE:
        if p.stage is None:
            return "with.stage", "advance_stage needs the stage to move the deal to"
        name = p.pipeline or (next(iter(block.pipelines)) if len(block.pipelines) == 1 else None)
        if name is None or name not in block.pipelines:
            known = ", ".join(block.pipelines) or "none declared under actions.pipelines"
            return "with.pipeline", f"unknown pipeline {p.pipeline!r}; known: {known}"
        if p.stage not in block.pipelines[name].stages:
            stages = ", ".join(block.pipelines[name].stages)
            return "with.stage", f"unknown stage {p.stage!r} of pipeline {name!r}; its stages: {stages}"
    elif p.stage is not None or p.pipeline is not None:
        return "with.stage", f"only advance_stage moves a deal; {rule.do.value} takes no stage"
    return None


def pipeline_of(block: ActionsBlock, rule: ActionRule) -> Pipeline | None:
    if rule.do is not ActionKind.ADVANCE_STAGE:
        return None
    name = rule.params.pipeline or next(iter(block.pipelines), None)
    return block.pipelines.get(name) if name else None


def explain_rule(block: ActionsBlock, rule: ActionRule) -> str:
    """One sentence a person can check against what they meant."""
    p = rule.params
    owner = f" for {p.owner} ({block.owners[p.owner]})" if p.owner and p.owner in block.owners else ""
    title = f" {p.title!r}" if p.title else ""
    match rule.do:
        case ActionKind.BOOK_MEETING:
            what = f"book a {p.duration_min}-minute meeting{title}{owner} at the time the call arranged"
        case ActionKind.CREATE_TASK:
            what = f"create a task{title}{owner} due at the callback time (else {p.due_in_hours} h after the call)"
        case ActionKind.OPEN_TICKET:
            queue = f" in queue {p.queue!r}" if p.queue else ""
            prio = f"priority {p.priority}" if p.priority else "priority from the caller's sentiment"
            what = f"open a ticket{title}{queue}{owner}, {prio}"
        case ActionKind.ADVANCE_STAGE:
            back = "even backwards" if p.allow_backwards else "never backwards"
            what = f"move the call's deal to stage {p.stage!r} ({back})"
        case ActionKind.HANDOFF:
            what = f"hand the caller to {p.owner}{owner.removeprefix(f' for {p.owner}')} with a task{title}"
        case ActionKind.LOG_CALL:
            what = (
                "log the call as a call activity on the person (and deal) with a short summary and its trace"
            )
    once = ", unless one of this rule is still open for the caller" if p.once_open else ""
    when = f"when {rule.when.describe()}" if rule.when.labels() or rule.when.fields else "for every call"
    return f"{rule.name}: {when}, {what}{once}."
