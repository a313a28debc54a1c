"""The one small interface the delivery engine uses to talk to any CRM.

It is shaped to fit every CRM's data model: the object type is always explicit (a lead vs a contact,
person/organization/deal), an identity lookup may search several object types at once, and account
scoping (a location, an org instance) is the adapter's configuration, not the engine's concern.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from callsync.actions.rules import ActionKind

# The error tree lives in errors.py; re-exported here for the modules that import it from the protocol.
from callsync.crm.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    BudgetExhausted,
    ConflictError,
    CRMError,
    FieldError,
    InvalidValueError,
    NotYetConsistent,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownFieldError,
)

__all__ = [
    "ActionAdapter",
    "ActionKind",
    "ActionOutcome",
    "ActionRequest",
    "ActionResult",
    "AmbiguousWriteError",
    "AuthenticationError",
    "BudgetExhausted",
    "CRMAdapter",
    "CRMError",
    "CRMRecord",
    "CallFacts",
    "ConflictError",
    "FieldError",
    "IdentityCandidates",
    "IdentityQuery",
    "InvalidValueError",
    "NotYetConsistent",
    "PermanentError",
    "RateLimited",
    "RecordRef",
    "TransientError",
    "UnknownFieldError",
    "WriteRequest",
    "WriteResult",
    "stage_move",
]


@dataclass(frozen=True, slots=True)
class RecordRef:
    object_type: str
    record_id: str


@dataclass(frozen=True, slots=True)
class CRMRecord:
    ref: RecordRef
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IdentityQuery:
    """Find the records a call may belong to. Each key is searched on its own so conflicts show."""

    object_types: tuple[str, ...]
    email: str | None = None
    phone: str | None = None
    # Records stamped with this call id were created by an earlier attempt of this very call.
    origin_call_id: str | None = None
    stamp_field: str | None = None
    fields: tuple[str, ...] = ()
    # A full name, only to look for *possible* duplicates: a name never matches a record on its own.
    # Adapters that cannot search by name return no `by_name` candidates.
    name: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityCandidates:
    by_email: tuple[CRMRecord, ...] = ()
    by_phone: tuple[CRMRecord, ...] = ()
    by_origin: tuple[CRMRecord, ...] = ()
    by_name: tuple[CRMRecord, ...] = ()

    @staticmethod
    def from_hits(found: dict[str, list[CRMRecord]]) -> IdentityCandidates:
        """Candidates from an adapter's hits per key ("email", "phone", "origin", "name"), each record once
        per key (several queries may return the same record)."""
        unique = {k: tuple({r.ref.record_id: r for r in v}.values()) for k, v in found.items()}
        return IdentityCandidates(
            by_email=unique.get("email", ()),
            by_phone=unique.get("phone", ()),
            by_origin=unique.get("origin", ()),
            by_name=unique.get("name", ()),
        )


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """Create (record_id None) or update one record. `fields` are CRM field names."""

    object_type: str
    fields: dict[str, Any]
    record_id: str | None = None
    idempotency_key: str = ""
    associations: tuple[RecordRef, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class WriteResult:
    ref: RecordRef
    created: bool
    request_id: str | None = None


@runtime_checkable
class CRMAdapter(Protocol):
    name: str

    async def ensure_schema(self, object_type: str, custom_fields: Sequence[str]) -> None:
        """Make sure callsync's own fields exist on the object. The first is the origin-call stamp: one value
        per record, so the CRM can hold it unique and read by it exactly (no search lag)."""
        ...

    async def find(self, query: IdentityQuery) -> IdentityCandidates: ...

    async def read(self, ref: RecordRef, fields: Sequence[str]) -> CRMRecord | None: ...

    async def write(self, request: WriteRequest) -> WriteResult: ...

    async def write_batch(self, requests: Sequence[WriteRequest]) -> list[WriteResult | CRMError]:
        """Per-request results in order; an adapter without batch endpoints loops over `write`."""
        ...

    async def associate(self, source: RecordRef, target: RecordRef) -> None: ...

    async def aclose(self) -> None: ...


# -- workflow actions (docs/actions.md) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What a call activity records about the call: never its transcript."""

    call_id: str
    direction: str  # inbound | outbound
    started_at: datetime | None
    duration_s: int | None
    outcome: str
    from_number: str | None = None
    to_number: str | None = None
    trace: str = ""  # where to see how the call was synced (a `callsync trace` command or dashboard URL)


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One action on one CRM's own objects. `stamp` is its idempotency key (one per call and rule): the
    object created carries it, so a retry after a lost answer finds the object instead of making another."""

    kind: ActionKind
    stamp: str
    person: RecordRef
    title: str
    body: str = ""
    deal: RecordRef | None = None
    due_at: datetime | None = None
    duration_min: int = 30
    owner_id: str | None = None
    priority: str | None = None  # low | medium | high
    queue: str | None = None
    pipeline_id: str | None = None
    stage: str | None = None
    stages: tuple[str, ...] = ()  # the pipeline's stages in order: a deal is never moved backwards ...
    allow_backwards: bool = False  # ... unless the rule says so
    # once_open: objects of the same rule an earlier call made for this person; one still open means no new one.
    open_candidates: tuple[RecordRef, ...] = ()
    call: CallFacts | None = None


class ActionOutcome(StrEnum):
    CREATED = "created"  # a new object, read back
    FOUND = "found"  # the object this stamp made before (an earlier attempt whose answer was lost)
    MOVED = "moved"  # a deal's stage or a person's owner changed, read back
    UNCHANGED = "unchanged"  # already so: nothing written
    HELD_BACK = "held_back"  # the stage would move backwards and the rule does not allow it
    ALREADY_OPEN = "already_open"  # once_open: an earlier one of this rule is still open


@dataclass(frozen=True, slots=True)
class ActionResult:
    outcome: ActionOutcome
    ref: RecordRef | None = None
    detail: str = ""
    request_id: str | None = None


@runtime_checkable
class ActionAdapter(Protocol):
    """An adapter whose CRM declares actions (`Capabilities.actions`) also has these two methods."""

    async def act(self, request: ActionRequest) -> ActionResult:
        """Do the action exactly once: find the object carrying `stamp` first, create it otherwise, and
        read it back. Raises the usual errors (AmbiguousWriteError: look with `find_action` before again)."""
        ...

    async def find_action(self, request: ActionRequest) -> RecordRef | None:
        """The object the action with this request's stamp created, if any (the request names the person
        too: a CRM with nothing to look a stamp up by lists the person's objects)."""
        ...


def stage_move(current: Any, request: ActionRequest) -> tuple[ActionOutcome, str] | None:
    """None: move the deal. Otherwise why not: already there, or it would go backwards (every CRM's rule)."""
    target = request.stage
    if current == target:
        return ActionOutcome.UNCHANGED, f"already at {target}"
    if request.allow_backwards:
        return None
    order = list(request.stages)
    if current is None or current == "":
        return None
    if current not in order:
        return ActionOutcome.HELD_BACK, f"its stage {current!r} is not in the rule's pipeline: not moved"
    if target in order and order.index(target) < order.index(current):
        return ActionOutcome.HELD_BACK, f"{current} → {target} would move it backwards"
    return None
