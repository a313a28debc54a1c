"""Pipedrive API emulator (v2 `/api/v2/...`, v1 `/v1/...` for field lists and notes), with token limits.

Reproduces what a client must cope with (crm-apis.md §4 and §6; paths, bodies and token costs checked
against Pipedrive's OpenAPI files in crm-specs/pipedrive): the `x-api-token` header (or `api_token` query
parameter, or an OAuth `Authorization: Bearer`); persons / organizations / deals / activities created
(`POST`), read (`GET /{id}`), listed (cursor paging), updated (`PATCH`) and deleted; the search endpoints
(`term`, `fields`, `exact_match`, at least 2 characters or 1 with `exact_match`) with an optional index
lag; field lists `GET /v1/{person,organization,deal,activity}Fields` (standard fields and custom ones
with 40-character hash keys) and `POST` to add a field; notes (`POST /v1/notes`); error bodies
`{"success": false, "error", "error_info", "data": null}`; no upsert and no batch writes; deals
accepted without a person or an organization (as Pipedrive does: keeping them linked is the client's
job).

Limits: a burst window per token of `burst` requests per 2 s (search: `search_burst`, 10) answered 429
with `x-ratelimit-limit/-remaining/-reset` (on every answer); a daily token budget (`tokens_per_day`,
each request costing its `x-token-cost`: v2 GET 1, list 10, write 5, delete 3, search 20; v1 double)
answered 429 "Daily API token limit reached" [U: Pipedrive's exact words are undocumented]; and a
client that keeps sending through 429s (`hammer_limit` of them in 10 s) gets Cloudflare's 403 HTML page
for `block_s`. A `FaultPlan` applies after authentication, before limits and tokens are counted.
`partial_batch` has no batch to split here: on a single-record write it fails that write (its one input)
with the rule's status, without doing it.

Not emulated (docs/crms.md): leads, products, pipelines and stages as objects, call logs with
recordings, mail, files, filters, webhooks, permissions and visibility groups, merges,
`x-daily-requests-left`, and the budget's reset at the server's midnight (the window is rolling).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from callsync_sandbox.faults import COMMITTING_FAULTS, FaultInjector, FaultPlan
from callsync_sandbox.jsonapi import ApiReply, ApiRequest, BadJson, JsonApp, RequestLog
from callsync_sandbox.pipedrive.company import FIELD_LISTS, OBJECTS, SEARCH_FIELDS, Company, PipedriveError

__all__ = ["PipedriveError", "PipedriveSandbox", "token_cost"]

WINDOW_S = 2.0
_V2 = {"one": 1, "list": 10, "search": 20, "write": 5, "delete": 3}
_V1 = {"one": 2, "list": 20, "search": 40, "write": 10, "delete": 6}
_CLOUDFLARE = (
    "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>"
    "<h1>Sorry, you have been blocked</h1></body></html>"
)


def token_cost(method: str, path: str) -> int:
    """The request's `x-token-cost` (v2 from the spec; v1 from Pipedrive's rate-limiting page)."""
    costs = _V1 if path.startswith("/v1/") else _V2
    parts = [p for p in path.split("/") if p][2 if path.startswith("/api/") else 1 :]
    if method == "DELETE":
        return costs["delete"]
    if method != "GET":
        return costs["write"]
    if parts and parts[-1] == "search":
        return costs["search"]
    return costs["one"] if len(parts) >= 2 and parts[1].isdigit() else costs["list"]


class _Window:
    """Requests per rolling window for one token and lane."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._sent: deque[float] = deque()

    def take(self, now: float) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the window has room)."""
        while self._sent and now - self._sent[0] >= self.window_s:
            self._sent.popleft()
        if len(self._sent) >= self.limit:
            return False, 0, max(0.001, self._sent[0] + self.window_s - now)
        self._sent.append(now)
        reset = self._sent[0] + self.window_s - now
        return True, self.limit - len(self._sent), reset


class PipedriveSandbox:
    """An emulated Pipedrive company. Serve it with `app()`; inspect it directly from tests."""

    def __init__(
        self,
        *,
        token: str = "sandbox-token",
        burst: int = 80,
        search_burst: int = 10,
        tokens_per_day: int = 1_000_000,
        token_window_s: float = 86_400.0,
        hammer_limit: int = 50,
        block_s: float = 60.0,
        search_lag_s: float = 0.0,
        latency_s: float = 0.0,
        faults: FaultPlan | None = None,
        custom_fields: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    ) -> None:
        """`custom_fields`: object type (persons, organizations, deals, activities) -> field specs
        (`name`, `field_type`). By default the company has none: callsync creates its stamps."""
        self.token = token
        self.company = Company(custom_fields=custom_fields, search_lag_s=search_lag_s)
        self.burst = burst
        self.search_burst = search_burst
        self.tokens_per_day = tokens_per_day
        self.token_window_s = token_window_s
        self.hammer_limit = hammer_limit
        self.block_s = block_s
        self.latency_s = latency_s
        self._windows: dict[tuple[str, str], _Window] = {}
        self._spent: deque[tuple[float, int]] = deque()
        self._refusals: deque[float] = deque()
        self._blocked_until = 0.0
        self._limits = threading.Lock()
        self._faults = FaultInjector(faults)
        self.log = RequestLog()

    def app(self) -> JsonApp:
        return JsonApp(self._respond, self.log)

    # -- what tests (and a person in Pipedrive) do directly -------------------------------------------

    def records(self, object_type: str) -> list[dict[str, Any]]:
        """Live records in v2 shape, plus for inspection: `email` and `phone` (the primary values), each
        custom field's value under its label, and (persons, deals) the linked `organization`'s name."""
        with self.company.lock:
            labels = {k: f["name"] for k, f in self.company.custom_keys(object_type).items()}
            out = []
            for record in self.company.live(object_type):
                view = dict(record)
                for kind in ("email", "phone"):
                    values = record.get(f"{kind}s") or []
                    primary = [v for v in values if v.get("primary")] or values
                    view[kind] = primary[0]["value"] if primary else None
                for key, value in record.get("custom_fields", {}).items():
                    view[labels.get(key, key)] = value
                if object_type in ("persons", "deals"):
                    org = self.company.records["organizations"].get(record.get("org_id") or 0)
                    view["organization"] = org.get("name") if org else None
                out.append(view)
            return out

    def insert(self, object_type: str, body: Mapping[str, Any]) -> int:
        """Create a record as a rep would (any valid v2 body)."""
        with self.company.lock:
            return int(self.company.create(object_type, dict(body))["id"])

    def field_key(self, object_type: str, name: str) -> str | None:
        with self.company.lock:
            for key, field in self.company.custom_keys(object_type).items():
                if field["name"] == name:
                    return key
            return None

    def tokens_used(self) -> int:
        with self._limits:
            return self._used(time.monotonic())

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        return self.log.entries

    def count_requests(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> int:
        return self.log.count(method, path, status)

    # -- the front door -----------------------------------------------------------------------------

    def _token(self, request: ApiRequest) -> str | None:
        header = request.header("x-api-token")
        if header:
            return header.strip()
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return request.param("api_token")

    async def _respond(self, request: ApiRequest) -> tuple[ApiReply, bool]:
        token = self._token(request)
        if token != self.token:
            reply = _error(
                PipedriveError(401, "unauthorized access", "Please check developers.pipedrive.com")
            )
            return reply, False
        action = self._faults.act(request.method, request.path)
        if action.delay_s:
            await asyncio.sleep(action.delay_s)
        rule = action.rule
        lane = "search" if request.path.endswith("/search") else "general"
        if rule is not None and rule.fault == "connection_reset":
            return ApiReply(599), True
        if rule is not None and rule.fault in ("status", "partial_batch"):
            return self._fault(rule.status, lane), False
        limited = self._limit(token, lane, token_cost(request.method, request.path))
        if isinstance(limited, ApiReply):
            return limited, False
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        reply = self._handle(request)
        reply.headers.update(limited)
        if rule is not None and rule.fault == "timeout_after_commit":
            await asyncio.sleep(action.hold_s)
        return reply, rule is not None and rule.fault in COMMITTING_FAULTS

    def _fault(self, status: int, lane: str) -> ApiReply:
        if status == 429:
            reply = _error(
                PipedriveError(
                    429, "Too many requests", "Rate limit exceeded: retry after x-ratelimit-reset seconds"
                )
            )
            limit = self.search_burst if lane == "search" else self.burst
            reply.headers.update(
                {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2"}
            )
            return reply
        words = {
            400: "Bad request",
            403: "Forbidden",
            404: "Entity was not found",
            503: "Service unavailable",
        }
        return _error(PipedriveError(status, words.get(status, "Internal server error")))

    def _used(self, now: float) -> int:
        while self._spent and self._spent[0][0] <= now - self.token_window_s:
            self._spent.popleft()
        return sum(c for _, c in self._spent)

    def _limit(self, token: str, lane: str, cost: int) -> ApiReply | dict[str, str]:
        """The limit headers for an answer, or the refusal."""
        with self._limits:
            now = time.monotonic()
            if now < self._blocked_until:
                return _HtmlReply(403, None, {"content-type": "text/html; charset=UTF-8"})
            window = self._windows.setdefault(
                (token, lane), _Window(self.search_burst if lane == "search" else self.burst, WINDOW_S)
            )
            allowed, remaining, reset = window.take(now)
            headers = {
                "x-ratelimit-limit": str(window.limit),
                "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-reset": str(max(1, round(reset))),
            }
            if allowed and self._used(now) + cost > self.tokens_per_day:
                reply = _error(
                    PipedriveError(
                        429,
                        "Daily API token limit reached",
                        "Your company has used its daily API token budget; it resets at midnight",
                    )
                )
                reply.headers.update(headers)
                return self._refused(reply, now)
            if not allowed:
                reply = _error(
                    PipedriveError(
                        429, "Too many requests", "Rate limit exceeded: retry after x-ratelimit-reset seconds"
                    )
                )
                reply.headers.update(headers)
                return self._refused(reply, now)
            self._spent.append((now, cost))
            return headers

    def _refused(self, reply: ApiReply, now: float) -> ApiReply:
        """Count a 429; a client that keeps hammering is blocked (Cloudflare's 403 page)."""
        self._refusals.append(now)
        while self._refusals and now - self._refusals[0] > 10.0:
            self._refusals.popleft()
        if len(self._refusals) >= self.hammer_limit:
            self._blocked_until = now + self.block_s
        return reply

    def _handle(self, request: ApiRequest) -> ApiReply:
        try:
            with self.company.lock:
                return self._route(request)
        except PipedriveError as exc:
            return _error(exc)
        except BadJson:
            return _error(PipedriveError(400, "Validation failed: body is not valid JSON"))
        except ValueError as exc:
            return _error(PipedriveError(400, f"Validation failed: {exc}"))

    def _route(self, request: ApiRequest) -> ApiReply:
        parts = [p for p in request.path.split("/") if p]
        method = request.method
        if parts[:1] == ["v1"] and len(parts) == 2 and parts[1] in FIELD_LISTS:
            object_type = FIELD_LISTS[parts[1]]
            if method == "GET":
                return self._field_list(request, object_type)
            if method == "POST":
                body = request.json() or {}
                if not isinstance(body, dict):
                    raise PipedriveError(400, "Validation failed: body must be an object")
                field = self.company.add_field(
                    object_type, str(body.get("name") or ""), str(body.get("field_type") or "")
                )
                return _ok(field)
        if parts == ["v1", "notes"] and method == "POST":
            return _ok(self._note(request.json()))
        if parts[:2] != ["api", "v2"] or len(parts) < 3 or parts[2] not in OBJECTS:
            raise PipedriveError(404, "Unknown method .", "Please check developers.pipedrive.com")
        object_type, rest = parts[2], parts[3:]
        company = self.company
        if rest == ["search"] and method == "GET" and object_type in SEARCH_FIELDS:
            return self._search(request, object_type)
        if not rest and method == "GET":
            return self._list(request, object_type)
        if not rest and method == "POST":
            return _ok(company.create(object_type, request.json()))
        if len(rest) == 1 and rest[0].isdigit():
            record_id = int(rest[0])
            if method == "GET":
                return _ok(company.get(object_type, record_id))
            if method == "PATCH":
                return _ok(company.update(object_type, record_id, request.json()))
            if method == "DELETE":
                company.delete(object_type, record_id)
                return _ok({"id": record_id})
        raise PipedriveError(404, "Unknown method .", "Please check developers.pipedrive.com")

    def _field_list(self, request: ApiRequest, object_type: str) -> ApiReply:
        fields = self.company.fields[object_type]
        start = int(request.param("start") or 0)
        limit = min(500, int(request.param("limit") or 100))
        page = fields[start : start + limit]
        more = start + limit < len(fields)
        pagination = {"start": start, "limit": limit, "more_items_in_collection": more}
        if more:
            pagination["next_start"] = start + limit
        return ApiReply(200, {"success": True, "data": page, "additional_data": {"pagination": pagination}})

    def _search(self, request: ApiRequest, object_type: str) -> ApiReply:
        term = request.param("term")
        exact = (request.param("exact_match") or "").lower() == "true"
        if term is None:
            raise PipedriveError(400, "Validation failed: term: Parameter 'term' is required")
        if len(term.strip()) < (1 if exact else 2):
            raise PipedriveError(
                400, "Validation failed: term: must be at least 2 characters long (1 with exact_match)"
            )
        allowed = SEARCH_FIELDS[object_type]
        raw = request.param("fields")
        fields = frozenset(f.strip() for f in raw.split(",") if f.strip()) if raw else allowed
        if not fields <= allowed:
            bad = sorted(fields - allowed)[0]
            raise PipedriveError(
                400, f"Validation failed: fields: {bad} is not one of {', '.join(sorted(allowed))}"
            )
        found = self.company.search(object_type, term, fields, exact)
        limit = min(500, int(request.param("limit") or 100))
        start = int(request.param("cursor") or 0)
        page = found[start : start + limit]
        items = [
            {"result_score": 1.0 if exact else 0.5, "item": self.company.search_item(object_type, r)}
            for r in page
        ]
        following = str(start + limit) if start + limit < len(found) else None
        return ApiReply(
            200, {"success": True, "data": {"items": items}, "additional_data": {"next_cursor": following}}
        )

    def _list(self, request: ApiRequest, object_type: str) -> ApiReply:
        rows = sorted(self.company.live(object_type), key=lambda r: int(r["id"]))
        ids = request.param("ids")
        if ids:
            wanted = {int(i) for i in ids.split(",") if i.strip()}
            rows = [r for r in rows if r["id"] in wanted]
        # The v2 list filters by linked record and owner (GET /api/v2/activities?person_id=..., deals too).
        for key in ("person_id", "deal_id", "org_id", "owner_id"):
            value = request.param(key)
            if value:
                if not value.isdigit():
                    raise PipedriveError(400, f"Validation failed: {key}: must be an integer")
                rows = [r for r in rows if r.get(key) == int(value)]
        limit = min(500, int(request.param("limit") or 100))
        start = int(request.param("cursor") or 0)
        page = rows[start : start + limit]
        following = str(start + limit) if start + limit < len(rows) else None
        return ApiReply(200, {"success": True, "data": page, "additional_data": {"next_cursor": following}})

    def _note(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not str(body.get("content") or "").strip():
            raise PipedriveError(400, "Validation failed: content: Parameter 'content' is required")
        targets = [k for k in ("person_id", "org_id", "deal_id", "lead_id") if body.get(k)]
        if not targets:
            raise PipedriveError(
                400, "Validation failed: one of person_id, org_id, deal_id, lead_id is required"
            )
        notes = self.company.notes
        note = {"id": len(notes) + 1, "add_time": None, **{k: body[k] for k in ("content", *targets)}}
        notes.append(note)
        return note

    def notes(self) -> list[dict[str, Any]]:
        with self.company.lock:
            return [dict(n) for n in self.company.notes]


class _HtmlReply(ApiReply):
    """Cloudflare's block page: HTML, not JSON."""

    def encoded(self) -> bytes:
        return _CLOUDFLARE.encode()


def _ok(data: Any) -> ApiReply:
    return ApiReply(200, {"success": True, "data": data, "additional_data": None})


def _error(exc: PipedriveError) -> ApiReply:
    return ApiReply(exc.status, exc.body())
