"""Salesforce REST API emulator: one org behind `/services/data/vXX.X`, with limits, faults and lead
conversion (docs: crm-apis.md §2 and §6; request templates: crm-specs/salesforce, CC0).

What a client has to cope with, and this emulator reproduces: per-org base URL and version path; the
standard fields of Lead, Contact, Account, Opportunity, Task, Event and Case as a real org describes them; Lead vs
Contact/Account/Opportunity and lead conversion (a converted lead stays queryable with IsConverted and
ConvertedContactId, and refuses updates); key-prefixed 18-character ids; upsert by External ID (201 / 200 /
300); unique fields (DUPLICATE_VALUE); duplicate rules in block or alert mode honouring
`Sforce-Duplicate-Rule-Header`; sObject Collections with per-record results in input order, allOrNone, the
200-record cap, a body naming an unknown field refused whole and a key named twice in one upsert refused
for both records; SOQL lookups served from per-field indexes (`=`, IN, and ORs of them); Composite with
references; the rolling daily API allocation with `Sforce-Limit-Info` on every answer and
403 REQUEST_LIMIT_EXCEEDED (array body, no Retry-After) when it is used up; and a `FaultPlan`, applied after
authentication and before the allocation, as a flaky network in front of Salesforce would be.

Not emulated (docs/crms.md): SOSL and parameterized search, the concurrent long-request cap, Bulk API,
sharing and field-level security, triggers/flows/validation rules, and the standard matching rules' fuzzy
name matching (duplicate rules here match on email).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from callsync_sandbox.faults import COMMITTING_FAULTS, FaultInjector, FaultPlan, FaultRule
from callsync_sandbox.jsonapi import ApiReply, ApiRequest, JsonApp, RequestLog
from callsync_sandbox.salesforce.api import Api
from callsync_sandbox.salesforce.org import Org, SfError

__all__ = ["SalesforceSandbox", "SfError"]

# The URI and headers of one REST call together may not exceed 16,384 bytes (Salesforce help 000386264: 414
# URI Too Long when the URI alone does); headers are left out here, so the URI gets all of it.
MAX_URI_BYTES = 16_384
_FAULT_CODES = {
    400: "MALFORMED_QUERY",
    401: "INVALID_SESSION_ID",
    403: "REQUEST_LIMIT_EXCEEDED",
    404: "NOT_FOUND",
    500: "UNKNOWN_EXCEPTION",
    503: "SERVER_UNAVAILABLE",
}
_FAULT_MESSAGES = {
    401: "Session expired or invalid",
    403: "TotalRequests Limit exceeded.",
    404: "The requested resource does not exist",
    503: "Server is temporarily unavailable. Please try again later.",
}


class _Allocation:
    """The org's API requests per rolling window (24 h by default), counted across all clients."""

    def __init__(self, max_requests: int, window_s: float) -> None:
        self.max_requests = max_requests
        self.window_s = window_s
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window_s:
            self._times.popleft()

    def admit(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._expire(now)
            if len(self._times) >= self.max_requests:
                return False
            self._times.append(now)
            return True

    def add(self, n: int) -> None:
        with self._lock:
            now = time.monotonic()
            self._times.extend([now] * max(0, n))

    def usage(self) -> tuple[int, int]:
        with self._lock:
            self._expire(time.monotonic())
            return min(len(self._times), self.max_requests), self.max_requests

    def header(self) -> dict[str, str]:
        used, limit = self.usage()
        return {"Sforce-Limit-Info": f"api-usage={used}/{limit}"}

    def reset(self) -> None:
        with self._lock:
            self._times.clear()


class SalesforceSandbox:
    """An emulated org. Serve it with `app()` (e.g. under `SandboxServer`); inspect it from tests."""

    def __init__(
        self,
        *,
        token: str = "sandbox-token",
        daily_max: int = 15_000,
        window_s: float = 86_400.0,
        faults: FaultPlan | None = None,
        custom_fields: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        duplicate_rules: Mapping[str, str] | None = None,
    ) -> None:
        """`custom_fields`: object -> field specs (`name`, `type`, `externalId`, `unique`); by default the
        callsync stamp fields exist on Lead, Contact, Account, Opportunity, Task and Event (an admin creates
        them: REST cannot). `duplicate_rules`: object -> "block" | "alert" (matching on email)."""
        self.token = token
        self.org = Org(custom_fields=custom_fields, duplicate_rules=duplicate_rules)
        self.allocation = _Allocation(daily_max, window_s)
        self.api = Api(self.org, count=self.allocation.add, usage=self.allocation.usage)
        self._faults = FaultInjector(faults)
        self.log = RequestLog()

    def app(self) -> JsonApp:
        return JsonApp(self._respond, self.log)

    # -- what tests (and a rep in the UI) do directly ---------------------------------------------------

    def records(self, sobject: str) -> list[dict[str, Any]]:
        with self.org.lock:
            name = self.org.sobject(sobject)
            return [dict(r) for r in self.org.records[name].values()]

    def insert(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Create a record as a person in the UI would (no API call counted)."""
        return self.org.create(self.org.sobject(sobject), fields, allow_duplicates=True)

    def convert_lead(
        self,
        lead_id: str,
        *,
        account_id: str | None = None,
        contact_id: str | None = None,
        opportunity_name: str | None = None,
    ) -> dict[str, str | None]:
        """Convert a lead as a rep would (Salesforce has no standard REST resource for it)."""
        return self.org.convert_lead(
            lead_id, account_id=account_id, contact_id=contact_id, opportunity_name=opportunity_name
        )

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        return self.log.entries

    def count_requests(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> int:
        return self.log.count(method, path, status)

    def reset_limits(self) -> None:
        self.allocation.reset()

    # -- the front door ------------------------------------------------------------------------------

    async def _respond(self, request: ApiRequest) -> tuple[ApiReply, bool]:
        if len(request.path) + len(urlencode(request.query, doseq=True)) > MAX_URI_BYTES:
            # Refused before the API sees it (and uncounted); a long SOQL query must be split.
            return ApiReply(414, [{"message": "URI Too Long", "errorCode": "URI_TOO_LONG"}]), False
        if request.path.rstrip("/") == "/services/data":  # the versions list needs no session
            return self.api.handle(request), False
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or token.strip() != self.token:
            return ApiReply(
                401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            ), False
        action = self._faults.act(request.method, request.path)
        if action.delay_s:
            await asyncio.sleep(action.delay_s)
        rule = action.rule
        if rule is not None and rule.fault == "status":
            return self._fault(rule), False
        if rule is not None and rule.fault == "connection_reset":  # nothing done, nothing answered
            return ApiReply(599), True
        if not self.allocation.admit():
            body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
            return ApiReply(403, body, self.allocation.header()), False
        failing: frozenset[int] = frozenset()
        if rule is not None and rule.fault == "partial_batch":
            failing = frozenset(action.failing_inputs(_batch_size(request)))
        reply = self.api.handle(request, failing=failing)
        reply.headers.update(self.allocation.header())
        if rule is not None and rule.fault == "timeout_after_commit":
            await asyncio.sleep(action.hold_s)
        # drop_response_after_commit / timeout_after_commit: the work is done, the answer is lost
        return reply, rule is not None and rule.fault in COMMITTING_FAULTS

    def _fault(self, rule: FaultRule) -> ApiReply:
        status = rule.status
        code = _FAULT_CODES.get(status, "UNKNOWN_EXCEPTION")
        message = _FAULT_MESSAGES.get(status, "An unexpected error occurred. Please include this ErrorId.")
        return ApiReply(status, [{"message": message, "errorCode": code}], self.allocation.header())


def _batch_size(request: ApiRequest) -> int:
    """How many records a collections request carries (what a partial_batch fault picks from)."""
    if "/composite/sobjects" not in request.path:
        return 0
    try:
        body = request.json()
    except ValueError:
        return 0
    records = body.get("records") if isinstance(body, dict) else None
    return len(records) if isinstance(records, list) else 0
