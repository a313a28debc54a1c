"""HubSpot's HTTP facts for the shared transport: auth, request ids, limit headers, error answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

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
from callsync.crm.http.transport import DEFAULT_LANE, Failure, LimitReading, Vendor

EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
SEARCH_LANE = "search"
# Published limits (usage guidelines): private apps on Free/Starter get 100 requests per 10 s;
# search has its own 5 per second. The limiter adopts the real numbers from the response headers.
TEN_SECOND_MAX = 100
SEARCH_PER_SECOND = 5


def _number(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    return int(value) if value and value.isdigit() else None


def field_error(body: Mapping[str, Any], message: str, **kw: Any) -> CRMError | None:
    """A validation error naming properties (`errors[].context.propertyName`): an `UnknownFieldError`
    naming those that do not exist, else an `InvalidValueError` naming those whose value was refused;
    None when no property is named."""
    unknown: list[str] = []
    invalid: list[str] = []
    for error in body.get("errors") or []:
        if not isinstance(error, Mapping):
            continue
        names = [str(n) for n in (error.get("context") or {}).get("propertyName") or []]
        (unknown if error.get("code") == "PROPERTY_DOESNT_EXIST" else invalid).extend(names)
    if unknown:
        return UnknownFieldError(message, fields=tuple(dict.fromkeys(unknown)), **kw)
    if invalid:
        return InvalidValueError(message, fields=tuple(dict.fromkeys(invalid)), **kw)
    return None


class HubSpotVendor(Vendor):
    label = "HubSpot"
    request_id_header = "X-HubSpot-Correlation-Id"
    windows: ClassVar[Mapping[str, tuple[int, float]]] = {
        DEFAULT_LANE: (TEN_SECOND_MAX, 10.0),
        SEARCH_LANE: (SEARCH_PER_SECOND, 1.0),
    }

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        header: str | None = response.headers.get("X-HubSpot-Correlation-Id")
        if header:
            return header
        return str(body["correlationId"]) if isinstance(body, dict) and body.get("correlationId") else None

    def limits(self, response: httpx.Response) -> LimitReading | None:
        headers = response.headers
        interval_ms = _number(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        return LimitReading(
            max_requests=_number(headers, "X-HubSpot-RateLimit-Max"),
            remaining=_number(headers, "X-HubSpot-RateLimit-Remaining"),
            interval_s=interval_ms / 1000 if interval_ms else None,
        )

    def classify(self, failure: Failure) -> CRMError:
        body = failure.body if isinstance(failure.body, dict) else {}
        response, status = failure.response, failure.status
        message = (
            f"{failure.method} {failure.path}: HTTP {status}: {body.get('message') or response.text[:200]}"
        )
        kw: dict[str, Any] = {"request_id": self.request_id(response, body), "status": status}
        if status in (429, 423, 477):
            policy = body.get("policyName")
            retry_after = self._retry_after(failure, policy)
            if policy == "DAILY":
                return BudgetExhausted(message, retry_after=retry_after, policy=policy, **kw)
            return RateLimited(message, retry_after=retry_after, policy=policy, **kw)
        if status == 409:
            match = EXISTING_ID.search(str(body.get("message", "")))
            return ConflictError(message, existing_id=match.group(1) if match else None, **kw)
        if status >= 500:
            # A gateway error on a write does not prove the write did not happen.
            return TransientError(message, **kw) if failure.safe else AmbiguousWriteError(message, **kw)
        if status == 401:
            return AuthenticationError(message, **kw)
        return field_error(body, message, **kw) or PermanentError(message, **kw)

    @staticmethod
    def _retry_after(failure: Failure, policy: Any) -> float:
        header = failure.response.headers.get("Retry-After")
        if header:
            try:
                return max(0.0, float(header))
            except ValueError:
                pass
        if policy == "DAILY":
            # Resets at midnight in the account's time zone, which the API does not tell us; UTC midnight
            # plus a margin never retries too early for accounts west of UTC and at most a day late east.
            now = datetime.now(UTC)
            midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            return (midnight - now).total_seconds() + 60
        if failure.status == 423:
            return 2.0
        if policy in ("SECONDLY",):
            return 1.0
        interval = _number(failure.response.headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        seconds = interval / 1000 if interval is not None else 10.0
        if failure.limiter is not None:  # the window is spent: nothing of this lane goes before it rolls
            failure.limiter.pause(seconds)
        return seconds
