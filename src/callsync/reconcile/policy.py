"""Per-field conflict policies: pure decisions of what a call may do to one CRM field.

The rule no policy overrides: a value a person set or verified in the CRM is never overwritten by a call.
callsync knows a value is its own when the CRM still holds exactly the value callsync last wrote there
(per the ledger); anything else present in the CRM was put there by someone else, and a reviewer's approval
marks a value verified. A proposal against such a value goes to review instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ConflictPolicy(StrEnum):
    CALL_WINS = "call_wins"
    CRM_WINS = "crm_wins"
    FILL_IF_EMPTY = "fill_if_empty"
    NEWEST_WINS = "newest_wins"
    HIGHER_CONFIDENCE_WINS = "higher_confidence_wins"
    APPEND_UNIQUE = "append_unique"


POLICY_RULES: dict[ConflictPolicy, str] = {
    ConflictPolicy.CALL_WINS: "the latest call's value replaces the value callsync wrote before",
    ConflictPolicy.CRM_WINS: "the call sets the value only when it creates the record; "
    "an existing record's value is never changed",
    ConflictPolicy.FILL_IF_EMPTY: "the call writes the value only while the CRM field is empty",
    ConflictPolicy.NEWEST_WINS: "the value from the most recent call replaces callsync's earlier value; "
    "an older call processed late never replaces a newer one",
    ConflictPolicy.HIGHER_CONFIDENCE_WINS: "the call's value replaces callsync's earlier value only when "
    "it was extracted with higher confidence",
    ConflictPolicy.APPEND_UNIQUE: "the call's value is appended to the field unless it is already there",
}

PROTECTED_RULE = (
    "a value a person set or verified in the CRM is never overwritten by a call; "
    "the proposed change goes to the review queue"
)


class Action(StrEnum):
    WRITE = "write"
    KEEP = "keep"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class FieldState:
    """What is known about one CRM field before the write."""

    crm_value: Any
    record_exists: bool = True
    last_written: Any = None  # the value callsync last wrote here (ledger), None if never
    last_written_at: datetime | None = None
    last_confidence: float | None = None
    human_verified: bool = False


@dataclass(frozen=True, slots=True)
class Proposal:
    value: Any
    confidence: float
    observed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    value: Any
    reason: str


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def same_value(a: Any, b: Any) -> bool:
    """CRMs hand numbers back as strings and may change case; compare the way a person would."""
    if is_empty(a) and is_empty(b):
        return True
    if is_empty(a) or is_empty(b):
        return False
    return str(a).strip().casefold() == str(b).strip().casefold()


def is_protected(state: FieldState) -> bool:
    """True when the CRM holds a value that someone other than callsync set, or a reviewer verified."""
    if is_empty(state.crm_value):
        return False
    return state.human_verified or not same_value(state.crm_value, state.last_written)


def decide(policy: ConflictPolicy, state: FieldState, proposal: Proposal) -> Decision:
    if not state.record_exists:
        return Decision(Action.WRITE, proposal.value, "new record")
    if same_value(state.crm_value, proposal.value):
        return Decision(Action.KEEP, state.crm_value, "CRM already holds this value")
    if policy is ConflictPolicy.APPEND_UNIQUE:
        return _append_unique(state, proposal)
    if policy is ConflictPolicy.CRM_WINS:
        return Decision(Action.KEEP, state.crm_value, "crm_wins: existing record is left as it is")
    if is_empty(state.crm_value):
        return Decision(Action.WRITE, proposal.value, f"{policy.value}: CRM field is empty")
    if policy is ConflictPolicy.FILL_IF_EMPTY:
        return Decision(Action.KEEP, state.crm_value, "fill_if_empty: CRM field already has a value")
    # Only a change the policy would make can meet the protection rule.
    if is_protected(state):
        return Decision(Action.REVIEW, proposal.value, "protected: value set or verified by a person")
    return _replace_own_value(policy, state, proposal)


def _replace_own_value(policy: ConflictPolicy, state: FieldState, proposal: Proposal) -> Decision:
    """The CRM holds callsync's own earlier value; the policy says whether this call replaces it."""
    if policy is ConflictPolicy.CALL_WINS:
        return Decision(Action.WRITE, proposal.value, "call_wins: replaces callsync's earlier value")
    if policy is ConflictPolicy.NEWEST_WINS:
        newer = (
            state.last_written_at is None
            or proposal.observed_at is None
            or proposal.observed_at >= state.last_written_at
        )
        if newer:
            return Decision(Action.WRITE, proposal.value, "newest_wins: this call is the most recent")
        return Decision(Action.KEEP, state.crm_value, "newest_wins: a newer call set the current value")
    if policy is ConflictPolicy.HIGHER_CONFIDENCE_WINS:
        if state.last_confidence is None or proposal.confidence > state.last_confidence:
            return Decision(Action.WRITE, proposal.value, "higher_confidence_wins: more confident")
        return Decision(Action.KEEP, state.crm_value, "higher_confidence_wins: current value is as confident")
    raise ValueError(f"{policy.value} does not replace values")  # fill_if_empty and crm_wins returned above


def _append_unique(state: FieldState, proposal: Proposal) -> Decision:
    current = "" if is_empty(state.crm_value) else str(state.crm_value)
    addition = str(proposal.value).strip()
    parts = [p.strip().casefold() for p in current.split(";")]
    if addition.casefold() in parts:
        return Decision(Action.KEEP, state.crm_value, "append_unique: value already present")
    merged = f"{current}; {addition}" if current else addition
    return Decision(Action.WRITE, merged, "append_unique: appended")
