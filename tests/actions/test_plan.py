"""Which actions a call triggers and which wait: the three-way condition (property-tested) and the doubt
check on labels, fields and the action's own inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callsync.actions.plan import ActionState, Verdict, evaluate, plan_actions
from callsync.actions.rules import LABELS, ActionsBlock, Condition
from callsync.models import Extraction, FieldStatus, FieldValue, Label

CALLED = datetime(2026, 11, 20, 21, 7, tzinfo=UTC)


def fv(value: Any, status: FieldStatus = FieldStatus.ACCEPTED, reason: str | None = None) -> FieldValue:
    return FieldValue(value, 0.9 if status is FieldStatus.ACCEPTED else 0.6, (), "test", status, reason)


def extraction(intent: str = "sales", outcome: str = "resolved", sentiment: str = "neutral",
               confidence: float = 0.8, **fields: FieldValue) -> Extraction:  # fmt: skip
    return Extraction("c1", dict(fields), Label(intent, confidence), Label(outcome, confidence),
                      Label(sentiment, confidence))  # fmt: skip


labels = st.fixed_dictionaries(
    {k: st.builds(Label, st.sampled_from(v), st.floats(0, 1)) for k, v in LABELS.items()}
)
statuses = st.sampled_from(list(FieldStatus))
field_values = st.dictionaries(
    st.sampled_from(["amount", "email", "company", "date"]),
    st.builds(lambda v, s: FieldValue(v, 0.7, (), "t", s), st.one_of(st.integers(0, 100_000), st.text(max_size=8)), statuses),
    max_size=4,
)  # fmt: skip
conditions = st.builds(
    lambda i, o, f: Condition.model_validate({**({"intent": i} if i else {}), **({"outcome": o} if o else {}), **f}),
    st.lists(st.sampled_from(LABELS["intent"]), max_size=2, unique=True),
    st.lists(st.sampled_from(LABELS["outcome"]), max_size=2, unique=True),
    st.dictionaries(st.sampled_from(["amount", "company"]),
                    st.sampled_from(["present", {"at_least": 1000}, {"equals": "Northwind"}]), max_size=2),
)  # fmt: skip


@settings(deadline=None)  # the first example builds pydantic validators: no per-example deadline
@given(conditions, labels, field_values, st.floats(0, 1))
def test_a_doubt_only_ever_holds_back_never_adds(cond: Condition, lab: dict[str, Label], fields: dict[str, FieldValue],
                                                 threshold: float) -> None:  # fmt: skip
    verdict, doubts = evaluate(cond, lab, fields, threshold)
    # With everything confirmed by a person, the same condition fires exactly when it was fires-or-doubtful.
    sure_labels = {k: Label(v.value, 1.0) for k, v in lab.items()}
    sure_fields = {k: FieldValue(v.value, 1.0, (), "t", FieldStatus.ACCEPTED) if v.status is FieldStatus.NEEDS_REVIEW else v
                   for k, v in fields.items()}  # fmt: skip
    sure, _ = evaluate(cond, sure_labels, sure_fields, threshold)
    assert (verdict is not Verdict.NO) == (sure is Verdict.FIRES)
    assert (verdict is Verdict.DOUBTFUL) == bool(doubts)


@settings(deadline=None)  # the first example builds pydantic validators: no per-example deadline
@given(conditions, labels, field_values)
def test_with_no_threshold_and_nothing_in_review_nothing_is_doubtful(cond: Condition, lab: dict[str, Label],
                                                                    fields: dict[str, FieldValue]) -> None:  # fmt: skip
    accepted = {k: v for k, v in fields.items() if v.status is FieldStatus.ACCEPTED}
    verdict, _ = evaluate(cond, lab, accepted, 0.0)
    assert verdict is not Verdict.DOUBTFUL


@settings(deadline=None)  # the first example builds pydantic validators: no per-example deadline
@given(labels, field_values)
def test_an_empty_condition_holds_for_every_call(
    lab: dict[str, Label], fields: dict[str, FieldValue]
) -> None:
    assert evaluate(Condition(), lab, fields, 1.0) == (Verdict.FIRES, ())


def block(rules: list[dict[str, Any]]) -> ActionsBlock:
    return ActionsBlock.model_validate({"owners": {"cs": "7"}, "rules": rules})


def test_a_field_in_review_makes_the_action_wait() -> None:
    planned = plan_actions(
        extraction(amount=fv(50000, FieldStatus.NEEDS_REVIEW, "low_confidence")),
        block([{"name": "q", "when": {"amount": "present"}, "do": "open_ticket"}]), called_at=CALLED,
    )  # fmt: skip
    assert planned[0].state is ActionState.REVIEW and "amount 50000 is in review" in planned[0].doubts[0]


def test_a_label_under_the_rules_confidence_makes_the_action_wait() -> None:
    (planned,) = plan_actions(
        extraction(intent="support", confidence=0.4),
        block([{"name": "t", "when": {"intent": "support"}, "do": "open_ticket", "min_confidence": 0.6}]),
        called_at=CALLED,
    )
    assert (
        planned.state is ActionState.REVIEW
        and planned.question
        and planned.question.startswith("open a ticket")
    )


def test_a_meeting_with_no_time_arranged_waits_and_one_with_a_time_is_ready_in_utc() -> None:
    rules = block([{"name": "b", "when": {"outcome": "appointment_booked"}, "do": "book_meeting"}])
    (no_time,) = plan_actions(extraction(outcome="appointment_booked"), rules, called_at=CALLED)
    assert no_time.state is ActionState.REVIEW and "no meeting time" in no_time.doubts[0]
    (booked,) = plan_actions(
        extraction(outcome="appointment_booked", date=fv("2026-11-24"), time=fv("15:00")), rules,
        called_at=CALLED, timezone="America/New_York",
    )  # fmt: skip
    assert booked.state is ActionState.READY and booked.due_at == datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def test_a_task_without_a_callback_time_is_due_after_its_hours_and_priority_follows_sentiment() -> None:
    rules = block([{"name": "f", "when": {"sentiment": "frustrated"}, "do": "create_task",
                    "with": {"owner": "cs", "due_in_hours": 4}}])  # fmt: skip
    (task,) = plan_actions(extraction(sentiment="frustrated"), rules, called_at=CALLED)
    assert task.due_at == datetime(2026, 11, 21, 1, 7, tzinfo=UTC)
    assert (task.priority, task.owner_id, task.state) == ("high", "7", ActionState.READY)


def test_a_summary_names_contact_values_but_never_repeats_them() -> None:
    (log,) = plan_actions(extraction(email=fv("dana@northwind.com"), amount=fv(5000)),
                          block([{"name": "l", "do": "log_call"}]), called_at=CALLED)  # fmt: skip
    text = "\n".join(log.summary)
    assert "email" in text and "dana@northwind.com" not in text and "amount 5000" in text
