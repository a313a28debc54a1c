"""A webhook receiver's HTTP facts for the shared transport: what its answers mean (Standard Webhooks).

A 2xx is delivered. A 5xx, 408 or 425 is retried with back-off (the same `webhook-id`, which receivers
dedupe on); 429 waits `Retry-After`; 410 Gone says the endpoint wants no more deliveries (permanent: a dead
letter, replayable once the endpoint is back); 401/403 mean the receiver refused the signature or the
secret; any other 4xx is refused as it is. No limit headers are read: a receiver publishes none.
"""

from __future__ import annotations

from typing import Any

import httpx

from callsync.crm.errors import (
    AuthenticationError,
    CRMError,
    PermanentError,
    RateLimited,
    TransientError,
)
from callsync.crm.http.transport import Failure, Vendor

_RETRY_STATUSES = frozenset({408, 425})
DEFAULT_RETRY_AFTER_S = 5.0


def retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S


class WebhookVendor(Vendor):
    label = "webhook"
    request_id_header = None

    def auth_headers(self, token: str) -> dict[str, str]:
        return {}  # each request is signed on its own (webhook-signature), no bearer token

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        value: str | None = response.headers.get("x-request-id")
        return value

    def classify(self, failure: Failure) -> CRMError:
        status = failure.status
        message = f"{failure.method} {failure.path}: HTTP {status}: {failure.response.text[:200]}".rstrip(
            ": "
        )
        kw: dict[str, Any] = {"status": status, "request_id": failure.response.headers.get("x-request-id")}
        if status == 410:
            return PermanentError(f"{message} (410 Gone: the endpoint asked for no more deliveries)", **kw)
        if status == 429:
            return RateLimited(message, retry_after=retry_after(failure.response), **kw)
        if status >= 500 or status in _RETRY_STATUSES:
            # Re-sending is safe: the event keeps its webhook-id, and receivers drop an id they have seen.
            return TransientError(message, **kw)
        if status in (401, 403):
            return AuthenticationError(f"{message} (the receiver refused the signature or the secret)", **kw)
        return PermanentError(message, **kw)
