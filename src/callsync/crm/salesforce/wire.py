"""Salesforce's HTTP facts for the shared transport: limit usage, error answers (an array body)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from callsync.crm.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    BudgetExhausted,
    ConflictError,
    CRMError,
    PermanentError,
    TransientError,
    UnknownFieldError,
)
from callsync.crm.http.transport import Failure, Vendor

# Record-lock contention: the save did not happen and may succeed on a retry.
RETRYABLE = frozenset({"UNABLE_TO_LOCK_ROW"})
LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
DUPLICATE_ID = re.compile(r"record with id:\s*([A-Za-z0-9]{15,18})")
_NO_SUCH_COLUMN = re.compile(r"No such column '([^']+)'")
# Without Retry-After, how long new work waits after REQUEST_LIMIT_EXCEEDED (the budget's
# `limit_retry_s` replaces it where the org has a budget).
LIMIT_WAIT_S = 900.0


def field_error(code: str, text: str, error: dict[str, Any], message: str, **kw: Any) -> CRMError | None:
    """INVALID_FIELD naming a field the object does not have, as an `UnknownFieldError`."""
    if code != "INVALID_FIELD":
        return None
    found = _NO_SUCH_COLUMN.findall(text)
    if not found:
        return None
    return UnknownFieldError(message, fields=tuple(dict.fromkeys(found)), **kw)


def record_error(text: str, error: dict[str, Any]) -> CRMError:
    """One record's error in a collection answer (`errors[0]` of its result)."""
    code, detail = str(error.get("statusCode", "")), str(error.get("message", "failed"))
    message = f"{text}: {code}: {detail}"
    if code == "DUPLICATE_VALUE":
        found = DUPLICATE_ID.search(detail)
        return ConflictError(message, existing_id=found.group(1) if found else None)
    if code == "DUPLICATES_DETECTED":  # as the single record's answer says it (classify, below)
        ids = ", ".join(duplicate_ids(error))
        return PermanentError(
            f"{message} (the org's duplicate rule blocked the save; matching records: {ids})"
        )
    if code in RETRYABLE:
        return TransientError(message)
    return field_error(code, detail, error, message) or PermanentError(message)


def duplicate_ids(error: dict[str, Any]) -> list[str]:
    result = error.get("duplicateResult") or {}
    return [
        str(m.get("record", {}).get("Id"))
        for match in result.get("matchResults", [])
        for m in match.get("matchRecords", [])
    ]


class SalesforceVendor(Vendor):
    label = "Salesforce"

    def is_error(self, response: httpx.Response, body: Any) -> bool:
        # 300: several records hold an external id (an upsert that cannot choose).
        return response.status_code >= 300

    def usage(self, response: httpx.Response) -> tuple[int, int] | None:
        """`Sforce-Limit-Info: api-usage=used/max` on every answer."""
        match = LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        return (int(match.group(1)), int(match.group(2))) if match else None

    def classify(self, failure: Failure) -> CRMError:
        body, status, method, path = failure.body, failure.status, failure.method, failure.path
        first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
        code = str(first.get("errorCode") or "")
        text = str(first.get("message") or failure.response.text[:300])
        message = f"{method} {path}: HTTP {status} {code}: {text}".replace(" : ", ": ")
        if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
            return BudgetExhausted(
                message,
                retry_after=LIMIT_WAIT_S,
                policy=code,
                status=status,
                reason=f"Salesforce refused: {text}",
            )
        if status == 300:
            return PermanentError(
                f"{method} {path}: several records hold this external id: {body}", status=300
            )
        if code == "DUPLICATE_VALUE":
            found = DUPLICATE_ID.search(text)
            return ConflictError(message, existing_id=found.group(1) if found else None, status=status)
        if code == "DUPLICATES_DETECTED":
            ids = duplicate_ids(first)
            return PermanentError(
                f"{message} (the org's duplicate rule blocked the save; matching records: {', '.join(ids)})",
                status=status,
            )
        if code in RETRYABLE:
            return TransientError(message, status=status)
        if status >= 500:
            kind = TransientError if failure.safe else AmbiguousWriteError
            return kind(message, status=status)
        if status == 401:
            return AuthenticationError(f"{message} (the access token expired or was revoked)", status=status)
        return field_error(code, text, first, message, status=status) or PermanentError(
            message, status=status
        )
