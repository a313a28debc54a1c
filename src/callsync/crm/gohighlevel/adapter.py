"""GoHighLevel adapter (LeadConnector API v2, `Version: 2021-07-28`), async over the shared transport.

Scoped to one location (sub-account): every request names the tenant's `location_id`, sends that
location's token (an agency token is exchanged for it, auth.py), and a record answered from any other
location is treated as not found, so a call is written to exactly one location. What it knows:

- Objects: `contacts` (people), `opportunities` (deals, in a pipeline stage, created with their
  contact: GoHighLevel has no way to move one to another contact later), `notes` and `tasks` (under a
  contact; the record id is `<contactId>/<id>`). GoHighLevel v2 has no writable company object (a contact's
  `companyName` holds the company), so companies are refused with a message saying so.
- Fields are the API's names (`firstName`, `email`, `phone`, `companyName`, ... ; opportunities `name`,
  `monetaryValue`, `status`, ...) or the names of the location's custom fields (`callsync_origin_call_id`
  is found as the custom field `contact.callsync_origin_call_id`), written as `customFields: [{id,
  field_value}]`. `ensure_schema` creates callsync's stamp fields as TEXT custom fields. A name that is
  neither is refused before sending (`UnknownFieldError`).
- Lookups: `GET /contacts/search/duplicate` by email and by phone (it follows the location's "Allow
  Duplicate Contact" setting), the origin stamp with `POST /contacts/search` filtered on the custom
  field. Opportunities by stamp through `POST /opportunities/search` and by exact name through
  `GET /opportunities/search?q=`.
- Creates go through `POST /contacts/upsert`: with duplicates disallowed the location matches the email
  or phone itself, so a retried create whose answer was lost lands on the first record (`new: false`).
- Limits: 100 requests / 10 s per app and location and 200,000 a day, read from the `X-RateLimit-*`
  headers into the shared limiter (wire.py); 429 is `RateLimited`, the daily one `BudgetExhausted`.
- Mis-routing: `stamped(object_type, stamp_field)` lists every record of this location carrying a
  callsync origin stamp, for the reconciliation job to compare with the tenant's own calls.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import httpx

from callsync.crm.errors import field_gone
from callsync.crm.gohighlevel.auth import LocationAuth
from callsync.crm.gohighlevel.settings import GoHighLevelSettings
from callsync.crm.gohighlevel.wire import BURST, GoHighLevelVendor
from callsync.crm.http.ratelimit import limiter_for
from callsync.crm.http.transport import CRMTransport, parse_json
from callsync.crm.protocol import (
    ActionRequest,
    ActionResult,
    CRMError,
    CRMRecord,
    IdentityCandidates,
    IdentityQuery,
    PermanentError,
    RecordRef,
    UnknownFieldError,
    WriteRequest,
    WriteResult,
)
from callsync.crm.spec import AdapterContext
from callsync.reconcile.identity import normalize_phone

CONTACTS, OPPORTUNITIES, NOTES, TASKS = "contacts", "opportunities", "notes", "tasks"
# A contact's notes and tasks: (object, the answer's key); their record id is `<contactId>/<id>`.
CHILDREN = {NOTES: "note", TASKS: "task"}
_MODELS = {CONTACTS: "contact", OPPORTUNITIES: "opportunity"}
_ALIASES = {
    "contact": CONTACTS,
    "opportunity": OPPORTUNITIES,
    "deals": OPPORTUNITIES,
    "note": NOTES,
    "task": TASKS,
}
CONTACT_FIELDS = frozenset(
    {
        "firstName", "lastName", "name", "email", "phone", "companyName", "address1", "city", "state",
        "postalCode", "country", "website", "timezone", "source", "tags", "dnd", "assignedTo",
        "dateOfBirth", "gender",
    }
)  # fmt: skip
OPPORTUNITY_FIELDS = frozenset(
    {"name", "monetaryValue", "status", "pipelineId", "pipelineStageId", "assignedTo", "source"}
)
# Fields `PUT /contacts/{id}` does not take (UpdateContactDto) but the upsert does: an update of them goes
# through `POST /contacts/upsert` keyed by the contact's own email (or phone).
UPSERT_ONLY = frozenset({"companyName", "gender"})
NOTE_FIELDS = frozenset({"body", "title", "userId"})
TASK_FIELDS = frozenset({"title", "body", "dueDate", "completed", "assignedTo"})
READ_ONLY = frozenset({"id", "locationId", "contactId", "dateAdded", "dateUpdated", "createdAt", "updatedAt"})
PAGE = 100
CUSTOM_FIELDS_TTL_S = 300.0
MAX_PAGES = 1000  # a scan reads at most this many pages (100,000 records)


def object_type_of(name: str) -> str:
    return _ALIASES.get(name, name)


class GoHighLevelAdapter:
    name = "gohighlevel"
    # Per location, per process: (location, model) -> {custom field name or key -> id}.
    # Read again after CUSTOM_FIELDS_TTL_S: an admin may delete or recreate a field (a new id).
    _custom: ClassVar[dict[tuple[str, str], tuple[float, dict[str, str]]]] = {}
    # Per location: the pipeline and stage opportunities are created in.
    _stages: ClassVar[dict[str, tuple[str, str]]] = {}

    def __init__(
        self,
        token: str,
        location_id: str,
        *,
        base_url: str = "https://services.leadconnectorhq.com",
        company_id: str | None = None,
        pipeline_id: str | None = None,
        pipeline_stage_id: str | None = None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.location_id = location_id
        self.base_url = base_url.rstrip("/")
        self.pipeline_id = pipeline_id
        self.pipeline_stage_id = pipeline_stage_id
        self._account = hashlib.sha256(f"{self.base_url}|{location_id}".encode()).hexdigest()[:16]
        self.auth = LocationAuth(
            transport or httpx.AsyncHTTPTransport(), self.base_url, token, location_id, company_id
        )
        self.http = CRMTransport(
            GoHighLevelVendor(),
            self.base_url,
            "",  # the location token is set per request by LocationAuth
            timeout_s=timeout_s,
            transport=self.auth,
            limiters={"default": limiter_for("gohighlevel", self._account, *BURST)},
        )

    @classmethod
    def from_settings(cls, settings: GoHighLevelSettings, context: AdapterContext) -> GoHighLevelAdapter:
        assert settings.location_id  # the settings refuse a connection without one
        return cls(
            settings.token(),
            settings.location_id,
            base_url=settings.api_url,
            company_id=settings.company_id,
            pipeline_id=settings.pipeline_id,
            pipeline_stage_id=settings.pipeline_stage_id,
            timeout_s=settings.timeout_s,
            transport=context.transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        safe: bool = False,
    ) -> Any:
        try:
            response = await self.http.request(method, path, json=json, params=params, safe=safe)
        except UnknownFieldError as exc:
            if not self._forget_custom(exc.fields):
                raise
            # A custom field id read earlier is gone (an admin deleted or recreated the field): the retry
            # reads the location's fields again, and ensure_schema recreates callsync's own.
            raise field_gone(exc, "the location's custom fields will be read again") from exc
        return parse_json(response)

    def _forget_custom(self, refs: Sequence[str]) -> bool:
        """Drop this location's cached custom-field ids if any of `refs` is among them."""
        stale = [
            key for key, (_, fields) in self._custom.items()
            if key[0] == self._account and any(ref in fields.values() or ref in fields for ref in refs)
        ]  # fmt: skip
        for key in stale:
            self._custom.pop(key, None)
        return bool(stale)

    # -- schema -------------------------------------------------------------------------------------------

    async def custom_fields(self, object_type: str, *, fresh: bool = False) -> dict[str, str]:
        """{name and key (`contact.x` and `x`) -> id} of the location's custom fields of the object."""
        model = _MODELS.get(object_type_of(object_type))
        if model is None:
            return {}
        key = (self._account, model)
        held = self._custom.get(key)
        if fresh or held is None or time.monotonic() - held[0] > CUSTOM_FIELDS_TTL_S:
            body = await self._send(
                "GET", f"/locations/{self.location_id}/customFields", params={"model": model}
            )
            fields: dict[str, str] = {}
            for f in (body or {}).get("customFields", []):
                if f.get("model", model) != model:
                    continue
                field_key = str(f.get("fieldKey") or "")
                for name in (field_key, field_key.partition(".")[2], f.get("name")):
                    if name:
                        fields.setdefault(str(name), str(f["id"]))
            held = self._custom[key] = (time.monotonic(), fields)
        return held[1]

    async def ensure_schema(self, object_type: str, custom_fields: Sequence[str]) -> None:
        """callsync's fields exist on the object as TEXT custom fields of the location (created if not)."""
        object_type = object_type_of(object_type)
        model = _MODELS.get(object_type)
        if model is None:
            if object_type in CHILDREN:
                return
            raise _unsupported(object_type)
        known = await self.custom_fields(object_type)
        missing = [name for name in custom_fields if name not in known]
        if not missing:
            return
        known = await self.custom_fields(object_type, fresh=True)  # another worker may have made them
        for name in [n for n in missing if n not in known]:
            try:
                await self._send(
                    "POST",
                    f"/locations/{self.location_id}/customFields",
                    json={"name": name, "dataType": "TEXT", "model": model},
                )
            except PermanentError:
                # Another attempt created it meanwhile (the location refuses a second field with its key).
                if name not in await self.custom_fields(object_type, fresh=True):
                    raise
        await self.custom_fields(object_type, fresh=True)

    # -- reading ------------------------------------------------------------------------------------------

    def _mine(self, row: Any) -> bool:
        """A record of this tenant's location (anything else is never matched, read or written)."""
        return isinstance(row, dict) and row.get("locationId", self.location_id) == self.location_id

    async def _record(self, object_type: str, row: dict[str, Any], fields: Sequence[str]) -> CRMRecord:
        custom = await self.custom_fields(object_type)
        values = {
            str(c.get("id")): c.get("value", c.get("field_value")) for c in row.get("customFields") or []
        }
        out: dict[str, Any] = {}
        for name in fields:
            if name in custom:
                out[name] = values.get(custom[name])
            else:
                out[name] = row.get(name)
        record_id = str(row["id"])
        if object_type in CHILDREN:
            record_id = f"{row.get('contactId')}/{row['id']}"
        return CRMRecord(RecordRef(object_type, record_id), out)

    async def _duplicate(self, **key: str) -> dict[str, Any] | None:
        body = await self._send(
            "GET", "/contacts/search/duplicate", params={"locationId": self.location_id, **key}
        )
        contact = body.get("contact") if isinstance(body, dict) else None
        return contact if self._mine(contact) else None

    async def _search(
        self, object_type: str, filters: list[dict[str, Any]], page: int = 1
    ) -> list[dict[str, Any]]:
        path = "/contacts/search" if object_type == CONTACTS else "/opportunities/search"
        body = await self._send(
            "POST",
            path,
            json={"locationId": self.location_id, "page": page, "pageLimit": PAGE, "filters": filters},
            safe=True,
        )
        rows = (body or {}).get(object_type, [])
        return [r for r in rows if self._mine(r)]

    async def find(self, query: IdentityQuery) -> IdentityCandidates:
        found: dict[str, list[CRMRecord]] = {"email": [], "phone": [], "origin": [], "name": []}
        for object_type in map(object_type_of, query.object_types):
            if object_type not in _MODELS:
                raise _unsupported(object_type)
            if object_type == CONTACTS:
                if query.email:
                    row = await self._duplicate(email=query.email)
                    if row and str(row.get("email") or "").casefold() == query.email.casefold():
                        found["email"].append(await self._record(object_type, row, query.fields))
                if query.phone:
                    row = await self._duplicate(number=query.phone)
                    if row and normalize_phone(str(row.get("phone") or "")) == query.phone:
                        found["phone"].append(await self._record(object_type, row, query.fields))
            if query.origin_call_id and query.stamp_field:
                stamp = (await self.custom_fields(object_type)).get(query.stamp_field)
                if stamp:
                    flt = [
                        {"field": f"customFields.{stamp}", "operator": "eq", "value": query.origin_call_id}
                    ]
                    for row in await self._search(object_type, flt):
                        found["origin"].append(await self._record(object_type, row, query.fields))
            if query.name and object_type == OPPORTUNITIES:
                body = await self._send(
                    "GET", "/opportunities/search", params={"location_id": self.location_id, "q": query.name}
                )
                for row in (body or {}).get("opportunities", []):
                    if self._mine(row) and str(row.get("name", "")).casefold() == query.name.casefold():
                        record = await self._record(object_type, row, query.fields)
                        found["name"].append(
                            CRMRecord(record.ref, {**record.fields, "name": row.get("name")})
                        )
        return IdentityCandidates.from_hits(found)

    async def read(self, ref: RecordRef, fields: Sequence[str]) -> CRMRecord | None:
        object_type = object_type_of(ref.object_type)
        if object_type in CHILDREN:
            contact, _, child = ref.record_id.partition("/")
            path, key = f"/contacts/{contact}/{object_type}/{child}", CHILDREN[object_type]
        elif object_type in _MODELS:
            path, key = f"/{object_type}/{ref.record_id}", _MODELS[object_type]
        else:
            raise _unsupported(object_type)
        try:
            body = await self._send("GET", path)
        except PermanentError as exc:
            if exc.status in (400, 403, 404):  # not found, or a record of another location
                return None
            raise
        row = body.get(key) if isinstance(body, dict) else None
        if not self._mine(row):
            return None
        assert isinstance(row, dict)
        return await self._record(object_type, row, fields)

    async def stamped(
        self, object_type: str, stamp_field: str, fields: Sequence[str] = ()
    ) -> list[CRMRecord]:
        """Every record of this location that carries a callsync origin stamp (any call's), with the stamp
        and `fields`: what the reconciliation job compares with the tenant's own calls to find a record
        written to the wrong location."""
        object_type = object_type_of(object_type)
        stamp = (await self.custom_fields(object_type)).get(stamp_field)
        if stamp is None:
            return []
        flt = [{"field": f"customFields.{stamp}", "operator": "exists"}]
        out: list[CRMRecord] = []
        for page in range(1, MAX_PAGES + 1):
            rows = await self._search(object_type, flt, page)
            for row in rows:
                out.append(await self._record(object_type, row, (stamp_field, *fields)))
            if len(rows) < PAGE:
                break
        return out

    # -- writing ------------------------------------------------------------------------------------------

    async def _body(self, object_type: str, values: dict[str, Any]) -> dict[str, Any]:
        standard = {
            CONTACTS: CONTACT_FIELDS,
            OPPORTUNITIES: OPPORTUNITY_FIELDS,
            NOTES: NOTE_FIELDS,
            TASKS: TASK_FIELDS,
        }[object_type]
        custom = await self.custom_fields(object_type)
        body: dict[str, Any] = {}
        customs: list[dict[str, Any]] = []
        unknown: list[str] = []
        for name, value in values.items():
            if name in standard:
                body[name] = value
            elif name in custom:
                customs.append({"id": custom[name], "field_value": value})
            else:
                unknown.append(name)
        if unknown:
            raise UnknownFieldError(
                f"GoHighLevel {object_type} of location {self.location_id} have no field "
                + ", ".join(repr(n) for n in unknown)
                + " (neither an API field nor a custom field of the location): fix the mapping",
                fields=tuple(unknown),
            )
        if customs:
            body["customFields"] = customs
        return body

    async def write(self, request: WriteRequest) -> WriteResult:
        object_type = object_type_of(request.object_type)
        if object_type not in (CONTACTS, OPPORTUNITIES, *CHILDREN):
            raise _unsupported(object_type)
        body = await self._body(object_type, request.fields)
        if object_type in CHILDREN:
            return await self._child(object_type, request, body)
        if request.record_id is not None:
            if await self.read(RecordRef(object_type, request.record_id), ()) is None:
                raise PermanentError(
                    f"GoHighLevel {object_type} {request.record_id} is not in location {self.location_id}"
                )
            answer = None
            if object_type == CONTACTS and UPSERT_ONLY & body.keys():
                await self._upsert_update(
                    request.record_id, {k: body.pop(k) for k in UPSERT_ONLY & body.keys()}
                )
            if body:
                answer = await self._send("PUT", f"/{object_type}/{request.record_id}", json=body)
            return WriteResult(RecordRef(object_type, request.record_id), False, _trace(answer))
        body["locationId"] = self.location_id
        if object_type == CONTACTS:
            answer = await self._send("POST", "/contacts/upsert", json=body)
            contact = (answer or {}).get("contact") or {}
            if not contact.get("id"):
                raise PermanentError("POST /contacts/upsert answered without a contact id")
            return WriteResult(
                RecordRef(CONTACTS, str(contact["id"])), bool(answer.get("new")), _trace(answer)
            )
        contact_id = _linked(request, CONTACTS)
        if contact_id is None:
            raise PermanentError(
                "refused: a GoHighLevel opportunity is created with its contact (contactId) and cannot be "
                "linked later; this write names no contact, so it would leave an orphan opportunity"
            )
        pipeline, stage = await self._stage()
        body = {
            "pipelineId": pipeline,
            "pipelineStageId": stage,
            "status": "open",
            **body,
            "contactId": contact_id,
        }
        answer = await self._send("POST", "/opportunities/", json=body)
        opportunity = (answer or {}).get("opportunity") or {}
        if not opportunity.get("id"):
            raise PermanentError("POST /opportunities/ answered without an opportunity id")
        return WriteResult(RecordRef(OPPORTUNITIES, str(opportunity["id"])), True, _trace(answer))

    async def _upsert_update(self, record_id: str, values: dict[str, Any]) -> None:
        current = await self._send("GET", f"/contacts/{record_id}")
        row = (current or {}).get("contact") or {}
        keys = {k: row[k] for k in ("email", "phone") if row.get(k)}
        if not keys:
            raise UnknownFieldError(
                f"GoHighLevel cannot update {', '.join(sorted(values))} of contact {record_id}: the update "
                "endpoint does not take it and the upsert needs the contact's email or phone, which it lacks",
                fields=tuple(sorted(values)),
            )
        key = dict(list(keys.items())[:1])  # the location's first duplicate key finds this contact
        answer = await self._send(
            "POST", "/contacts/upsert", json={"locationId": self.location_id, **key, **values}
        )
        landed = str(((answer or {}).get("contact") or {}).get("id") or "")
        if landed != record_id:
            raise PermanentError(
                f"POST /contacts/upsert by the email/phone of contact {record_id} updated contact {landed} "
                f"instead (the location allows duplicate contacts): {', '.join(sorted(values))} not written"
            )

    async def _child(self, object_type: str, request: WriteRequest, body: dict[str, Any]) -> WriteResult:
        """A note or a task: under its contact (`/contacts/{id}/notes|tasks`)."""
        key = CHILDREN[object_type]
        if request.record_id is not None:
            contact, _, child = request.record_id.partition("/")
            answer = await self._send("PUT", f"/contacts/{contact}/{object_type}/{child}", json=body)
            return WriteResult(RecordRef(object_type, request.record_id), False, _trace(answer))
        contact_id = _linked(request, CONTACTS)
        if contact_id is None:
            raise PermanentError(
                f"refused: a GoHighLevel {key} belongs to a contact, and this write names none"
            )
        if object_type == TASKS:
            body = {"completed": False, **body}
        answer = await self._send("POST", f"/contacts/{contact_id}/{object_type}", json=body)
        row = (answer or {}).get(key) or {}
        if not row.get("id"):
            raise PermanentError(f"POST /contacts/{contact_id}/{object_type} answered without a {key} id")
        return WriteResult(RecordRef(object_type, f"{contact_id}/{row['id']}"), True, _trace(answer))

    async def _stage(self) -> tuple[str, str]:
        if self.pipeline_id and self.pipeline_stage_id:
            return self.pipeline_id, self.pipeline_stage_id
        if self._account not in self._stages:
            body = await self._send(
                "GET", "/opportunities/pipelines", params={"locationId": self.location_id}
            )
            pipelines = (body or {}).get("pipelines") or []
            chosen = (
                next((p for p in pipelines if p.get("id") == self.pipeline_id), None)
                if self.pipeline_id
                else None
            )
            chosen = chosen or (pipelines[0] if pipelines else None)
            stages = (chosen or {}).get("stages") or []
            if chosen is None or not stages:
                raise PermanentError(
                    f"GoHighLevel location {self.location_id} has no pipeline with stages to put opportunities in"
                )
            self._stages[self._account] = (str(chosen["id"]), str(stages[0]["id"]))
        pipeline, stage = self._stages[self._account]
        return pipeline, self.pipeline_stage_id or stage

    async def write_batch(self, requests: Sequence[WriteRequest]) -> list[WriteResult | CRMError]:
        """GoHighLevel has no bulk create or update for contacts: one request each, results in order."""
        results: list[WriteResult | CRMError] = []
        for request in requests:
            try:
                results.append(await self.write(request))
            except CRMError as exc:
                results.append(exc)
        return results

    # -- workflow actions (crm/gohighlevel/actions.py) ----------------------------------------------------

    async def act(self, request: ActionRequest) -> ActionResult:
        from callsync.crm.gohighlevel.actions import act

        return await act(self, request)

    async def find_action(self, request: ActionRequest) -> RecordRef | None:
        from callsync.crm.gohighlevel.actions import find_action

        return await find_action(self, request)

    async def associate(self, source: RecordRef, target: RecordRef) -> None:
        """An opportunity or a note is linked to its contact when it is created; this checks the link holds
        (GoHighLevel cannot move an opportunity to another contact)."""
        pair = {object_type_of(source.object_type): source, object_type_of(target.object_type): target}
        contact = pair.get(CONTACTS)
        other = pair.get(OPPORTUNITIES) or pair.get(NOTES) or pair.get(TASKS)
        if contact is None or other is None:
            raise PermanentError(
                f"GoHighLevel cannot link {source.object_type} to {target.object_type}: only opportunities, "
                "notes and tasks are linked, to a contact, when they are created"
            )
        if object_type_of(other.object_type) in CHILDREN:
            if other.record_id.partition("/")[0] != contact.record_id:
                raise PermanentError(
                    f"{other.object_type} {other.record_id} belongs to another contact than {contact.record_id}"
                )
            return
        body = await self._send("GET", f"/opportunities/{other.record_id}")
        row = (body or {}).get("opportunity") or {}
        if not self._mine(row):
            raise PermanentError(f"opportunity {other.record_id} is not in location {self.location_id}")
        if str(row.get("contactId")) != contact.record_id:
            raise PermanentError(
                f"opportunity {other.record_id} belongs to contact {row.get('contactId')}, not "
                f"{contact.record_id}; GoHighLevel cannot move it to another contact"
            )


def _linked(request: WriteRequest, object_type: str) -> str | None:
    for ref in request.associations:
        if object_type_of(ref.object_type) == object_type:
            return ref.record_id
    return None


def _trace(answer: Any) -> str | None:
    trace = answer.get("traceId") if isinstance(answer, dict) else None
    return str(trace) if trace else None


def _unsupported(object_type: str) -> PermanentError:
    if object_type in ("companies", "company", "businesses"):
        return PermanentError(
            "GoHighLevel v2 has no writable company object callsync writes to: keep the company on the contact "
            "(companyName), see docs/crms.md"
        )
    return PermanentError(
        f"GoHighLevel has no object {object_type!r} callsync writes (contacts, opportunities, notes, tasks)"
    )
