"""The one small interface the delivery engine uses to talk to any CRM.

It is shaped to fit every CRM's data model: the object type is always explicit (a lead vs a contact,
person/organization/deal), an identity lookup may search several object types at once, and account
scoping (a location, an org instance) is the adapter's configuration, not the engine's concern.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

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
    "AmbiguousWriteError",
    "AuthenticationError",
    "BudgetExhausted",
    "CRMAdapter",
    "CRMError",
    "CRMRecord",
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
