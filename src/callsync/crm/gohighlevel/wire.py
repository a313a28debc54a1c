"""GoHighLevel's HTTP facts for the shared transport: limit headers and error answers.

Errors are `{"statusCode": n, "message": "..." | ["..."], "error": "..."}` (common-schemas.json); a 422
lists each refused property (`property X should not exist`). A create that meets the location's "no
duplicate contacts" rule answers 400 naming the existing contact in `meta.contactId`. Limits: per app and
location, a burst window (`X-RateLimit-Max` per `X-RateLimit-Interval-Milliseconds`, `X-RateLimit-Remaining`)
and a daily allowance (`X-RateLimit-Limit-Daily`, `X-RateLimit-Daily-Remaining`); both refuse with 429.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
from callsync.crm.http.transport import Failure, LimitReading, Vendor

BURST = (100, 10.0)  # requests per 10 s, per app and location
DAILY_LIMIT = 200_000
# The daily allowance's reset time is not documented [U]: new work waits this long after a daily refusal.
DAILY_WAIT_S = 900.0
_UNKNOWN = re.compile(r"property (\S+) should not exist")
_INVALID = re.compile(r"^(\S+) (must|should) ")
# A custom field id the location no longer has (an admin deleted or recreated it).
_MISSING_CUSTOM = re.compile(r"Custom field (\S+) does not exist")


def _int(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name, "")
    return int(value) if value.strip().lstrip("-").isdigit() else None


def messages(body: Any) -> list[str]:
    raw = body.get("message") if isinstance(body, dict) else None
    if isinstance(raw, list):
        return [str(m) for m in raw]
    return [str(raw)] if raw else []


class GoHighLevelVendor(Vendor):
    label = "GoHighLevel"
    request_id_header = None
    windows: ClassVar[Mapping[str, tuple[int, float]]] = {"default": BURST}

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        trace = body.get("traceId") if isinstance(body, dict) else None
        return str(trace) if trace else None

    def limits(self, response: httpx.Response) -> LimitReading | None:
        headers = response.headers
        interval = _int(headers, "X-RateLimit-Interval-Milliseconds")
        reading = LimitReading(
            max_requests=_int(headers, "X-RateLimit-Max"),
            remaining=_int(headers, "X-RateLimit-Remaining"),
            interval_s=interval / 1000 if interval else None,
        )
        return None if reading == LimitReading() else reading

    def usage(self, response: httpx.Response) -> tuple[int, int] | None:
        limit = _int(response.headers, "X-RateLimit-Limit-Daily")
        left = _int(response.headers, "X-RateLimit-Daily-Remaining")
        return (limit - left, limit) if limit is not None and left is not None else None

    def classify(self, failure: Failure) -> CRMError:
        body, status = failure.body, failure.status
        said = messages(body)
        text = "; ".join(said) or failure.response.text[:300]
        message = f"{failure.method} {failure.path}: HTTP {status}: {text}"
        kw: dict[str, Any] = {"status": status}
        if status == 429:
            daily_left = _int(failure.response.headers, "X-RateLimit-Daily-Remaining")
            if daily_left is not None and daily_left <= 0:
                return BudgetExhausted(
                    message,
                    retry_after=DAILY_WAIT_S,
                    policy="daily",
                    reason=f"GoHighLevel's daily request allowance for the location is used up: {text}",
                    **kw,
                )
            retry = failure.response.headers.get("Retry-After", "")
            interval = _int(failure.response.headers, "X-RateLimit-Interval-Milliseconds")
            wait = float(retry) if retry.isdigit() else (interval / 1000 if interval else BURST[1])
            if failure.limiter is not None:
                failure.limiter.pause(wait)
            return RateLimited(message, retry_after=wait, policy="burst", **kw)
        if status >= 500:
            return TransientError(message, **kw) if failure.safe else AmbiguousWriteError(message, **kw)
        if status == 401:
            return AuthenticationError(f"{message} (the access token expired or was revoked)", **kw)
        meta = body.get("meta") if isinstance(body, dict) else None
        if status == 400 and isinstance(meta, dict) and meta.get("contactId"):
            # "This location does not allow duplicated contacts.": the contact holding the email/phone.
            return ConflictError(message, existing_id=str(meta["contactId"]), **kw)
        missing = tuple(m.group(1) for s in said if (m := _MISSING_CUSTOM.search(s)))
        if status == 400 and missing:
            return UnknownFieldError(message, fields=missing, **kw)
        if status == 422:
            unknown = tuple(m.group(1) for s in said if (m := _UNKNOWN.search(s)))
            if unknown:
                return UnknownFieldError(message, fields=unknown, **kw)
            invalid = tuple(m.group(1) for s in said if (m := _INVALID.search(s)))
            if invalid:
                return InvalidValueError(message, fields=invalid, **kw)
        return PermanentError(message, **kw)
