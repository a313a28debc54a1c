"""The typed data of one call's delivery, passed between the pipeline's steps and recorded by the ledger.

The prepared call (its plans), each field's decided write, what goes to review, and the outcome of an
attempt are pydantic models. They are dumped to JSON only at the durable-execution checkpoints (a step's
inputs and output) and validated back on the other side, so no step reads another's output by string keys.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from callsync.actions.plan import ActionRun, PlannedAction

# Evidence travels as the JSON of `models.Evidence` (turn, start, end, ...): it is stored, never read here.
EvidenceJSON = dict[str, Any]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Status(StrEnum):
    """Where a step, an attempt or a whole call's sync ended."""

    READY = "ready"  # prepared: the plan can be written
    CONFIRMED = "confirmed"  # written and read back
    # Accepted (2xx) by a target that keeps nothing to read back (a webhook): delivered, never confirmed.
    DELIVERED = "delivered"
    REVIEW = "review"  # a person must decide first
    RETRY = "retry"  # failed in a way another attempt may fix
    RATE_LIMITED = "rate_limited"  # the CRM said wait `delay` seconds
    PERMANENT = "permanent"  # retrying cannot help
    DEAD_LETTER = "dead_letter"  # gave up: kept whole, replayable


class PlannedField(_Data):
    canonical: str | None
    value: Any
    confidence: float
    policy: str
    evidence: list[EvidenceJSON] = Field(default_factory=list)


class HeldValue(_Data):
    """A value not written because its confidence or grounding was too weak: it waits for review."""

    field: str
    canonical: str | None
    value: Any
    confidence: float | None
    reason: str


class PlannedIdentity(_Data):
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    # Further phones the record may be found by (the caller's line beside a different spoken number): each
    # is searched, and what they find joins the phone matches.
    other_phones: list[str] = Field(default_factory=list)

    def link_keys(self) -> list[str]:
        """The identity-link keys of this caller: the email, then every phone."""
        keys = [f"email:{self.email}"] if self.email else []
        return keys + [f"phone:{p}" for p in dict.fromkeys([self.phone, *self.other_phones]) if p]


class ObjectPlanData(_Data):
    """One CRM object of a call's plan (structure/plan.py), as the write steps need it."""

    object: str
    crm_object: str
    fields: dict[str, PlannedField] = Field(default_factory=dict)
    held: list[HeldValue] = Field(default_factory=list)
    identity: PlannedIdentity = Field(default_factory=PlannedIdentity)
    defaults: dict[str, Any] = Field(default_factory=dict)
    missing_required: list[str] = Field(default_factory=list)


class WaitingObject(_Data):
    object: str
    reason: str


class ReviewRequest(_Data):
    """Why a whole call (or one of its objects) waits for a person."""

    kind: str
    reason: str
    candidates: list[str] = Field(default_factory=list)


class SuppliedIdentity(_Data):
    """What a reviewer supplied for a call that had nothing to match on: its email and/or phone."""

    email: str | None = None
    phone: str | None = None
    reviewer: str | None = None


class PreparedCall(_Data):
    status: Status
    plan: ObjectPlanData | None = None
    # Objects created and linked after the contact (companies, deals), in order.
    related: list[ObjectPlanData] = Field(default_factory=list)
    links: list[tuple[str, str]] = Field(default_factory=list)
    waiting: list[WaitingObject] = Field(default_factory=list)
    observed_at: datetime | None = None
    integration_version: str = ""
    review: ReviewRequest | None = None
    error: str | None = None
    # A reviewer's answer to an identity conflict: this call belongs to that record.
    forced_record: str | None = None
    # The workflow actions the call triggers (actions/plan.py), run once its records are confirmed.
    actions: list[PlannedAction] = Field(default_factory=list)


class FieldWrite(_Data):
    """One field a write sets, and why: the ledger row it becomes once confirmed."""

    old: Any = None
    new: Any
    decision: str
    canonical: str | None = None
    policy: str
    confidence: float | None = None
    evidence: list[EvidenceJSON] = Field(default_factory=list)


class ReviewProposal(_Data):
    """A change a policy or a check did not make on its own: a review item."""

    kind: str = "protected_field"
    field: str | None
    proposed: Any
    current: Any = None
    reason: str
    canonical: str | None = None
    policy: str | None = None
    confidence: float | None = None
    evidence: list[EvidenceJSON] = Field(default_factory=list)
    candidates: list[str] = Field(default_factory=list)


class RecordLink(_Data):
    object_type: str
    record_id: str


class Outcome(_Data):
    """What one attempt (or a whole call's delivery) came to. Which fields are set depends on `status`:
    confirmed → the record, its writes and reviews; review → `review`; retry/rate_limited/permanent/
    dead_letter → `error` (and `delay`, `outage`, the attempt counts)."""

    status: Status
    object: str | None = None  # the mapped object (related objects)
    object_type: str | None = None
    record_id: str | None = None
    created: bool = False
    request_id: str | None = None
    sent_at: datetime | None = None
    acknowledged_at: datetime | None = None
    confirmed_at: datetime | None = None
    writes: dict[str, FieldWrite] = Field(default_factory=dict)
    reviews: list[ReviewProposal] = Field(default_factory=list)
    link_keys: list[str] = Field(default_factory=list)
    linked_to: list[RecordLink] = Field(default_factory=list)
    related: list[Outcome] = Field(default_factory=list)
    review: ReviewRequest | None = None
    error: str | None = None
    # A retry caused by the CRM not answering or failing (5xx, timeout), not by waiting for it to catch up.
    outage: bool = False
    delay: float | None = None
    attempts: int = 0
    outage_retries: int = 0
    errors: list[str] = Field(default_factory=list)
    # Fields the CRM does not have: dead-lettered on their own while the others were written.
    rejected_fields: dict[str, str] = Field(default_factory=dict)
    # What became of each workflow action of the call (docs/actions.md).
    actions: list[ActionRun] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in (Status.CONFIRMED, Status.DELIVERED, Status.REVIEW)


class CallDocument(_Data):
    """The whole call as one document, for a target that takes each call at once (a webhook): the caller's
    identity, every planned object with its fields (value, confidence, policy, evidence references: turn
    and character span, never the sentence), the values held back for review, the links between the objects
    and what could not be planned."""

    call_id: str
    tenant: str
    observed_at: datetime | None
    integration_version: str
    identity: PlannedIdentity
    objects: dict[str, ObjectPlanData]
    links: list[tuple[str, str]] = Field(default_factory=list)
    waiting: list[WaitingObject] = Field(default_factory=list)
    # The workflow actions the mapping's rules planned for this call, for the receiver to carry out.
    actions: list[PlannedAction] = Field(default_factory=list)

    @staticmethod
    def of(tenant: str, call_id: str, prepared: PreparedCall) -> CallDocument:
        plans = [p for p in (prepared.plan, *prepared.related) if p is not None]
        return CallDocument(
            call_id=call_id,
            tenant=tenant,
            observed_at=prepared.observed_at,
            integration_version=prepared.integration_version,
            identity=prepared.plan.identity if prepared.plan else PlannedIdentity(),
            objects={p.object: p for p in plans},
            links=prepared.links,
            waiting=prepared.waiting,
            actions=prepared.actions,
        )


class ReviewTarget(_Data):
    """The field a reviewer's decision writes: the item, its record and the call the value was heard in."""

    id: int
    tenant: str
    crm: str
    call_id: str
    object_type: str
    record_id: str
    field: str
    reason: str
    evidence: list[EvidenceJSON] = Field(default_factory=list)
