"""The one small interface the delivery engine uses to talk to any CRM.

It is shaped to fit all five data models: the object type is always explicit (Lead vs Contact in
Salesforce and Zoho, person/organization/deal in Pipedrive, contacts in HubSpot), an identity lookup may
search several object types at once, and account scoping (a GoHighLevel location, a Salesforce instance)
is the adapter's configuration, not the engine's concern.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


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


class CRMError(Exception):
    """Base of everything an adapter raises; the engine decides what to do from the subclass."""

    def __init__(self, message: str, *, request_id: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.status = status


class RateLimited(CRMError):
    """The CRM said slow down. `retry_after` is in seconds (from Retry-After or the vendor's policy)."""

    def __init__(self, message: str, *, retry_after: float, policy: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.policy = policy


class TransientError(CRMError):
    """Failed before the CRM could have acted (5xx answer, connection refused): safe to retry."""


class NotYetConsistent(TransientError):
    """The CRM answers, but does not show a write yet (search lag, a partial write to complete): retry,
    and count the attempt, unlike a CRM that does not answer at all."""


class AmbiguousWriteError(CRMError):
    """The request may have been applied (timeout, reset after sending): search before any re-create."""


class ConflictError(CRMError):
    """A unique key already belongs to another record; `existing_id` names it when the CRM says."""

    def __init__(self, message: str, *, existing_id: str | None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.existing_id = existing_id


class PermanentError(CRMError):
    """The CRM refused the request as it is (validation, permissions): retrying cannot help."""


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
