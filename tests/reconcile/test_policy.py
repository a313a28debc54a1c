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


def rule_oracle(policy: ConflictPolicy, state: FieldState, proposal: Proposal) -> Action:
    """Each policy's one-sentence rule (POLICY_RULES), written independently of `decide`."""
    crm, ours = state.crm_value, state.last_written
    empty = crm is None or str(crm).strip() == ""
    if not state.record_exists:
        return Action.WRITE
    if not empty and str(crm).strip().casefold() == str(proposal.value).strip().casefold():
        return Action.KEEP  # nothing to change
    if policy is ConflictPolicy.APPEND_UNIQUE:
        return Action.WRITE  # "appended to the field unless it is already there"
    if policy is ConflictPolicy.CRM_WINS:
        return Action.KEEP  # "an existing record's value is never changed"
    if empty:
        return Action.WRITE  # every other rule fills an empty field
    if policy is ConflictPolicy.FILL_IF_EMPTY:
        return Action.KEEP  # "only while the CRM field is empty": no change proposed, nothing to review
    set_by_person = (
        state.human_verified or ours is None or str(crm).strip().casefold() != str(ours).strip().casefold()
    )
    if set_by_person:
        return Action.REVIEW  # the rule no policy overrides
    if policy is ConflictPolicy.CALL_WINS:
        return Action.WRITE
    if policy is ConflictPolicy.NEWEST_WINS:
        newer = (
            state.last_written_at is None
            or proposal.observed_at is None
            or proposal.observed_at >= state.last_written_at
        )
        return Action.WRITE if newer else Action.KEEP
    more_confident = state.last_confidence is None or proposal.confidence > state.last_confidence
    return Action.WRITE if more_confident else Action.KEEP


@given(
    policy=st.sampled_from(list(ConflictPolicy)),
    exists=st.booleans(),
    crm_value=values,
    last_written=values,
    verified=st.booleans(),
    proposed=st.sampled_from(["Acme", "acme ", "Contoso", "Northwind"]),
    confidence=st.floats(0, 1),
    last_conf=st.one_of(st.none(), st.floats(0, 1)),
    hours=st.one_of(st.none(), st.integers(-48, 48)),
)
def test_every_policy_decides_as_its_one_sentence_rule_says(
    policy: ConflictPolicy,
    exists: bool,
    crm_value: str | None,
    last_written: str | None,
    verified: bool,
    proposed: str,
    confidence: float,
    last_conf: float | None,
    hours: int | None,
) -> None:
    state = FieldState(
        crm_value=crm_value if exists else None,
        record_exists=exists,
        last_written=last_written,
        last_written_at=T0,
        last_confidence=last_conf,
        human_verified=verified,
    )
    observed = None if hours is None else T0 + timedelta(hours=hours)
    proposal = Proposal(proposed, confidence, observed)
    assert decide(policy, state, proposal).action is rule_oracle(policy, state, proposal)
