"""Pipedrive adapter: persons, organizations, deals and activities through API v2 (v1 for field lists).

Configured by the company's API domain (`https://api.pipedrive.com` or `https://{company}.pipedrive.com`;
requests go to `/api/v2/...` and `/v1/...`) and sends the token as `x-api-token` (or `Authorization:
Bearer` for OAuth). What it knows about Pipedrive:

- Persons are found by exact email, then phone, through the search endpoints (`exact_match=true`,
  `fields=email|phone`; phone in the shapes people store it), and by callsync's origin stamp
  (`fields=custom_fields`); every hit is checked against the record, never trusted as a fuzzy match.
  Names only give look-alikes for review (`by_name`); organizations are found by their exact name.
- Custom fields are 40-character hash keys. A mapping names a field by its key or its label (the
  field's name in Pipedrive); both resolve once per account through `personFields` /
  `organizationFields` / `dealFields` (`GET /v1/...`, cached). A name that resolves to nothing is refused
  before anything is sent (`UnknownFieldError`): Pipedrive would drop it silently. `ensure_schema`
  creates callsync's stamp fields (`POST /v1/personFields`, varchar: searchable).
- A deal is never an orphan: creating one without both `person_id` and `org_id` (as fields or as the
  request's `associations`) is refused, and so is an update that would clear either.
- No upsert and no batch endpoints: a create is search-by-stamp, then `POST`; `write_batch` loops.
- Limits: the token's 2-second burst window (`x-ratelimit-*`, 429) paced per account, search's own 10 per
  2 s in a lane of its own, and the company's daily token budget: every request spends its
  `x-token-cost` from one budget in the database shared by all workers (`daily_tokens`), and
  Pipedrive's own refusal pauses every worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import httpx

from callsync.crm.http.budget import MEMORY_STORE, BudgetKey, BudgetSettings, CreditBudget
from callsync.crm.http.ratelimit import limiter_for
from callsync.crm.http.transport import DEFAULT_LANE, Attempt, BudgetRules, CRMTransport, parse_json
from callsync.crm.phones import phone_variants
from callsync.crm.pipedrive.settings import DEFAULT_API_DOMAIN, PipedriveSettings
from callsync.crm.pipedrive.wire import PACE_S, SEARCH_BURST, SEARCH_LANE, PipedriveVendor, token_cost
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

V2 = "/api/v2"
V1 = "/v1"
# object type -> its field list (v1).
FIELD_LISTS = {
    "persons": "personFields",
    "organizations": "organizationFields",
    "deals": "dealFields",
    "activities": "activityFields",
}
# What one sync attempt may spend (tokens): searches by email, phone (up to PHONE_SHAPES) and stamp at 20
# each, a read per hit, the stamp search before a create, a create or update (5) and the read-back (1).
ATTEMPT_TOKENS = 200
# Pipedrive compares stored phone strings: the E.164 number, national, digits, international, without
# the +, and 617-555-0148 are searched in turn until one is found (a new caller costs them all).
PHONE_SHAPES = 6
# (object, linked object) -> the id field that links them.
LINKS: dict[tuple[str, str], str] = {
    ("persons", "organizations"): "org_id",
    ("deals", "persons"): "person_id",
    ("deals", "organizations"): "org_id",
    ("activities", "persons"): "person_id",
    ("activities", "organizations"): "org_id",
    ("activities", "deals"): "deal_id",
}
# Exact-name lookups (organizations) and look-alike ones (persons): object -> (search field, name key).
_NAMES = {"persons": ("name", "name"), "organizations": ("name", "name"), "deals": ("title", "title")}
_HASH = re.compile(r"^[0-9a-f]{40}$")
_PERSON_NAME = ("name", "first_name", "last_name")
# Person fields whose update needs the record as it is (the name is one value; emails and phones lists).
_NEEDS_CURRENT = frozenset({"first_name", "last_name", "email", "phone"})


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    name: str
    field_type: str
    custom: bool


def resolve_field(fields: Mapping[str, Field], name: str) -> Field | None:
    """A mapping's field name as a key, else as a label (exactly, else ignoring case when only one
    field has that label)."""
    if name in fields:
        return fields[name]
    labelled = [f for f in fields.values() if f.name == name]
    if labelled:
        # Pipedrive allows two fields with one label (two workers creating a stamp at once): the first
        # created is the one every worker uses.
        return labelled[0]
    folded = [f for f in fields.values() if f.name.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


class PipedriveAdapter:
    name = "pipedrive"
    # Per account, per process: object type -> {key -> Field} (a field list costs 20 tokens).
    _fields: ClassVar[dict[tuple[str, str], dict[str, Field]]] = {}
    # Per account: object type -> the key of callsync's origin stamp (the first field ensure_schema makes
    # sure of): a create first looks for a record already holding the call's stamp.
    _stamps: ClassVar[dict[tuple[str, str], str]] = {}
    # Per account, object and event loop: one reader (or creator) of the field list at a time.
    _locks: ClassVar[dict[tuple[str, str, int], asyncio.Lock]] = {}

    def __init__(
        self,
        token: str,
        api_domain: str = DEFAULT_API_DOMAIN,
        *,
        auth: str = "api_token",
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: CreditBudget | None = None,
        burst_requests: int = 20,
        account: str | None = None,
        http: CRMTransport | None = None,
    ) -> None:
        """`http`: a transport shared with other adapters of the account (the pool's, for write attempts);
        this one does not close it."""
        self.api_domain = api_domain.rstrip("/")
        self._account = account or hashlib.sha256(self.api_domain.encode()).hexdigest()[:16]
        self._owns_http = http is None
        self.http = http or CRMTransport(
            PipedriveVendor("oauth" if auth == "oauth" else "api_token"),
            self.api_domain,
            token,
            timeout_s=timeout_s,
            transport=transport,
            limiters={
                DEFAULT_LANE: limiter_for("pipedrive", self._account, burst_requests, PACE_S),
                SEARCH_LANE: limiter_for("pipedrive-search", self._account, SEARCH_BURST, PACE_S),
            },
            budget=budget,
            # Pipedrive does not report the daily budget: callsync counts each request's x-token-cost.
            budget_rules=BudgetRules(mode="spend", attempt_credits=ATTEMPT_TOKENS),
        )
        self.budget = self.http.budget
        self._attempt = Attempt()
        # (object, id) -> link fields seen on the record (org_id, person_id, ...), to skip a link already set.
        self._links: dict[tuple[str, str], dict[str, Any]] = {}

    @classmethod
    def from_settings(cls, settings: PipedriveSettings, context: AdapterContext) -> PipedriveAdapter:
        domain = settings.api_domain.rstrip("/")
        tenant = context.tenant
        account = hashlib.sha256(f"{domain}|{tenant}".encode()).hexdigest()[:16]
        budget = CreditBudget(
            BudgetKey(
                "pipedrive", account, f"pipedrive {domain}" + (f" (tenant {tenant})" if tenant else "")
            ),
            BudgetSettings(
                settings.daily_tokens,
                settings.credit_reserve,
                settings.budget_window_s,
                settings.limit_retry_s,
            ),
            tenant=tenant,
            store=context.budget_store or MEMORY_STORE,
        )
        return cls(
            settings.token(),
            domain,
            auth=settings.auth,
            timeout_s=settings.timeout_s,
            transport=context.transport,
            budget=budget,
            burst_requests=settings.burst_requests,
            account=account,
        )

    def attempt(self) -> Self:
        """An adapter for one write attempt sharing this one's transport (client, limiters, breaker,
        budget), with its own standing with the budget."""
        return type(self)("", self.api_domain, account=self._account, http=self.http)

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def _send(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        lane = SEARCH_LANE if path.endswith("/search") else DEFAULT_LANE
        response = await self.http.request(
            method,
            path,
            json=json,
            params=params,
            lane=lane,
            cost=token_cost(method, path),
            attempt=self._attempt,
        )
        return parse_json(response)

    # -- schema -------------------------------------------------------------------------------------------

    def _lock(self, object_type: str) -> asyncio.Lock:
        key = (self._account, object_type, id(asyncio.get_running_loop()))
        return self._locks.setdefault(key, asyncio.Lock())

    async def fields(self, object_type: str) -> dict[str, Field]:
        """The object's fields by key, read once per account (`GET /v1/{object}Fields`, paged)."""
        key = (self._account, object_type)
        if key not in self._fields:
            async with self._lock(object_type):
                if key not in self._fields:
                    self._fields[key] = await self._load(object_type)
        return self._fields[key]

    async def _load(self, object_type: str) -> dict[str, Field]:
        listing = _field_list(object_type)
        fields: dict[str, Field] = {}
        start = 0
        for _page in range(50):  # 500 a page: a company has far fewer fields
            body = await self._send("GET", f"{V1}/{listing}", params={"start": str(start), "limit": "500"})
            for row in (body or {}).get("data") or []:
                field = _field(row)
                fields[field.key] = field
            more = ((body or {}).get("additional_data") or {}).get("pagination") or {}
            if not more.get("more_items_in_collection"):
                break
            start = int(more.get("next_start") or start + 500)
        return fields

    async def resolve(self, object_type: str, name: str) -> Field | None:
        return resolve_field(await self.fields(object_type), name)

    async def ensure_schema(self, object_type: str, custom_fields: Sequence[str]) -> None:
        """Create callsync's stamp fields (varchar, so search finds them) where the object lacks them.
        One attempt at a time per account and object checks and creates, so they are created once."""
        listing = _field_list(object_type)
        key = (self._account, object_type)
        cached = self._fields.get(key)
        fields = await self.fields(object_type)
        if any(resolve_field(fields, name) is None for name in custom_fields):
            async with self._lock(object_type):
                if self._fields[key] is cached:
                    # Another worker may have created them since the list was read: read it again.
                    self._fields[key] = await self._load(object_type)
                fields = self._fields[key]
                for name in custom_fields:
                    if resolve_field(fields, name) is not None:
                        continue
                    body = await self._send(
                        "POST", f"{V1}/{listing}", json={"name": name, "field_type": "varchar"}
                    )
                    row = (body or {}).get("data")
                    if not isinstance(row, dict) or not row.get("key"):
                        raise PermanentError(
                            f"POST {V1}/{listing}: Pipedrive did not create the field {name!r}"
                        )
                    field = _field(row)
                    fields[field.key] = field
        stamp = resolve_field(fields, custom_fields[0]) if custom_fields else None
        if stamp is not None and stamp.custom:
            self._stamps[key] = stamp.key

    async def check_mapping(self, objects: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
        """object type -> the mapped field names this company has no field for (neither as a key nor as
        a label). For a load-time check of a mapping: leave out callsync's own stamp fields, which
        `ensure_schema` creates."""
        problems: dict[str, tuple[str, ...]] = {}
        for object_type, names in objects.items():
            fields = await self.fields(object_type)
            missing = tuple(n for n in names if resolve_field(fields, n) is None)
            if missing:
                problems[object_type] = missing
        return problems

    # -- reading ------------------------------------------------------------------------------------------

    async def _get(self, object_type: str, record_id: str) -> dict[str, Any] | None:
        try:
            body = await self._send("GET", f"{V2}/{object_type}/{record_id}")
        except PermanentError as exc:
            if exc.status in (404, 410):
                return None
            raise
        row = (body or {}).get("data")
        if not isinstance(row, dict) or row.get("is_deleted"):
            return None
        self._remember(object_type, row)
        return row

    def _remember(self, object_type: str, row: dict[str, Any]) -> None:
        links: dict[str, Any] = {f: row.get(f) for f in ("org_id", "person_id", "deal_id") if f in row}
        self._links[(object_type, str(row["id"]))] = links

    async def _record(self, object_type: str, row: dict[str, Any], wanted: Sequence[str]) -> CRMRecord:
        fields = await self.fields(object_type)
        values: dict[str, Any] = {}
        for name in wanted:
            field = resolve_field(fields, name)
            values[name] = _value(row, field.key, field.custom) if field is not None else None
        return CRMRecord(RecordRef(object_type, str(row["id"])), values)

    async def read(self, ref: RecordRef, fields: Sequence[str]) -> CRMRecord | None:
        row = await self._get(ref.object_type, ref.record_id)
        return None if row is None else await self._record(ref.object_type, row, fields)

    async def _search(
        self, object_type: str, term: str, field: str, *, exact: bool = True
    ) -> list[dict[str, Any]]:
        params = {"term": term, "fields": field, "limit": "100"}
        if exact:
            params["exact_match"] = "true"
        body = await self._send("GET", f"{V2}/{object_type}/search", params=params)
        items = ((body or {}).get("data") or {}).get("items") or []
        return [i["item"] for i in items if isinstance(i, dict) and isinstance(i.get("item"), dict)]

    async def _hits(self, object_type: str, ids: Sequence[str], wanted: Sequence[str]) -> list[CRMRecord]:
        out = []
        for record_id in dict.fromkeys(ids):
            row = await self._get(object_type, record_id)
            if row is not None:
                out.append(await self._record(object_type, row, wanted))
        return out

    async def find(self, query: IdentityQuery) -> IdentityCandidates:
        found: dict[str, list[CRMRecord]] = {"email": [], "phone": [], "origin": [], "name": []}
        for object_type in query.object_types:
            if object_type == "persons" and query.email:
                wanted = query.email.strip().casefold()
                items = await self._search("persons", query.email.strip(), "email")
                ids = [
                    str(i["id"])
                    for i in items
                    if wanted in {str(e).casefold() for e in i.get("emails") or []}
                ]
                found["email"] += await self._hits("persons", ids, query.fields)
            if object_type == "persons" and query.phone:
                for shape in phone_variants(query.phone)[:PHONE_SHAPES]:
                    items = await self._search("persons", shape, "phone")
                    ids = [
                        str(i["id"])
                        for i in items
                        if query.phone in {normalize_phone(str(p)) for p in i.get("phones") or []}
                    ]
                    if ids:
                        found["phone"] += await self._hits("persons", ids, query.fields)
                        break
            if query.origin_call_id and query.stamp_field:
                stamp = await self.resolve(object_type, query.stamp_field)
                if stamp is not None and stamp.custom:
                    items = await self._search(object_type, query.origin_call_id, "custom_fields")
                    for record in await self._hits(
                        object_type, [str(i["id"]) for i in items], [*query.fields, stamp.key]
                    ):
                        if record.fields.get(stamp.key) == query.origin_call_id:
                            fields = {k: v for k, v in record.fields.items() if k in query.fields}
                            found["origin"].append(CRMRecord(record.ref, fields))
            if query.name and object_type in _NAMES:
                found["name"] += await self._named(object_type, query.name, query.fields)
        return IdentityCandidates.from_hits(found)

    async def _named(self, object_type: str, name: str, wanted: Sequence[str]) -> list[CRMRecord]:
        """Organizations and deals with exactly this name (case aside); persons whose name looks like it
        (for review only: a name never matches a caller)."""
        search_field, key = _NAMES[object_type]
        exact = object_type != "persons"
        items = await self._search(object_type, name, search_field, exact=exact)
        if exact:
            items = [i for i in items if str(i.get(key) or "").casefold() == name.casefold()]
        out = []
        for record in await self._hits(object_type, [str(i["id"]) for i in items], [*wanted, key]):
            out.append(CRMRecord(record.ref, {**record.fields, "name": record.fields.get(key)}))
        return out

    # -- writing ------------------------------------------------------------------------------------------

    async def _body(self, request: WriteRequest, current: dict[str, Any] | None) -> dict[str, Any]:
        object_type = request.object_type
        fields = await self.fields(object_type)
        body: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        unknown: list[str] = []
        names: dict[str, Any] = {}
        for name, value in request.fields.items():
            field = resolve_field(fields, name)
            if field is None:
                unknown.append(name)
            elif field.custom:
                custom[field.key] = value
            elif object_type == "persons" and field.key in _PERSON_NAME:
                names[field.key] = value
            elif object_type == "persons" and field.key in ("email", "phone"):
                body[f"{field.key}s"] = _contacts(value, (current or {}).get(f"{field.key}s"), field.key)
            else:
                body[field.key] = value
        if unknown:
            raise UnknownFieldError(
                f"Pipedrive {object_type} has no field {', '.join(map(repr, unknown))} (neither a key nor a "
                f"label in {_field_list(object_type)}); Pipedrive would drop it silently, so callsync refuses "
                "the write: fix the mapping",
                fields=tuple(unknown),
            )
        if custom:
            body["custom_fields"] = custom
        if names:
            body["name"] = _person_name(names, current)
        for target in request.associations:
            link = LINKS.get((object_type, target.object_type))
            if link is None and (target.object_type, object_type) in LINKS:
                continue  # the other record holds this link (a person's org_id): `associate` sets it
            if link is None:
                raise PermanentError(f"Pipedrive cannot link {object_type} to {target.object_type}")
            body[link] = int(target.record_id) if target.record_id.isdigit() else target.record_id
        return body

    async def write(self, request: WriteRequest) -> WriteResult:
        object_type = request.object_type
        _field_list(object_type)
        if request.record_id is None:
            body = await self._body(request, None)
            existing = await self._stamped(object_type, body)
            if existing is not None:
                # No upsert in Pipedrive: a record holding this call's stamp is the one an earlier
                # attempt created (its answer lost); write to it instead of creating a second one.
                update = WriteRequest(
                    object_type, request.fields, existing, request.idempotency_key, request.associations
                )
                result = await self.write(update)
                return WriteResult(result.ref, False, result.request_id)
            if object_type == "persons" and not body.get("name"):
                # Pipedrive requires a name: a caller who gave none is named by their email or number.
                body["name"] = (
                    _first_value(body.get("emails")) or _first_value(body.get("phones")) or "Unknown caller"
                )
            if object_type == "deals":
                _refuse_orphan(body, None)
            path = f"{V2}/{object_type}"
            data = await self._send("POST", path, json=body)
            created = True
        else:
            fields = await self.fields(object_type)
            keys = {getattr(resolve_field(fields, n), "key", None) for n in request.fields}
            needs_current = object_type == "persons" and bool(keys & _NEEDS_CURRENT)
            current = await self._get(object_type, request.record_id) if needs_current else None
            if needs_current and current is None:
                raise PermanentError(f"Pipedrive {object_type} {request.record_id} does not exist")
            body = await self._body(request, current)
            if object_type == "deals":
                _refuse_orphan(body, request.record_id)
            path = f"{V2}/{object_type}/{request.record_id}"
            data = await self._send("PATCH", path, json=body)
            created = False
        row = (data or {}).get("data")
        if not isinstance(row, dict) or row.get("id") is None:
            raise PermanentError(f"{'POST' if created else 'PATCH'} {path}: answer without a record")
        self._remember(object_type, row)
        return WriteResult(RecordRef(object_type, str(row["id"])), created)

    async def _stamped(self, object_type: str, body: Mapping[str, Any]) -> str | None:
        """The id of a record already holding the stamp this create carries (None: none, or no stamp)."""
        key = self._stamps.get((self._account, object_type))
        value = (body.get("custom_fields") or {}).get(key) if key else None
        if not key or not value:
            return None
        for item in await self._search(object_type, str(value), "custom_fields"):
            row = await self._get(object_type, str(item["id"]))
            if row is not None and _value(row, key, True) == value:
                return str(row["id"])
        return None

    async def write_batch(self, requests: Sequence[WriteRequest]) -> list[WriteResult | CRMError]:
        """Pipedrive has no batch create or update: one request per record, results in input order."""
        results: list[WriteResult | CRMError] = []
        for request in requests:
            try:
                results.append(await self.write(request))
            except CRMError as exc:
                results.append(exc)
        return results

    # -- workflow actions (crm/pipedrive/actions.py) ----------------------------------------------------

    async def act(self, request: ActionRequest) -> ActionResult:
        from callsync.crm.pipedrive.actions import act

        return await act(self, request)

    async def find_action(self, request: ActionRequest) -> RecordRef | None:
        from callsync.crm.pipedrive.actions import find_action

        return await find_action(self, request)

    async def associate(self, source: RecordRef, target: RecordRef) -> None:
        """Set the id that links the two records (a person's org_id; a deal's person_id or org_id; an
        activity's person_id, org_id or deal_id), unless the record already holds it."""
        for record, other in ((source, target), (target, source)):
            link = LINKS.get((record.object_type, other.object_type))
            if link is None:
                continue
            known = self._links.get((record.object_type, record.record_id), {})
            if str(known.get(link)) == other.record_id:
                return
            path = f"{V2}/{record.object_type}/{record.record_id}"
            data = await self._send(
                "PATCH",
                path,
                json={link: int(other.record_id) if other.record_id.isdigit() else other.record_id},
            )
            row = (data or {}).get("data")
            if isinstance(row, dict) and row.get("id") is not None:
                self._remember(record.object_type, row)
            return
        raise PermanentError(f"Pipedrive has no link from {source.object_type} to {target.object_type}")


def _field_list(object_type: str) -> str:
    try:
        return FIELD_LISTS[object_type]
    except KeyError:
        raise PermanentError(
            f"Pipedrive object {object_type!r} is not one callsync writes (one of: {', '.join(FIELD_LISTS)})"
        ) from None


def _field(row: Mapping[str, Any]) -> Field:
    key = str(row.get("key") or "")
    return Field(
        key=key,
        name=str(row.get("name") or key),
        field_type=str(row.get("field_type") or ""),
        custom=bool(_HASH.match(key)),
    )


def _value(row: Mapping[str, Any], key: str, custom: bool) -> Any:
    if custom:
        custom_fields = row.get("custom_fields")
        return custom_fields.get(key) if isinstance(custom_fields, dict) else row.get(key)
    if key in ("email", "phone"):
        values = row.get(f"{key}s")
        if isinstance(values, list):
            primary = [v for v in values if isinstance(v, dict) and v.get("primary")]
            listed = primary or [v for v in values if isinstance(v, dict)]
            return listed[0].get("value") if listed else None
        return row.get(key)
    return row.get(key)


def _contacts(value: Any, current: Any, kind: str) -> list[dict[str, Any]]:
    """A person's emails or phones with `value` as the primary one, keeping the others it has."""
    new = {"value": value, "primary": True, "label": "work"}
    if value is None or value == "":
        return []
    others = [
        {"value": v.get("value"), "primary": False, "label": v.get("label") or "other"}
        for v in current or []
        if isinstance(v, dict) and str(v.get("value")).casefold() != str(value).casefold()
    ]
    return [new, *others]


def _person_name(names: Mapping[str, Any], current: Mapping[str, Any] | None) -> str:
    if names.get("name"):
        return str(names["name"])
    first = names.get("first_name", (current or {}).get("first_name")) or ""
    last = names.get("last_name", (current or {}).get("last_name")) or ""
    return " ".join(str(p).strip() for p in (first, last) if str(p).strip())


def _first_value(values: Any) -> str | None:
    if isinstance(values, list) and values and isinstance(values[0], dict):
        value = values[0].get("value")
        return str(value) if value else None
    return None


def _refuse_orphan(body: Mapping[str, Any], record_id: str | None) -> None:
    """A deal is created with its person and organization, and never loses either."""
    if record_id is None:
        missing = [f for f in ("person_id", "org_id") if not body.get(f)]
        if missing:
            raise PermanentError(
                f"a Pipedrive deal must be created linked to its person and organization; {' and '.join(missing)} "
                "missing: callsync refuses to create an orphaned deal (pass them as the write's associations)"
            )
        return
    cleared = [f for f in ("person_id", "org_id") if f in body and not body[f]]
    if cleared:
        raise PermanentError(
            f"refusing to clear {' and '.join(cleared)} of Pipedrive deal {record_id}: it would orphan the deal"
        )
