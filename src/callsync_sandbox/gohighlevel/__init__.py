"""GoHighLevel (LeadConnector API v2) emulator: locations, tokens, contacts, opportunities, notes, limits.

Reproduces what a client must cope with (crm-apis.md §5; paths, bodies and error shapes from
crm-specs/gohighlevel/apps/*.json): every request needs `Authorization: Bearer <token>` and
`Version: 2021-07-28`; an agency token only mints location tokens (`POST /oauth/locationToken`, a form
body), a location token reaches only its own location (403 elsewhere); contacts with `POST /contacts/`,
`POST /contacts/upsert` (200 `{new, contact, traceId}`), `GET`/`PUT /contacts/{id}`,
`GET /contacts/search/duplicate` and `POST /contacts/search` (filters on `email`, `phone` and
`customFields.<id>`, `eq` / `exists`), honouring the location's "Allow Duplicate Contact" setting (off:
email and phone are unique, a create of an existing one is the 400 naming `meta.contactId`; on: creates
always create, upsert and duplicate search follow `duplicate_priority`); an email matching one contact
and a phone another: the first is updated and the phone dropped; custom fields per location
(`/locations/{id}/customFields`), written as `[{id|key, field_value}]`, read as `[{id, value}]`;
pipelines and opportunities (created with their contact, which cannot be changed later); notes and tasks
under a contact; calendars and appointments (calendars.py); unknown body properties refused with 422 `property X should not exist`; per location 100
requests / 10 s and a daily allowance, with the five `X-RateLimit-*` headers on every answer and 429 when
either is spent; and a `FaultPlan` applied after authentication, before the allowance is counted.

Not emulated (docs/sandbox.md): conversations and the Call message type, businesses, companies,
associations/relations, custom objects, tags endpoints, workflows, OAuth code and refresh grants,
advanced search beyond the filters above, and paging beyond `page`/`pageLimit`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

from callsync_sandbox.faults import COMMITTING_FAULTS, FaultInjector, FaultPlan
from callsync_sandbox.gohighlevel import calendars
from callsync_sandbox.gohighlevel.location import (
    CREATE_CONTACT,
    NOTE,
    TASK,
    UPDATE_CONTACT,
    UPSERT_CONTACT,
    Allowance,
    GhlError,
    Location,
    new_id,
    now_iso,
    output,
    refuse_unknown,
)
from callsync_sandbox.jsonapi import ApiReply, ApiRequest, BadJson, JsonApp, RequestLog

__all__ = ["GhlError", "GoHighLevelSandbox"]

# A contact's child objects: path segment -> (answer key, body properties, required on create).
_CHILDREN: dict[str, tuple[str, frozenset[str], tuple[str, ...]]] = {
    "notes": ("note", NOTE, ("body",)),
    "tasks": ("task", TASK, ("title", "dueDate", "completed")),
}

API_VERSIONS = ("2021-07-28", "2021-04-15")
_NOT_LOCATION = "The token does not have access to this location."
_FAULTS = {
    400: "Bad Request",
    401: "Invalid token: access token is invalid",
    403: "Forbidden resource",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too many requests",
}


class GoHighLevelSandbox:
    """An emulated GoHighLevel agency with one or more locations. Serve it with `app()`; inspect and act on
    it directly from tests (`records`, `insert`, `token_for`)."""

    def __init__(
        self,
        *,
        token: str = "sandbox-token",
        locations: Iterable[str] = ("location-1",),
        company_id: str = "company-1",
        agency_token: str | None = None,
        allow_duplicates: bool = False,
        duplicate_priority: tuple[str, ...] = ("email", "phone"),
        burst_max: int = 100,
        interval_s: float = 10.0,
        daily_max: int = 200_000,
        latency_s: float = 0.0,
        faults: FaultPlan | None = None,
    ) -> None:
        """`token` is the location token of the first location; each other location's is
        `token_for(location)`. `agency_token` (default `agency-<token>`) mints location tokens."""
        self.company_id = company_id
        self.agency_token = agency_token or f"agency-{token}"
        self.lock = threading.RLock()
        self.locations: dict[str, Location] = {}
        self.tokens: dict[str, str] = {}  # location token -> location id
        for i, location_id in enumerate(locations):
            self.locations[location_id] = Location(
                location_id,
                allow_duplicates=allow_duplicates,
                duplicate_priority=duplicate_priority,
                allowance=Allowance(burst_max, interval_s, daily_max),
            )
            self.tokens[token if i == 0 else f"{token}-{location_id}"] = location_id
        self.latency_s = latency_s
        self._faults = FaultInjector(faults)
        self.log = RequestLog()
        self.minted = 0

    def app(self) -> JsonApp:
        return JsonApp(self._respond, self.log)

    # -- what tests (and a person in the CRM) do directly ---------------------------------------------

    def location(self, location_id: str | None = None) -> Location:
        return self.locations[location_id or next(iter(self.locations))]

    def token_for(self, location_id: str) -> str:
        return next(t for t, loc in self.tokens.items() if loc == location_id)

    def set_allow_duplicates(self, allow: bool, location_id: str | None = None) -> None:
        with self.lock:
            self.location(location_id).allow_duplicates = allow

    def records(self, object_type: str = "contacts", location_id: str | None = None) -> list[dict[str, Any]]:
        """Records as flat dicts: the API's fields plus each custom field under its key's name
        (`callsync_origin_call_id`); every location's unless one is named."""
        with self.lock:
            places = [self.location(location_id)] if location_id else list(self.locations.values())
            out = []
            for place in places:
                rows = getattr(place, object_type).values()
                for row in sorted(rows, key=lambda r: r.get("_order", 0)):
                    flat = output(row)
                    for item in row.get("customFields", []):
                        field = place.custom_fields.get(item["id"])
                        if field is not None:
                            flat[field["fieldKey"].partition(".")[2]] = item["value"]
                    out.append(flat)
            return out

    def insert(self, object_type: str, fields: Mapping[str, Any], location_id: str | None = None) -> str:
        """A record as a person (or another integration) makes it; custom fields by name are created."""
        with self.lock:
            place = self.location(location_id)
            model = "contact" if object_type == "contacts" else "opportunity"
            body: dict[str, Any] = {}
            customs = []
            for key, value in fields.items():
                if key in CREATE_CONTACT or key in ("contactId", "pipelineId", "pipelineStageId", "status",
                                                    "monetaryValue") or (key, model) == ("name", "opportunity"):  # fmt: skip
                    body[key] = value
                    continue
                if not any(f["fieldKey"] == f"{model}.{key}" for f in place.custom_fields.values()):
                    place.add_custom_field({"name": key, "dataType": "TEXT", "model": model})
                customs.append({"key": key, "field_value": value})
            if customs:
                body["customFields"] = customs
            if object_type == "contacts":
                return str(place.create_contact(body, check_duplicates=False)["id"])
            pipeline: dict[str, Any] = place.pipelines[0]
            body.setdefault("pipelineId", pipeline["id"])
            body.setdefault("pipelineStageId", pipeline["stages"][0]["id"])
            body.setdefault("status", "open")
            body["locationId"] = place.id
            return str(place.create_opportunity(body)["id"])

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        return self.log.entries

    def count_requests(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> int:
        return self.log.count(method, path, status)

    # -- the front door -----------------------------------------------------------------------------

    async def _respond(self, request: ApiRequest) -> tuple[ApiReply, bool]:
        if request.header("version") not in API_VERSIONS:
            return _error(GhlError(400, "Version header was not found")), False
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        token = token.strip()
        if scheme != "Bearer" or not token:
            return _error(GhlError(401, "Invalid token: access token is invalid")), False
        if request.path.rstrip("/") == "/oauth/locationToken" and request.method == "POST":
            return self._mint(request, token), False
        location_id = self.tokens.get(token)
        if location_id is None:
            if token == self.agency_token:
                return _error(
                    GhlError(401, "This route is not yet supported by the Agency Access Token")
                ), False
            return _error(GhlError(401, "Invalid token: access token is invalid")), False
        place = self.locations[location_id]
        action = self._faults.act(request.method, request.path)
        if action.delay_s:
            await asyncio.sleep(action.delay_s)
        rule = action.rule
        if rule is not None and rule.fault in ("status", "partial_batch"):  # no batches: one input fails
            reply = _error(GhlError(rule.status, _FAULTS.get(rule.status, "Internal Server Error")))
            reply.headers.update(place.allowance.headers())
            return reply, False
        if rule is not None and rule.fault == "connection_reset":
            return ApiReply(599), True
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        allowed, headers = place.allowance.take()
        if not allowed:
            reply = _error(GhlError(429, "Too many requests"))
        else:
            try:
                with self.lock:
                    reply = self._route(request, place)
            except GhlError as exc:
                reply = _error(exc)
            except BadJson:
                reply = _error(GhlError(400, "Bad Request"))
        reply.headers.update(headers)
        if rule is not None and rule.fault == "timeout_after_commit":
            await asyncio.sleep(action.hold_s)
        return reply, rule is not None and rule.fault in COMMITTING_FAULTS

    def _mint(self, request: ApiRequest, token: str) -> ApiReply:
        if token != self.agency_token:
            return _error(GhlError(401, "Invalid token: access token is invalid"))
        form = {k: v[0] for k, v in parse_qs(request.body.decode("latin-1")).items() if v}
        missing = [f"{k} should not be empty" for k in ("companyId", "locationId") if not form.get(k)]
        if missing:
            return _error(GhlError(422, missing))
        if form["companyId"] != self.company_id:
            return _error(GhlError(400, "Company not found"))
        if form["locationId"] not in self.locations:
            return _error(GhlError(400, "Location not found or the app is not installed in it"))
        minted = f"loc-{new_id()}"
        with self.lock:
            self.tokens[minted] = form["locationId"]
            self.minted += 1
        return ApiReply(
            200,
            {
                "access_token": minted, "token_type": "Bearer", "expires_in": 86399,
                "scope": "contacts.readonly contacts.write opportunities.readonly opportunities.write "
                "locations/customFields.readonly locations/customFields.write",
                "locationId": form["locationId"], "userId": "sandbox-user", "appId": "sandbox-app",
            },
        )  # fmt: skip

    # -- routes -------------------------------------------------------------------------------------

    def _route(self, request: ApiRequest, place: Location) -> ApiReply:
        method = request.method
        parts = [p for p in request.path.split("/") if p]
        named = request.param("locationId") or request.param("location_id")
        body = request.json() if method in ("POST", "PUT") else None
        if isinstance(body, dict) and body.get("locationId"):
            named = named or str(body["locationId"])
        if named is not None and named != place.id:
            raise GhlError(403, _NOT_LOCATION)
        if len(parts) == 3 and parts[0] == "contacts" and parts[2] == "appointments" and method == "GET":
            self._owned("contacts", parts[1], place, "Contact")
            return ApiReply(200, calendars.of_contact(place, parts[1]))
        if parts[:1] == ["contacts"]:
            return self._contacts(request, place, parts[1:], body)
        if parts[:1] == ["opportunities"]:
            return self._opportunities(request, place, parts[1:], body)
        if parts[:1] == ["calendars"]:
            status, answer = calendars.route(place, method, parts[1:], body)
            return ApiReply(status, answer)
        if parts[:1] == ["locations"] and len(parts) >= 3 and parts[2] == "customFields":
            if parts[1] not in self.locations:
                raise GhlError(400, "Location not found")
            if parts[1] != place.id:
                raise GhlError(403, _NOT_LOCATION)
            if len(parts) == 3 and method == "GET":
                model = request.param("model")
                fields = [dict(f) for f in place.custom_fields.values() if model in (None, "all", f["model"])]
                return ApiReply(200, {"customFields": fields})
            if len(parts) == 3 and method == "POST":
                return ApiReply(200, {"customField": place.add_custom_field(_object(body))})
        raise GhlError(404, f"Cannot {method} {request.path}", error="Not Found")

    def _owned(self, table: str, record_id: str, place: Location, what: str) -> dict[str, Any]:
        for other in self.locations.values():
            row = getattr(other, table).get(record_id)
            if row is not None:
                if other is not place:
                    raise GhlError(403, _NOT_LOCATION)
                return row  # type: ignore[no-any-return]
        raise GhlError(400, f"{what} not found")

    def _contacts(self, request: ApiRequest, place: Location, rest: list[str], body: Any) -> ApiReply:
        method = request.method
        if not rest and method == "POST":
            data = _object(body)
            refuse_unknown(data, CREATE_CONTACT)
            _need_location(data)
            return ApiReply(201, {"contact": output(place.create_contact(data))})
        if rest == ["upsert"] and method == "POST":
            data = _object(body)
            refuse_unknown(data, UPSERT_CONTACT)
            _need_location(data)
            contact, new = place.upsert_contact(data)
            return ApiReply(200, {"new": new, "contact": output(contact), "traceId": new_id()})
        if rest == ["search", "duplicate"] and method == "GET":
            if request.param("locationId") is None:
                raise GhlError(422, ["locationId should not be empty"])
            query = {"email": request.param("email"), "phone": request.param("number")}
            found, _ = place.duplicate_of(query)
            return ApiReply(200, {"contact": output(found) if found else None})
        if rest == ["search"] and method == "POST":
            data = _object(body)
            rows = self._search(place, place.contacts, "contact", data)
            return ApiReply(200, {"contacts": rows[0], "total": rows[1]})
        if len(rest) == 1 and method in ("GET", "PUT", "DELETE"):
            row = self._owned("contacts", rest[0], place, "Contact")
            if method == "GET":
                return ApiReply(200, {"contact": output(row)})
            if method == "DELETE":
                del place.contacts[rest[0]]
                return ApiReply(200, {"succeded": True})
            data = _object(body)
            refuse_unknown(data, UPDATE_CONTACT)
            if not place.allow_duplicates:
                for key in ("email", "phone"):
                    holders = [h for h in place.matches(key, data.get(key)) if h["id"] != row["id"]]
                    if holders:
                        raise GhlError(
                            400, "This location does not allow duplicated contacts.",
                            meta={"contactName": holders[0].get("name", ""), "contactId": holders[0]["id"],
                                  "matchingField": key},
                        )  # fmt: skip
            place._contact_values(row, data)
            return ApiReply(200, {"succeded": True, "contact": output(row)})
        if len(rest) >= 2 and rest[1] in _CHILDREN:
            row = self._owned("contacts", rest[0], place, "Contact")
            return self._children(request, place, row, rest[1], rest[2:], body)
        raise GhlError(404, f"Cannot {method} {request.path}", error="Not Found")

    def _children(
        self,
        request: ApiRequest,
        place: Location,
        contact: dict[str, Any],
        kind: str,
        rest: list[str],
        body: Any,
    ) -> ApiReply:
        """A contact's notes (NotesDTO: `body` required) or tasks (CreateTaskParams: `title`, `dueDate`,
        `completed` required)."""
        method = request.method
        key, allowed, required = _CHILDREN[kind]
        table: dict[str, dict[str, Any]] = getattr(place, kind)
        if not rest and method == "GET":
            rows = [output(n) for n in table.values() if n["contactId"] == contact["id"]]
            return ApiReply(200, {kind: rows})
        if not rest and method == "POST":
            data = _object(body)
            refuse_unknown(data, allowed)
            missing = [f"{k} should not be empty" for k in required if data.get(k) in (None, "")]
            if missing:
                raise GhlError(422, missing)
            row = {"id": new_id(), "contactId": contact["id"], "dateAdded": now_iso(), **data}
            table[row["id"]] = row
            return ApiReply(201, {key: output(row)})
        if len(rest) == 1 and method in ("GET", "PUT"):
            found = table.get(rest[0])
            if found is None or found["contactId"] != contact["id"]:
                raise GhlError(400, f"{key.capitalize()} not found")
            if method == "PUT":
                data = _object(body)
                refuse_unknown(data, allowed)
                found.update(data)
            return ApiReply(200, {key: output(found)})
        raise GhlError(404, f"Cannot {method} {request.path}", error="Not Found")

    def _opportunities(self, request: ApiRequest, place: Location, rest: list[str], body: Any) -> ApiReply:
        method = request.method
        if rest == ["pipelines"] and method == "GET":
            return ApiReply(200, {"pipelines": [dict(p) for p in place.pipelines]})
        if not rest and method == "POST":
            return ApiReply(201, {"opportunity": output(place.create_opportunity(_object(body)))})
        if rest == ["search"] and method == "POST":
            rows, total = self._search(place, place.opportunities, "opportunity", _object(body))
            return ApiReply(200, {"opportunities": rows, "meta": {"total": total}})
        if rest == ["search"] and method == "GET":
            if request.param("location_id") is None:
                raise GhlError(422, ["location_id should not be empty"])
            q = (request.param("q") or "").casefold()
            contact = request.param("contact_id")
            rows = [
                output(r)
                for r in sorted(place.opportunities.values(), key=lambda r: r["_order"])
                if q in str(r.get("name", "")).casefold() and contact in (None, r.get("contactId"))
            ]
            limit = int(request.param("limit") or 20)
            return ApiReply(200, {"opportunities": rows[:limit], "meta": {"total": len(rows)}})
        if len(rest) == 1 and method in ("GET", "PUT"):
            row = self._owned("opportunities", rest[0], place, "Opportunity")
            if method == "PUT":
                place.update_opportunity(row, _object(body))
            return ApiReply(200, {"opportunity": output(row)})
        raise GhlError(404, f"Cannot {method} {request.path}", error="Not Found")

    def _search(
        self, place: Location, table: dict[str, dict[str, Any]], model: str, body: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], int]:
        """Advanced search, the subset callsync uses: AND of filters `{field, operator, value}` on
        `email`, `phone`, `contactId`, `name` or `customFields.<id>`; operators `eq`, `exists`,
        `not_exists`; `page` / `pageLimit` (at most 500)."""
        if not body.get("locationId"):
            raise GhlError(422, ["locationId should not be empty"])
        filters = body.get("filters") or []
        if not isinstance(filters, list):
            raise GhlError(422, ["filters must be an array"])
        rows = sorted(table.values(), key=lambda r: r["_order"])
        for flt in filters:
            field, op, value = flt.get("field"), flt.get("operator"), flt.get("value")
            if op not in ("eq", "exists", "not_exists"):
                raise GhlError(422, [f"operator {op} is not supported"])
            if isinstance(field, str) and field.startswith("customFields."):
                field_id = field.partition(".")[2]
                if field_id not in place.custom_fields or place.custom_fields[field_id]["model"] != model:
                    raise GhlError(422, [f"filter field {field} is not a custom field of this location"])

                def get(r: dict[str, Any], f: str = field_id) -> Any:
                    return place.custom_value(r, f)
            elif field in ("email", "phone", "contactId", "name", "firstName", "lastName"):

                def get(r: dict[str, Any], f: str = field) -> Any:
                    return r.get(f)
            else:
                raise GhlError(422, [f"filter field {field} is not supported"])
            if op == "exists":
                rows = [r for r in rows if get(r) not in (None, "")]
            elif op == "not_exists":
                rows = [r for r in rows if get(r) in (None, "")]
            elif field == "email":
                rows = [r for r in rows if str(get(r) or "").casefold() == str(value).casefold()]
            else:
                rows = [r for r in rows if get(r) == value]
        limit = min(500, int(body.get("pageLimit") or 20))
        page = max(1, int(body.get("page") or 1))
        return [output(r) for r in rows[(page - 1) * limit : page * limit]], len(rows)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise GhlError(400, "Bad Request")
    return body


def _need_location(data: Mapping[str, Any]) -> None:
    if not data.get("locationId"):
        raise GhlError(422, ["locationId should not be empty"])


def _error(error: GhlError) -> ApiReply:
    return ApiReply(error.status, error.body())
