"""Each policy does what its one-sentence rule says, and none overwrites a value a person set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from callsync.reconcile.policy import (
    POLICY_RULES,
    Action,
    ConflictPolicy,
    FieldState,
    Proposal,
    decide,
    is_protected,
    same_value,
)

T0 = datetime(2026, 11, 20, tzinfo=UTC)
values = st.one_of(st.none(), st.sampled_from(["", "Acme", "acme", "Northwind", "Contoso", "42", "x; y"]))


def test_every_policy_has_a_one_sentence_rule() -> None:
    assert set(POLICY_RULES) == set(ConflictPolicy)


def test_new_record_takes_the_call_value_under_every_policy() -> None:
    for policy in ConflictPolicy:
        d = decide(policy, FieldState(crm_value=None, record_exists=False), Proposal("Acme", 0.9))
        assert (d.action, d.value) == (Action.WRITE, "Acme")


def test_call_wins_replaces_callsyncs_own_earlier_value() -> None:
    state = FieldState(crm_value="Northwind", last_written="Northwind")
    assert decide(ConflictPolicy.CALL_WINS, state, Proposal("Contoso", 0.9)).action is Action.WRITE


def test_call_wins_never_replaces_a_value_a_person_typed() -> None:
    state = FieldState(crm_value="Northwind Traders", last_written="Northwind")
    d = decide(ConflictPolicy.CALL_WINS, state, Proposal("Contoso", 0.99))
    assert d.action is Action.REVIEW


def test_reviewer_verified_value_is_protected_even_if_callsync_wrote_it() -> None:
    state = FieldState(crm_value="Northwind", last_written="Northwind", human_verified=True)
    assert decide(ConflictPolicy.CALL_WINS, state, Proposal("Contoso", 0.99)).action is Action.REVIEW


def test_fill_if_empty_fills_only_empty_fields() -> None:
    assert (
        decide(ConflictPolicy.FILL_IF_EMPTY, FieldState(crm_value=""), Proposal("A", 0.9)).action
        is Action.WRITE
    )
    own = FieldState(crm_value="B", last_written="B")
    assert decide(ConflictPolicy.FILL_IF_EMPTY, own, Proposal("A", 0.9)).action is Action.KEEP


def test_crm_wins_leaves_an_existing_record_alone_even_when_empty() -> None:
    assert (
        decide(ConflictPolicy.CRM_WINS, FieldState(crm_value=None), Proposal("A", 0.9)).action is Action.KEEP
    )


def test_newest_wins_ignores_an_older_call_processed_late() -> None:
    state = FieldState(crm_value="B", last_written="B", last_written_at=T0)
    assert (
        decide(ConflictPolicy.NEWEST_WINS, state, Proposal("A", 0.9, T0 - timedelta(hours=1))).action
        is Action.KEEP
    )
    assert (
        decide(ConflictPolicy.NEWEST_WINS, state, Proposal("A", 0.9, T0 + timedelta(hours=1))).action
        is Action.WRITE
    )


def test_higher_confidence_wins_needs_strictly_more_confidence() -> None:
    state = FieldState(crm_value="B", last_written="B", last_confidence=0.8)
    assert decide(ConflictPolicy.HIGHER_CONFIDENCE_WINS, state, Proposal("A", 0.8)).action is Action.KEEP
    assert decide(ConflictPolicy.HIGHER_CONFIDENCE_WINS, state, Proposal("A", 0.95)).action is Action.WRITE


def test_append_unique_appends_once_and_keeps_existing_text() -> None:
    state = FieldState(crm_value="called about pricing")
    d = decide(ConflictPolicy.APPEND_UNIQUE, state, Proposal("wants a demo", 0.9))
    assert d == d.__class__(Action.WRITE, "called about pricing; wants a demo", d.reason)
    again = FieldState(crm_value=d.value)
    assert decide(ConflictPolicy.APPEND_UNIQUE, again, Proposal("Wants a demo", 0.9)).action is Action.KEEP


@given(
    policy=st.sampled_from(list(ConflictPolicy)),
    crm_value=values,
    last_written=values,
    verified=st.booleans(),
    proposed=st.sampled_from(["Acme", "Contoso", "Northwind"]),
    confidence=st.floats(0, 1),
    last_conf=st.one_of(st.none(), st.floats(0, 1)),
)
def test_no_policy_ever_overwrites_a_human_set_value(
    policy: ConflictPolicy,
    crm_value: str | None,
    last_written: str | None,
    verified: bool,
    proposed: str,
    confidence: float,
    last_conf: float | None,
) -> None:
    state = FieldState(
        crm_value=crm_value, last_written=last_written, human_verified=verified, last_confidence=last_conf
    )
    d = decide(policy, state, Proposal(proposed, confidence, T0))
    if is_protected(state) and d.action is Action.WRITE:
        # Only append_unique may write to a protected field, and only by keeping the existing text.
        assert policy is ConflictPolicy.APPEND_UNIQUE
        assert str(d.value).startswith(str(crm_value))
    if d.action is Action.WRITE and policy in (ConflictPolicy.FILL_IF_EMPTY, ConflictPolicy.CRM_WINS):
        assert not crm_value or not crm_value.strip()
    if d.action is Action.KEEP:
        assert d.value == crm_value


def test_same_value_compares_like_a_person() -> None:
    assert same_value("ACME ", "acme")
    assert same_value(42, "42")
    assert same_value(None, "")
    assert not same_value("a", None)
