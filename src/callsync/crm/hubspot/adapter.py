"""HubSpot CRM adapter (REST v3 object APIs, v4 associations), async over httpx.

Works unchanged against api.hubapi.com or the sandbox: only `base_url` and the token differ.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from callsync.crm.errors import field_gone
from callsync.crm.http.ratelimit import WindowLimiter, limiter_for
from callsync.crm.http.transport import DEFAULT_LANE, CRMTransport
from callsync.crm.hubspot.batches import (
    HubSpotBatches,
    association_inputs,
    to_record,
    wire,
)
from callsync.crm.hubspot.settings import DEFAULT_BASE_URL
from callsync.crm.hubspot.wire import SEARCH_LANE, HubSpotVendor
from callsync.crm.phones import phone_variants
from callsync.crm.protocol import (
    ActionRequest,
    ActionResult,
    ConflictError,
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

__all__ = ["DEFAULT_BASE_URL", "HubSpotAdapter", "phone_variants"]


class HubSpotAdapter:
    name = "hubspot"

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: WindowLimiter | None = None,
        batching: bool = False,
        search_per_second: int | None = None,
    ) -> None:
        """`batching`: send lookups and writes through HubSpot's batch endpoints, together with those of
        other write attempts on this event loop (the delivery engine's long-lived adapter does).
        `search_per_second`: the portal's search limit, when not HubSpot's published one."""
        self.base_url = base_url.rstrip("/")
        account = hashlib.sha256(f"{self.base_url}|{token}".encode()).hexdigest()[:16]
        vendor = HubSpotVendor()
        searches, search_interval_s = vendor.windows[SEARCH_LANE]
        self.http = CRMTransport(
            vendor,
            self.base_url,
            token,
            timeout_s=timeout_s,
            transport=transport,
            limiters={
                DEFAULT_LANE: limiter or limiter_for("hubspot", account, *vendor.windows[DEFAULT_LANE]),
                SEARCH_LANE: limiter_for(
                    "hubspot-search", account, search_per_second or searches, search_interval_s
                ),
            },
        )
        self._account = account
        # Properties known to exist, checked once per adapter. A process-wide cache would outlive a new
        # portal behind the same URL; a property deleted meanwhile is forgotten when a write names it.
        self._known_properties: set[tuple[str, str, str]] = set()
        self._schema_lock: asyncio.Lock | None = None
        self.breaker = self.http.breaker
        self.batches = (
            HubSpotBatches(self._send, self._request_id, self._forget_missing_properties)
            if batching
            else None
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def scan(self, object_type: str, fields: Sequence[str], since: datetime | None) -> list[CRMRecord]:
        """Every record of a type modified since a moment, paged (the reconciliation job's bulk read)."""
        from callsync.crm.hubspot.scan import scan_records

        return await scan_records(self, object_type, fields, since)

    # -- transport -------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        search: bool = False,
        safe: bool = False,
    ) -> httpx.Response:
        """Through the shared transport. `search` uses the search limiter; `safe`: a read sent as POST
        (search, batch/read), repeatable whatever happened to it."""
        try:
            return await self.http.request(
                method,
                path,
                json=json,
                params=params,
                safe=safe or search,
                lane=SEARCH_LANE if search else DEFAULT_LANE,
            )
        except UnknownFieldError as exc:
            missing = self._forget_missing(exc.fields)
            if not missing:
                raise
            # A property callsync made sure of is gone (deleted by an admin): forget it, so the retry
            # creates it again.
            raise field_gone(exc, f"callsync property {', '.join(missing)} will be re-created") from exc

    def _request_id(self, response: httpx.Response, body: dict[str, Any]) -> str | None:
        return self.http.request_id(response, body)

    def _forget_missing(self, names: Sequence[str]) -> list[str]:
        """Forget the known properties among `names`; the names forgotten."""
        ours = [k for k in self._known_properties if k[2] in names]
        for key in ours:
            self._known_properties.discard(key)
        return [k[2] for k in ours]

    def _forget_missing_properties(self, body: dict[str, Any]) -> list[str]:
        """The same for an error body (a batch answer's error item) naming properties that do not exist."""
        named: list[str] = []
        for error in body.get("errors") or []:
            if isinstance(error, dict) and error.get("code") == "PROPERTY_DOESNT_EXIST":
                named += (error.get("context") or {}).get("propertyName") or []
        return self._forget_missing(named)

    # -- protocol ----------------------------------------------------------------------------------

    async def ensure_schema(self, object_type: str, custom_fields: Sequence[str]) -> None:
        if all((self._account, object_type, name) in self._known_properties for name in custom_fields):
            return
        # Attempts sharing this adapter check (and create) each property once, not all at the same time.
        self._schema_lock = self._schema_lock or asyncio.Lock()
        async with self._schema_lock:
            await self._ensure_properties(object_type, custom_fields)

    async def _ensure_properties(self, object_type: str, custom_fields: Sequence[str]) -> None:
        for position, name in enumerate(custom_fields):
            if (self._account, object_type, name) in self._known_properties:
                continue
            try:
                await self._send("GET", f"/crm/v3/properties/{object_type}/{name}")
            except PermanentError as exc:
                if exc.status != 404:
                    raise
                await self._create_property(object_type, name, unique=position == 0)
            self._known_properties.add((self._account, object_type, name))

    async def _create_property(self, object_type: str, name: str, *, unique: bool) -> None:
        body: dict[str, Any] = {
            "name": name,
            "label": name.replace("_", " ").title(),
            "type": "string",
            "fieldType": "text",
            "groupName": _PROPERTY_GROUPS.get(object_type, f"{object_type[:-1]}information"),
            "description": "Written by callsync: the call that created or last updated this record.",
            # The origin stamp is unique: a retried create then conflicts instead of doubling, and the
            # record is read by it exactly (idProperty) instead of through the lagging search index.
            "hasUniqueValue": unique,
        }
        with contextlib.suppress(ConflictError):  # created meanwhile by another worker
            await self._send("POST", f"/crm/v3/properties/{object_type}", json=body)

    async def _search(
        self, object_type: str, groups: list[dict[str, Any]], fields: Sequence[str]
    ) -> list[CRMRecord]:
        body = {"filterGroups": groups, "properties": list(fields), "limit": 20}
        response = await self._send("POST", f"/crm/v3/objects/{object_type}/search", json=body, search=True)
        return [to_record(object_type, item) for item in response.json().get("results", [])]

    async def find(self, query: IdentityQuery) -> IdentityCandidates:
        by_email: list[CRMRecord] = []
        by_phone: list[CRMRecord] = []
        by_origin: list[CRMRecord] = []
        by_name: list[CRMRecord] = []
        for object_type in query.object_types:
            # The lookups go out together: each joins its own batch (group commit) at the same moment.
            email, phone, origin, name = await asyncio.gather(
                self._by_email(object_type, query),
                self._by_phone(object_type, query),
                self._by_origin(object_type, query),
                self._similar_names(object_type, query.name, query.fields) if query.name else _nothing(),
            )
            by_email += email
            by_phone += phone
            by_origin += origin
            by_name += name
        return IdentityCandidates(tuple(by_email), tuple(by_phone), tuple(by_origin), tuple(by_name))

    async def _by_email(self, object_type: str, query: IdentityQuery) -> list[CRMRecord]:
        if not query.email:
            return []
        # Read by the unique property: exact, and not subject to the search index's lag.
        record = await self.read(RecordRef(object_type, query.email), query.fields, id_property="email")
        return [record] if record else []

    async def _by_phone(self, object_type: str, query: IdentityQuery) -> list[CRMRecord]:
        if not query.phone:
            return []
        variants = phone_variants(query.phone)
        if self.batches is not None:
            return await self.batches.search_phone(object_type, query.phone, query.fields, variants)
        groups = [
            {"filters": [{"propertyName": prop, "operator": "IN", "values": variants}]}
            for prop in ("phone", "mobilephone")
        ]
        return await self._search(object_type, groups, query.fields)

    async def _by_origin(self, object_type: str, query: IdentityQuery) -> list[CRMRecord]:
        # A record this call created carries its email, and email is unique in HubSpot: the exact read
        # by email already finds it. Without an email, the unique stamp is read the same way.
        if not (query.origin_call_id and query.stamp_field) or query.email:
            return []
        stamped = await self._read_by_stamp(object_type, query)
        if stamped is None:  # a portal whose stamp property is not unique: search, with its lag
            stamp_filter = {
                "propertyName": query.stamp_field,
                "operator": "EQ",
                "value": query.origin_call_id,
            }
            stamped = await self._search(object_type, [{"filters": [stamp_filter]}], query.fields)
        return stamped

    async def _read_by_stamp(self, object_type: str, query: IdentityQuery) -> list[CRMRecord] | None:
        """The record stamped with this call, read exactly through the unique stamp; None when the stamp
        property is not unique in this portal (created before callsync made it so): search instead."""
        assert query.origin_call_id and query.stamp_field
        ref = RecordRef(object_type, query.origin_call_id)
        try:
            record = await self.read(ref, query.fields, id_property=query.stamp_field)
        except PermanentError as exc:
            if exc.status == 400:
                return None
            raise
        return [record] if record else []

    async def _similar_names(self, object_type: str, name: str, fields: Sequence[str]) -> list[CRMRecord]:
        """Records sharing a word of the name (search has no fuzzy match); the caller scores similarity.
        Matching on the first *or* the last word catches a misspelling of the other."""
        words = name.split()
        if not words:
            return []
        if object_type == "contacts" and self.batches is not None:
            return await self.batches.search_name(object_type, name, fields)
        if object_type == "contacts":
            pairs = (
                [("firstname", words[0]), ("lastname", words[-1])]
                if len(words) > 1
                else [("lastname", words[0])]
            )
            wanted = [*fields, "firstname", "lastname"]
        elif object_type in ("companies", "deals"):
            prop = "name" if object_type == "companies" else "dealname"
            pairs = [(prop, w) for w in words[:5]]  # HubSpot allows five filter groups
            wanted = [*fields, prop]
        else:
            return []
        groups = [
            {"filters": [{"propertyName": p, "operator": "CONTAINS_TOKEN", "value": w}]} for p, w in pairs
        ]
        return await self._search(object_type, groups, tuple(dict.fromkeys(wanted)))

    async def read(
        self, ref: RecordRef, fields: Sequence[str], *, id_property: str | None = None
    ) -> CRMRecord | None:
        if self.batches is not None:
            return await self.batches.read(ref.object_type, ref.record_id, fields, id_property)
        params = {"properties": ",".join(fields)}
        if id_property:
            params["idProperty"] = id_property
        try:
            response = await self._send(
                "GET", f"/crm/v3/objects/{ref.object_type}/{ref.record_id}", params=params
            )
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        return to_record(ref.object_type, response.json())

    async def write(self, request: WriteRequest) -> WriteResult:
        if self.batches is not None:
            return await self.batches.write(request, self._write_one)
        return await self._write_one(request)

    async def _write_one(self, request: WriteRequest) -> WriteResult:
        body: dict[str, Any] = {"properties": {k: wire(v) for k, v in request.fields.items()}}
        if request.record_id is None:
            if request.associations:
                body["associations"] = association_inputs(request)
            response = await self._send("POST", f"/crm/v3/objects/{request.object_type}", json=body)
            created = True
        else:
            response = await self._send(
                "PATCH", f"/crm/v3/objects/{request.object_type}/{request.record_id}", json=body
            )
            created = False
        data = response.json()
        return WriteResult(
            RecordRef(request.object_type, str(data["id"])), created, self._request_id(response, data)
        )

    async def write_batch(self, requests: Sequence[WriteRequest]) -> list[WriteResult | CRMError]:
        """Creates that carry an email go through the native batch/upsert (HubSpot's own dedupe on the
        unique email); updates through batch/update; the rest one by one. Results keep input order."""
        results: dict[int, WriteResult | CRMError] = {}
        upserts = [(i, r) for i, r in enumerate(requests) if r.record_id is None and r.fields.get("email")]
        updates = [(i, r) for i, r in enumerate(requests) if r.record_id is not None]
        for kind, group in (("upsert", upserts), ("update", updates)):
            for start in range(0, len(group), 100):  # HubSpot's batch input cap
                results.update(await self._batch(kind, group[start : start + 100]))
        for i, request in enumerate(requests):
            if i not in results:
                try:
                    results[i] = await self.write(request)
                except CRMError as exc:
                    results[i] = exc
        return [results[i] for i in range(len(requests))]

    async def _batch(
        self, kind: str, group: Sequence[tuple[int, WriteRequest]]
    ) -> dict[int, WriteResult | CRMError]:
        if not group:
            return {}
        object_type = group[0][1].object_type
        inputs: list[dict[str, Any]] = []
        for _, request in group:
            props = {k: wire(v) for k, v in request.fields.items()}
            if kind == "upsert":
                inputs.append(
                    {"id": str(request.fields["email"]), "idProperty": "email", "properties": props}
                )
            else:
                inputs.append({"id": request.record_id, "properties": props})
        try:
            response = await self._send(
                "POST", f"/crm/v3/objects/{object_type}/batch/{kind}", json={"inputs": inputs}
            )
        except CRMError as exc:
            return {i: exc for i, _ in group}
        data = response.json()
        request_id = self._request_id(response, data)
        # Results are not promised in input order: match them back by email (upsert) or id (update).
        by_key: dict[str, dict[str, Any]] = {}
        for item in data.get("results", []):
            props = item.get("properties") or {}
            key = str(props.get("email", "")).lower() if kind == "upsert" else str(item["id"])
            by_key[key] = item
        failed: dict[str, str] = {}
        for error in data.get("errors", []):
            for ident in (error.get("context") or {}).get("ids", []):
                failed[str(ident).lower()] = str(error.get("message", "failed"))
        out: dict[int, WriteResult | CRMError] = {}
        for i, request in group:
            key = str(request.fields["email"]).lower() if kind == "upsert" else str(request.record_id)
            item = by_key.get(key)
            if item is not None:
                created = bool(item.get("new")) if kind == "upsert" else False
                out[i] = WriteResult(RecordRef(object_type, str(item["id"])), created, request_id)
            else:
                out[i] = PermanentError(
                    failed.get(key, f"batch/{kind}: no result for {key}"), request_id=request_id
                )
        return out

    # -- workflow actions (crm/hubspot/actions.py) --------------------------------------------------

    async def act(self, request: ActionRequest) -> ActionResult:
        from callsync.crm.hubspot.actions import act

        return await act(self, request)

    async def find_action(self, request: ActionRequest) -> RecordRef | None:
        from callsync.crm.hubspot.actions import find_action

        return await find_action(self, request.kind, request.stamp)

    async def associate(self, source: RecordRef, target: RecordRef) -> None:
        await self._send(
            "PUT",
            f"/crm/v4/objects/{source.object_type}/{source.record_id}/associations/default/"
            f"{target.object_type}/{target.record_id}",
        )


# Each object's default property group: engagements name theirs after the object (the actions' stamps go there).
_PROPERTY_GROUPS = {
    "contacts": "contactinformation",
    "companies": "companyinformation",
    "deals": "dealinformation",
    "tickets": "ticketinformation",
    "calls": "call",
    "meetings": "meeting",
    "tasks": "task",
    "notes": "note",
}


async def _nothing() -> list[CRMRecord]:
    return []
