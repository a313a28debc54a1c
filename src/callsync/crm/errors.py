"""What an adapter raises, as a class tree: the pipeline decides what to do from the class alone.

Each class says what happened and what the delivery pipeline does about it. The tree:

```
CRMError
├── RateLimited                 wait `retry_after`, then retry (does not use up an attempt)
│   └── BudgetExhausted         the account's allowance for the window is spent (or down to its reserve)
├── TransientError              nothing was applied; retry with back-off
│   └── NotYetConsistent        the CRM answers but does not show a write yet; retry, counting the attempt
├── AmbiguousWriteError         a write may have been applied; search (by the stamp) before re-creating
├── ConflictError               a unique key belongs to another record (`existing_id`)
└── PermanentError              refused as it is; retrying cannot help: dead letter
    ├── AuthenticationError     the token is missing, expired or revoked
    └── FieldError              one or more fields were refused (`fields`); the others can be written
        ├── UnknownFieldError   the CRM has no such field/property
        └── InvalidValueError   the field exists but refused this value (type, length, picklist)
```

Messages carry the method, the path and the CRM's own words; `request_id` is the CRM's id of the request
(for the ledger and the vendor's support), `status` the HTTP status when there was an answer.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AmbiguousWriteError",
    "AuthenticationError",
    "BudgetExhausted",
    "CRMError",
    "ConflictError",
    "FieldError",
    "InvalidValueError",
    "NotYetConsistent",
    "PermanentError",
    "RateLimited",
    "TransientError",
    "UnknownFieldError",
    "field_gone",
]


class CRMError(Exception):
    """Base of everything an adapter raises; the engine decides what to do from the subclass.

    A bare `CRMError` is never raised by the adapters; the pipeline treats one like a `PermanentError`."""

    def __init__(self, message: str, *, request_id: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.status = status


class RateLimited(CRMError):
    """The CRM (or callsync's own count of its allowance) said slow down.

    `retry_after` is in seconds (from Retry-After or the vendor's policy), `policy` the vendor's name for
    the limit that was hit. The pipeline sleeps durably for `retry_after` and tries again; the wait does
    not use up one of the call's attempts (up to `delivery.max_rate_limit_waits`)."""

    def __init__(self, message: str, *, retry_after: float, policy: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.policy = policy


class BudgetExhausted(RateLimited):
    """The account's allowance for its rolling window is used up (the CRM refused for its daily request
    or credit limit) or only the reserve kept for urgent writes is left by callsync's own count.

    Every worker of the account waits (the shared budget row records until when, and `callsync status`
    shows why); the pipeline waits like for any `RateLimited`. `reason` is what status shows."""

    def __init__(self, message: str, *, retry_after: float, reason: str = "", **kw: Any) -> None:
        super().__init__(message, retry_after=retry_after, **kw)
        self.reason = reason or message


class TransientError(CRMError):
    """Failed before the CRM could have acted (5xx answer to a read, connection refused, the circuit
    breaker holding requests back, a locked record): safe to retry. The pipeline retries with back-off;
    while the CRM is down, retries wait up to `delivery.outage_horizon_s` before they count as attempts."""


class NotYetConsistent(TransientError):
    """The CRM answers, but does not show a write yet (search lag, a partial write to complete): retry,
    and count the attempt, unlike a CRM that does not answer at all."""


class AmbiguousWriteError(CRMError):
    """The request may have been applied (timeout or reset after sending, a 5xx answer to a write).

    The pipeline never re-sends the create blindly: the next attempt looks for the record stamped with
    the call id first, and updates it if the lost create landed."""


class ConflictError(CRMError):
    """A unique key already belongs to another record; `existing_id` names it when the CRM says.

    The pipeline reads that record and, if it is the caller's (or this call's own), updates it instead."""

    def __init__(self, message: str, *, existing_id: str | None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.existing_id = existing_id


class PermanentError(CRMError):
    """The CRM refused the request as it is (validation, permissions, configuration): retrying cannot
    help. The pipeline dead-letters the write with the full request, this error and a replay command."""


class AuthenticationError(PermanentError):
    """The CRM refused the credentials (HTTP 401: the token is missing, expired or revoked).

    Every call of the tenant will fail the same way until the token is replaced; the pipeline
    dead-letters (replayable once the token is fixed)."""


class FieldError(PermanentError):
    """The CRM refused some fields of a write; `fields` names them (the CRM's field names).

    The other fields are fine: the pipeline can write them and dead-letter only the refused ones."""

    def __init__(self, message: str, *, fields: tuple[str, ...], **kw: Any) -> None:
        super().__init__(message, **kw)
        self.fields = fields


class UnknownFieldError(FieldError):
    """The CRM has no field by this name on the object (each CRM's code for it: docs/crms.md): a mapping
    error, or a field an admin deleted."""


def field_gone(exc: CRMError, what_next: str) -> TransientError:
    """A field the adapter had cached as existing is gone (an admin deleted or recreated it): once the
    adapter forgot it, a retry reads the fields again and re-creates callsync's own, so the attempt is
    transient, not a dead letter. Keeps the CRM's request id and status; `what_next` says what the retry
    will do."""
    return TransientError(f"{exc} ({what_next})", request_id=exc.request_id, status=exc.status)


class InvalidValueError(FieldError):
    """The field exists but refused the value (wrong type, too long, not in the picklist)."""
