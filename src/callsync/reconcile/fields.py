"""Stage 5's per-field decisions for one record, as one pure call: what each field's policy says against the
CRM's current value and callsync's own history, what a person must decide, and what must still be sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callsync.delivery import FieldWrite, ObjectPlanData, PlannedField, ReviewProposal
from callsync.reconcile.policy import Action, ConflictPolicy, FieldState, Proposal, decide, same_value


@dataclass(frozen=True)
class LastWrite:
    """The last confirmed value callsync wrote to a field of a record, and whether a reviewer verified it."""

    value: Any
    observed_at: datetime | None
    confidence: float | None
    human_verified: bool


@dataclass(frozen=True)
class FieldDecisions:
    writes: dict[str, FieldWrite]
    reviews: list[ReviewProposal]


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _provenance(p: PlannedField) -> dict[str, Any]:
    return {"canonical": p.canonical, "policy": p.policy, "confidence": p.confidence, "evidence": p.evidence}


def new_record_writes(plan: ObjectPlanData) -> dict[str, FieldWrite]:
    """Every planned value, and the defaults of required fields, for a record this call creates."""
    writes = {
        f: FieldWrite(old=None, new=p.value, decision="new record", **_provenance(p))
        for f, p in plan.fields.items()
    }
    for f, default in plan.defaults.items():
        writes[f] = FieldWrite(
            old=None, new=default, decision="default for a required field", policy="default"
        )
    return writes


def decide_fields(
    planned: Mapping[str, PlannedField],
    crm_fields: Mapping[str, Any],
    history: Mapping[str, LastWrite],
    observed_at: datetime,
    own_intents: Mapping[str, FieldWrite] | None = None,
    lost_update: bool = False,
) -> FieldDecisions:
    """Apply each field's declared policy against the CRM's current value and callsync's own history.

    `lost_update`: an earlier attempt of this call updated the record but its answer was lost, so the fields
    it meant to write already hold the intended values and the policy sees "already there"; its recorded
    intents (`own_intents`) say what this call wrote and what was there before, and count as writes."""
    writes: dict[str, FieldWrite] = {}
    reviews: list[ReviewProposal] = []
    for crm_field, p in planned.items():
        last = history.get(crm_field)
        state = FieldState(
            crm_value=crm_fields.get(crm_field),
            record_exists=True,
            last_written=last.value if last else None,
            last_written_at=last.observed_at if last else None,
            last_confidence=last.confidence if last else None,
            human_verified=last.human_verified if last else False,
        )
        decision = decide(ConflictPolicy(p.policy), state, Proposal(p.value, p.confidence, observed_at))
        if decision.action is Action.WRITE:
            writes[crm_field] = FieldWrite(
                old=state.crm_value, new=decision.value, decision=decision.reason, **_provenance(p)
            )
        elif decision.action is Action.REVIEW:
            reviews.append(
                ReviewProposal(
                    field=crm_field,
                    proposed=p.value,
                    current=state.crm_value,
                    reason=decision.reason,
                    **_provenance(p),
                )
            )
    if lost_update:
        for f, intent in (own_intents or {}).items():
            if f not in writes and same_value(crm_fields.get(f), intent.new):
                writes[f] = intent
    return FieldDecisions(writes, reviews)


def still_to_write(
    writes: Mapping[str, FieldWrite], crm_fields: Mapping[str, Any], *, own: bool
) -> dict[str, Any]:
    """The values a write must still send. On a record this call created (`own`: an earlier attempt's
    answer was lost) only what did not land, still empty; a value since changed by someone else stays
    theirs. Elsewhere, every decided value the record does not hold yet."""
    if own:
        return {f: w.new for f, w in writes.items() if is_empty(crm_fields.get(f)) and not is_empty(w.new)}
    return {f: w.new for f, w in writes.items() if not same_value(crm_fields.get(f), w.new)}


def display_name(fields: Mapping[str, Any], name_fields: tuple[str, ...]) -> str:
    """A record's name as the mapping reads it: the values of the CRM fields mapped from the name (or, for
    a company, the company) joined in order."""
    return " ".join(str(fields[f]) for f in name_fields if fields.get(f))
