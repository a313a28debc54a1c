"""Zoho CRM API emulator (v2+ shapes; paths `/crm/v2` ... `/crm/v8`), with credits, faults and conversion.

Reproduces what a client must cope with (crm-apis.md §3 and §6; shapes checked against Zoho's OpenAPI v8
in crm-specs/zoho, which is reference only and not copied here): the `Zoho-oauthtoken` header; a
per-data-centre base URL; Leads / Contacts / Accounts / Deals / Calls / Tasks / Events; 100 records per
write; per-record results with 207 for mixed outcomes; upsert with `duplicate_check_fields` answering
`action` and `duplicate_field`; `DUPLICATE_DATA` naming the existing record; criteria / email / phone
search (criteria joined by `and` / `or`, `in` lists, at most 10 criteria) answering 204 when nothing
matches, with an optional index lag; `GET /{module}?ids=` (up to 100 ids); lead conversion (5 credits)
after which the lead leaves the Leads module; `settings/fields` with each lead field's `convert_mapping`;
API credits per rolling window (a write 1 per 10 records, a conversion 5, any other call 1) and a
concurrency cap, both refused with 429; and a `FaultPlan` applied after authentication, before credits are
counted. Lookups by id, by email / phone and by criteria of `equals` / `in` (any `and` / `or` of them)
go through per-field indexes, not a scan per request, so a benchmark measures the client.

Not emulated (docs/crms.md): COQL, composite requests, bulk APIs, related-list endpoints, workflows
and blueprints, layouts, per-field permissions, and the sub-concurrency cap. Credit exhaustion answers
429 `LIMIT_REACHED`: Zoho documents the allowance but not this answer's exact shape.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from callsync_sandbox.faults import COMMITTING_FAULTS, FaultInjector, FaultPlan, FaultRule
from callsync_sandbox.jsonapi import ApiReply, ApiRequest, BadJson, JsonApp, RequestLog
from callsync_sandbox.zoho import coql
from callsync_sandbox.zoho.org import RecordError, ZohoError, ZohoOrg

__all__ = ["ZohoError", "ZohoSandbox"]

WRITE_LIMIT = 100
IDS_LIMIT = 100  # record ids one `GET /{module}?ids=` may name
CREDITS_PER_WRITE_RECORDS = 10  # a multi-record write costs 1 credit per 10 records (at most 10)
_PATH = re.compile(r"^/crm/(v[2-8](?:\.\d)?)/(.+?)/?$")
_FAULTS = {
    400: ("INVALID_DATA", "invalid data"),
    401: ("INVALID_TOKEN", "invalid oauth token"),
    403: ("NO_PERMISSION", "permission denied"),
    404: ("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"),
    429: ("TOO_MANY_REQUESTS", "concurrency limit exceeded"),
}


class _Credits:
    """API credits per rolling window (24 h by default), spent by every client of the org."""

    def __init__(self, per_window: int, window_s: float) -> None:
        self.per_window = per_window
        self.window_s = window_s
        self._spent: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def _used(self, now: float) -> int:
        while self._spent and self._spent[0][0] <= now - self.window_s:
            self._spent.popleft()
        return sum(c for _, c in self._spent)

    def spend(self, cost: int) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._used(now) + cost > self.per_window:
                return False
            self._spent.append((now, cost))
            return True

    def used(self) -> int:
        with self._lock:
            return self._used(time.monotonic())

    def reset(self) -> None:
        with self._lock:
            self._spent.clear()


class ZohoSandbox:
    """An emulated Zoho CRM org. Serve it with `app()`; inspect and act on it directly from tests."""

    def __init__(
        self,
        *,
        token: str = "sandbox-token",
        credits_per_day: int = 50_000,
        credit_window_s: float = 86_400.0,
        max_concurrency: int = 10,
        latency_s: float = 0.0,
        search_lag_s: float = 0.0,
        faults: FaultPlan | None = None,
        custom_fields: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    ) -> None:
        """`custom_fields`: module -> field specs (`api_name`, `unique`, `data_type`); by default the
        callsync stamps exist on Leads, Contacts, Accounts, Deals and Calls."""
        self.token = token
        self.org = ZohoOrg(custom_fields=custom_fields, search_lag_s=search_lag_s)
        self.credits = _Credits(credits_per_day, credit_window_s)
        self.max_concurrency = max_concurrency
        self.latency_s = latency_s
        self._in_flight = 0
        self._failing: frozenset[int] = frozenset()  # a partial_batch fault's failing inputs
        self._faults = FaultInjector(faults)
        self.log = RequestLog()

    def app(self) -> JsonApp:
        return JsonApp(self._respond, self.log)

    # -- what tests (and a person in the CRM) do directly ---------------------------------------------

    def records(self, module: str, *, converted: bool = False) -> list[dict[str, Any]]:
        """A module's records; converted leads only with `converted=True` (they left the module)."""
        with self.org.lock:
            rows = self.org.records[self.org.module(module)].values()
            return [dict(r) for r in rows if converted or not r.get("$converted")]

    def insert(self, module: str, fields: Mapping[str, Any]) -> str:
        return str(self.org.insert(self.org.module(module), fields, check_duplicates=False)["id"])

    def convert_lead(self, lead_id: str, **options: Any) -> dict[str, Any]:
        return self.org.convert(lead_id, options)

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        return self.log.entries

    def count_requests(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> int:
        return self.log.count(method, path, status)

    def reset_credits(self) -> None:
        self.credits.reset()

    # -- the front door -----------------------------------------------------------------------------

    async def _respond(self, request: ApiRequest) -> tuple[ApiReply, bool]:
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        if scheme != "Zoho-oauthtoken" or not token.strip():
            return _error(ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed")), False
        if token.strip() != self.token:
            return _error(ZohoError(401, "INVALID_TOKEN", "invalid oauth token")), False
        action = self._faults.act(request.method, request.path)
        if action.delay_s:
            await asyncio.sleep(action.delay_s)
        rule = action.rule
        if rule is not None and rule.fault == "status":
            return self._fault(rule), False
        if rule is not None and rule.fault == "connection_reset":  # nothing done, nothing answered
            return ApiReply(599), True
        if self._in_flight >= self.max_concurrency:
            return _error(ZohoError(429, "TOO_MANY_REQUESTS", "concurrency limit exceeded")), False
        self._in_flight += 1
        try:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            cost = _credits(request)
            if not self.credits.spend(cost):
                error = ZohoError(
                    429,
                    "LIMIT_REACHED",
                    "API credits for the rolling 24-hour window are exhausted",
                    {"limit": self.credits.per_window},
                )
                return _error(error), False
            failing: frozenset[int] = frozenset()
            if rule is not None and rule.fault == "partial_batch":
                failing = frozenset(action.failing_inputs(_batch_size(request)))
            reply = self._handle(request, failing)
        finally:
            self._in_flight -= 1
        if rule is not None and rule.fault == "timeout_after_commit":
            await asyncio.sleep(action.hold_s)
        return reply, rule is not None and rule.fault in COMMITTING_FAULTS

    def _fault(self, rule: FaultRule) -> ApiReply:
        code, message = _FAULTS.get(rule.status, ("INTERNAL_ERROR", "Internal server error occurred."))
        return _error(ZohoError(rule.status, code, message))

    def _handle(self, request: ApiRequest, failing: frozenset[int] = frozenset()) -> ApiReply:
        match = _PATH.match(request.path)
        if match is None:
            return _error(
                ZohoError(
                    404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
                )
            )
        parts = match.group(2).split("/")
        try:
            with self.org.lock:
                self._failing = failing
                return self._route(request, parts)
        except ZohoError as exc:
            return _error(exc)
        except BadJson:
            return _error(ZohoError(400, "INVALID_DATA", "body", {"expected_data_type": "jsonobject"}))

    def _route(self, request: ApiRequest, parts: list[str]) -> ApiReply:
        org, method = self.org, request.method
        if parts[:2] == ["settings", "fields"] and method == "GET" and len(parts) == 2:
            module = request.param("module")
            if not module:
                raise ZohoError(
                    400,
                    "REQUIRED_PARAM_MISSING",
                    "One of the expected parameter is missing",
                    {"param": "module"},
                )
            return ApiReply(200, {"fields": org.describe(module)})
        if parts == ["coql"] and method == "POST":
            return self._coql(request)
        module = org.module(parts[0])
        rest = parts[1:]
        if rest == ["search"] and method == "GET":
            return self._search(request, module)
        if rest == ["upsert"] and method == "POST":
            return self._write(request, module, "upsert")
        if len(rest) == 3 and rest[1:] == ["actions", "convert"] and module == "Leads" and method == "POST":
            body = request.json() or {}
            options = (body.get("data") or [{}])[0] if isinstance(body, dict) else {}
            details = org.convert(rest[0], options if isinstance(options, dict) else {})
            return ApiReply(
                200,
                {
                    "data": [
                        {
                            "code": "SUCCESS",
                            "details": details,
                            "status": "success",
                            "message": "The record has been converted successfully",
                        }
                    ]
                },
            )
        if len(rest) == 1:
            return self._one(request, module, rest[0])
        if not rest:
            if method == "GET":
                return self._list(request, module)
            if method in ("POST", "PUT"):
                return self._write(request, module, "insert" if method == "POST" else "update")
        raise ZohoError(
            400, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
        )

    def _fields(self, request: ApiRequest) -> list[str] | None:
        raw = request.param("fields")
        return [f.strip() for f in raw.split(",") if f.strip()] if raw else None

    def _page(self, request: ApiRequest, rows: list[dict[str, Any]]) -> ApiReply:
        if not rows:
            return ApiReply(204)
        per_page = min(200, int(request.param("per_page") or 200))
        page = max(1, int(request.param("page") or 1))
        chunk = rows[(page - 1) * per_page : page * per_page]
        fields = self._fields(request)
        info = {
            "per_page": per_page,
            "count": len(chunk),
            "page": page,
            "more_records": page * per_page < len(rows),
        }
        return ApiReply(200, {"data": [self.org.output(r, fields) for r in chunk], "info": info})

    def _coql(self, request: ApiRequest) -> ApiReply:
        body = request.json()
        text = body.get("select_query") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ZohoError(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"param": "select_query"},
            )
        try:
            query = coql.parse(text)
        except coql.CoqlError as exc:
            raise ZohoError(400, exc.code, str(exc), exc.details) from exc
        rows, more = self.org.query(query)
        if not rows:
            return ApiReply(204)
        return ApiReply(200, {"data": rows, "info": {"count": len(rows), "more_records": more}})

    def _search(self, request: ApiRequest, module: str) -> ApiReply:
        query = {k: v[0] for k, v in request.query.items() if v}
        return self._page(request, self.org.search(module, query))

    def _list(self, request: ApiRequest, module: str) -> ApiReply:
        converted = request.param("converted") or "false"
        ids = request.param("ids")
        table = self.org.records[module]
        if ids:
            wanted = list(dict.fromkeys(i.strip() for i in ids.split(",") if i.strip()))
            if len(wanted) > IDS_LIMIT:
                raise ZohoError(
                    400,
                    "LIMIT_EXCEEDED",
                    "the number of ids exceeds the limit",
                    {"param": "ids", "limit": IDS_LIMIT},
                )
            # By id, in the order created (as a listing is): no scan of the module.
            rows = [table[i] for i in self.org.ordered(i for i in wanted if i in table)]
        else:
            rows = list(table.values())
        rows = [r for r in rows if converted == "both" or bool(r.get("$converted")) == (converted == "true")]
        return self._page(request, rows)

    def _one(self, request: ApiRequest, module: str, record_id: str) -> ApiReply:
        org, method = self.org, request.method
        if method == "GET":
            record = org.get(module, record_id, converted=request.param("converted") or "false")
            if record is None:
                return ApiReply(204)
            return ApiReply(200, {"data": [org.output(record, self._fields(request))]})
        if method == "PUT":
            data = _data(request.json(), 1)
            try:
                record = org.update(module, record_id, data[0])
            except RecordError as exc:
                return ApiReply(400, {"data": [exc.body()]})
            return ApiReply(200, {"data": [_success(record, "update")]})
        if method == "DELETE":
            org.delete(module, record_id)
            return ApiReply(
                200,
                {
                    "data": [
                        {
                            "code": "SUCCESS",
                            "details": {"id": record_id},
                            "message": "record deleted",
                            "status": "success",
                        }
                    ]
                },
            )
        raise ZohoError(405, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one")

    def _write(self, request: ApiRequest, module: str, kind: str) -> ApiReply:
        body = request.json()
        data = _data(body, WRITE_LIMIT)
        check = body.get("duplicate_check_fields") if isinstance(body, dict) else None
        if check is not None and (not isinstance(check, list) or not all(isinstance(c, str) for c in check)):
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"api_name": "duplicate_check_fields"})
        results: list[dict[str, Any]] = []
        for index, raw in enumerate(data):
            if index in self._failing:
                results.append(RecordError("RECORD_LOCKED", "the record is locked", {"index": index}).body())
                continue
            try:
                if kind == "insert":
                    results.append(_success(self.org.insert(module, raw, index), "insert"))
                elif kind == "update":
                    record_id = str(raw.get("id") or "")
                    if not record_id:
                        raise RecordError(
                            "MANDATORY_NOT_FOUND",
                            "required field not found",
                            {"api_name": "id", "json_path": f"$.data[{index}].id"},
                        )
                    results.append(_success(self.org.update(module, record_id, raw, index), "update"))
                else:
                    record, action, matched = self.org.upsert(module, raw, check, index)
                    results.append(_success(record, action, matched, upsert=True))
            except RecordError as exc:
                results.append(exc.body())
        ok = sum(1 for r in results if r["status"] == "success")
        status = (201 if kind == "insert" else 200) if ok == len(results) else 207 if ok else 400
        return ApiReply(status, {"data": results})


def _credits(request: ApiRequest) -> int:
    """What Zoho charges for a request: a conversion 5, an insert / update / upsert 1 per 10 records, any
    other call 1."""
    if request.path.endswith("/actions/convert"):
        return 5
    if request.path.rstrip("/").endswith("/coql"):
        try:
            body = request.json()
            return coql.credits_for(coql.parse(str(body.get("select_query") or "")).limit)
        except (ValueError, AttributeError):
            return 1  # refused as a syntax error, charged as any other call
    records = _batch_size(request)
    return max(1, -(-records // CREDITS_PER_WRITE_RECORDS))


def _batch_size(request: ApiRequest) -> int:
    """How many records a multi-record write carries (what a partial_batch fault picks from)."""
    if request.method not in ("POST", "PUT"):
        return 0
    try:
        body = request.json()
    except ValueError:
        return 0
    data = body.get("data") if isinstance(body, dict) else None
    return len(data) if isinstance(data, list) else 0


def _data(body: Any, limit: int) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data or not all(isinstance(r, dict) for r in data):
        raise ZohoError(
            400, "INVALID_DATA", "invalid data", {"expected_data_type": "jsonarray", "api_name": "data"}
        )
    if len(data) > limit:
        raise ZohoError(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": limit})
    return data


def _success(
    record: Mapping[str, Any], action: str, matched: str | None = None, *, upsert: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": "SUCCESS",
        "details": {
            k: record[k] for k in ("id", "Created_Time", "Modified_Time", "Created_By", "Modified_By")
        },
        "message": "record added" if action == "insert" else "record updated",
        "status": "success",
    }
    if upsert:
        out["action"] = action
        out["duplicate_field"] = matched
    return out


def _error(error: ZohoError) -> ApiReply:
    return ApiReply(error.status, error.body())
