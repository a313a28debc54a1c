"""Zoho CRM's HTTP facts for the shared transport: its auth scheme and error answers."""

from __future__ import annotations

from typing import Any

import httpx

from callsync.crm.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    BudgetExhausted,
    ConflictError,
    CRMError,
    InvalidValueError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownFieldError,
)
from callsync.crm.http.transport import Failure, Vendor

LIMIT_CODES = frozenset({"LIMIT_REACHED"})
# Without Retry-After, how long new work waits after LIMIT_REACHED (the budget's `limit_retry_s`
# replaces it where the account has a budget).
LIMIT_WAIT_S = 900.0
# `api_name`s in an error that name a part of the request, not a field of the record.
_STRUCTURAL = frozenset({"id", "data", "duplicate_check_fields", "$se_module", "criteria"})


def _details(item: dict[str, Any]) -> dict[str, Any]:
    raw = item.get("details")
    return raw if isinstance(raw, dict) else {}


def record_error(what: str, item: dict[str, Any]) -> CRMError:
    """One record's error in a write's `data` answer."""
    code = str(item.get("code", ""))
    details = _details(item)
    message = f"{what}: {code}: {item.get('message', '')} {details}".strip()
    if code == "DUPLICATE_DATA":
        existing = details.get("id") or (details.get("duplicate_record") or {}).get("id")
        return ConflictError(message, existing_id=str(existing) if existing else None)
    if code in LIMIT_CODES:
        return RateLimited(message, retry_after=LIMIT_WAIT_S, policy=code)
    if code == "RECORD_LOCKED":  # not saved; may succeed on a retry
        return TransientError(message)
    field = details.get("api_name")
    if code == "INVALID_DATA" and isinstance(field, str) and field not in _STRUCTURAL:
        return InvalidValueError(message, fields=(field,))
    return PermanentError(message)


class ZohoVendor(Vendor):
    label = "Zoho"
    auth_scheme = "Zoho-oauthtoken"

    def is_error(self, response: httpx.Response, body: Any) -> bool:
        # A write answers per record in `data` (even with a 4xx status): the adapter reads each one.
        return response.status_code >= 400 and not (
            isinstance(body, dict) and isinstance(body.get("data"), list)
        )

    def classify(self, failure: Failure) -> CRMError:
        body, status = failure.body, failure.status
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        text = str(body.get("message", "")) if isinstance(body, dict) else failure.response.text[:300]
        message = f"{failure.method} {failure.path}: HTTP {status} {code}: {text}"
        if code in LIMIT_CODES:
            return BudgetExhausted(
                message,
                retry_after=LIMIT_WAIT_S,
                policy=code,
                status=status,
                reason=f"Zoho refused: {text or code}",
            )
        if status == 429:  # the concurrency cap: a short wait
            return RateLimited(message, retry_after=1.0, policy=code or "TOO_MANY_REQUESTS", status=status)
        if status >= 500:
            kind = TransientError if failure.safe else AmbiguousWriteError
            return kind(message, status=status)
        if status == 401:
            return AuthenticationError(f"{message} (the access token expired or was revoked)", status=status)
        field = _details(body).get("api_name") if isinstance(body, dict) else None
        if code == "INVALID_QUERY" and isinstance(field, str) and field not in _STRUCTURAL:
            # A search criterion on a field the module does not have.
            return UnknownFieldError(message, fields=(field,), status=status)
        return PermanentError(message, status=status)
