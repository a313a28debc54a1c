"""Pipedrive's HTTP facts for the shared transport: auth, limit headers, token costs, error answers.

Error bodies are `{"success": false, "error": ..., "error_info": ..., "data": null, "additional_data":
null}` (crm-apis.md §4). Throttling is a 429 with `x-ratelimit-limit/-remaining/-reset` (the token's
2-second window; search has its own, lower one); a spent daily token budget is a 429 too, told apart by
its words **[U]** (Pipedrive's exact text is undocumented: any 429 whose error speaks of a daily limit or
budget is taken as one). A client that keeps sending after 429s may get a 403 HTML page from Cloudflare:
that is a wait too, not a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx

from callsync.crm.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    BudgetExhausted,
    CRMError,
    PermanentError,
    RateLimited,
    TransientError,
)
from callsync.crm.http.transport import Failure, LimitReading, Vendor

WINDOW_S = 2.0  # the burst window, general and search alike
# callsync paces over a slightly longer window: a request's arrival lags its sending by a varying
# delay, so N requests sent exactly 2 s apart can arrive inside one of Pipedrive's windows.
PACE_S = 2.25
SEARCH_LANE = "search"
SEARCH_BURST = 10  # search requests per 2 s, on every plan
# Without a usable answer, how long new work waits after the daily budget was refused (the budget's
# `limit_retry_s` replaces it where the account has a budget) and after Cloudflare's 403.
LIMIT_WAIT_S = 900.0
BLOCKED_WAIT_S = 60.0
_DAILY = re.compile(r"daily|budget|token limit", re.IGNORECASE)

# x-token-cost of the endpoints callsync uses (v2 from the spec's extension; v1 from Pipedrive's
# rate-limiting page: GET 2, list 20, create/update 10, delete 6, search 40).
_V2_COSTS = {"one": 1, "list": 10, "search": 20, "write": 5, "delete": 3}
_V1_COSTS = {"one": 2, "list": 20, "search": 40, "write": 10, "delete": 6}


def token_cost(method: str, path: str) -> int:
    """What one request spends from the daily token budget (`path` with its /api/v2 or /v1 prefix)."""
    costs = _V1_COSTS if path.startswith("/v1/") else _V2_COSTS
    parts = [p for p in path.split("/") if p][2 if path.startswith("/api/") else 1 :]
    if method == "DELETE":
        return costs["delete"]
    if method != "GET":
        return costs["write"]
    if parts and parts[-1] == "search":
        return costs["search"]
    if len(parts) >= 2 and parts[1].isdigit():
        return costs["one"]
    return costs["list"]


class PipedriveVendor(Vendor):
    label = "Pipedrive"
    request_id_header = "x-correlation-id"  # [U] what Pipedrive's support asks for
    windows: ClassVar[Mapping[str, tuple[int, float]]] = {
        "default": (20, PACE_S),
        SEARCH_LANE: (SEARCH_BURST, PACE_S),
    }

    def __init__(self, auth: Literal["api_token", "oauth"] = "api_token") -> None:
        self.auth = auth

    def auth_headers(self, token: str) -> dict[str, str]:
        if self.auth == "oauth":
            return {"Authorization": f"Bearer {token}"}
        return {"x-api-token": token}

    def is_error(self, response: httpx.Response, body: Any) -> bool:
        return response.status_code >= 400 or (isinstance(body, dict) and body.get("success") is False)

    def limits(self, response: httpx.Response) -> LimitReading | None:
        limit = _int(response.headers.get("x-ratelimit-limit"))
        remaining = _int(response.headers.get("x-ratelimit-remaining"))
        if limit is None and remaining is None:
            return None
        return LimitReading(max_requests=limit, remaining=remaining, interval_s=PACE_S)

    def classify(self, failure: Failure) -> CRMError:
        body, status = failure.body, failure.status
        error = str(body.get("error") or "") if isinstance(body, dict) else ""
        info = str(body.get("error_info") or "") if isinstance(body, dict) else ""
        text = f"{error} ({info})" if info else error
        if not isinstance(body, dict):
            text = failure.response.text[:200].strip()
        message = f"{failure.method} {failure.path}: HTTP {status}: {text}"
        if status == 429 and _DAILY.search(f"{error} {info}"):
            return BudgetExhausted(
                message,
                retry_after=LIMIT_WAIT_S,
                policy="DAILY_TOKENS",
                status=status,
                reason=f"Pipedrive refused: {error or 'daily API token budget spent'}",
            )
        if status == 429:
            wait = _retry_after(failure.response)
            if failure.limiter is not None:
                failure.limiter.pause(wait)
            return RateLimited(message, retry_after=wait, policy="BURST", status=status)
        if status == 403 and not isinstance(body, dict):
            # Cloudflare's page for a client that kept sending after 429s: back off for a while.
            if failure.limiter is not None:
                failure.limiter.pause(BLOCKED_WAIT_S)
            return RateLimited(message, retry_after=BLOCKED_WAIT_S, policy="BLOCKED", status=status)
        if status >= 500:
            kind = TransientError if failure.safe else AmbiguousWriteError
            return kind(message, status=status)
        if status == 401:
            return AuthenticationError(
                f"{message} (the API token or OAuth token is wrong or revoked)", status=status
            )
        if status == 402:
            return PermanentError(f"{message} (the Pipedrive company account is not open)", status=status)
        return PermanentError(message, status=status)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float:
    for header in ("x-ratelimit-reset", "retry-after"):
        value = response.headers.get(header)
        try:
            seconds = float(value) if value is not None else 0.0
        except ValueError:
            continue
        if seconds > 0:
            return seconds
    return WINDOW_S
