"""Zoho CRM adapter (API v2+ shapes, v8 by default), async over httpx.

Configured by the data centre's API domain (`{api_domain}/crm/v8/...`) and sends
`Authorization: Zoho-oauthtoken <token>`. What it knows about Zoho's data model and limits:

- A person is a Lead or a Contact (with an Account). `find` searches each module with one criteria
  search (email, phone shapes, origin stamp; values escaped), leads with `converted=both`: a converted
  lead is followed to the Contact it became (`$converted_detail`) and the Contact is returned, so a
  converted lead is never re-created. Writing to a converted lead's id goes to its Contact.
- Field names are the mapping's; when the record found is the other kind of person, fields go through
  the org's own lead conversion mapping (`settings/fields` -> `convert_mapping`: Company -> the Contact's
  Account_Name, Designation -> Title, ...). Zoho ignores field names it does not know, so the adapter
  refuses them itself rather than lose a value silently.
- Creates go through `POST /{module}/upsert` with `duplicate_check_fields` = the origin-call stamp (a
  unique field): a retried create updates what the first one made. Batches: 100 records per call.
- API credits: Zoho counts credits per rolling 24 h and tells nothing until it refuses. Every request
  spends from the account's budget in the database, shared by all workers, what Zoho charges for it (a
  write 1 credit per 10 records, anything else 1); new work waits (`RateLimited`, durable in the engine)
  once only the reserve is left, and an attempt that has written may still spend the reserve to confirm
  by reading back. Credit exhaustion from Zoho itself pauses every worker.
- Group commit (`batching`, the pool's long-lived adapter): the lookups, read-backs and writes of the
  attempts running at once share Zoho's multi-record requests (crm/zoho/batches.py).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import httpx

from callsync.crm.http.budget import MEMORY_STORE, BudgetKey, BudgetSettings, CreditBudget
from callsync.crm.http.transport import Attempt, BudgetRules, CRMTransport, parse_json
from callsync.crm.phones import phone_variants
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
from callsync.crm.zoho.batches import (
    KeyLookup,
    Lookup,
    RecordWrite,
    Row,
    ZohoBatches,
    coql_answer,
    criteria_value,
    look_alikes,
    write_credits,
)
from callsync.crm.zoho.settings import DEFAULT_API_DOMAIN, DEFAULT_API_VERSION, ZohoSettings
from callsync.crm.zoho.wire import ZohoVendor, record_error
from callsync.reconcile.identity import normalize_phone

WRITE_LIMIT = 100
MAX_CRITERIA = 10
# What one sync attempt spends once the field metadata is cached: a search per person module, a possible
# duplicate name query, the upsert (or update), the read-back, and a spare for an Account upsert (or for the
# whole-name query that follows a name query only where a page of records shared the name's words).
ATTEMPT_CREDITS = 6
_PERSONS = ("Leads", "Contacts")
_ACTIVITIES = ("Calls", "Tasks", "Events")
_NAME_FIELDS = {"Accounts": "Account_Name", "Deals": "Deal_Name"}
_LOOKUPS: dict[tuple[str, str], str] = {
    ("Contacts", "Accounts"): "Account_Name",
    ("Deals", "Accounts"): "Account_Name",
    ("Deals", "Contacts"): "Contact_Name",
    **{(a, p): "Who_Id" for a in _ACTIVITIES for p in _PERSONS},
    **{(a, w): "What_Id" for a in _ACTIVITIES for w in ("Accounts", "Deals")},
}

__all__ = ["ATTEMPT_CREDITS", "ZohoAdapter", "criteria_value"]


class ZohoAdapter:
    name = "zoho"
    # Per account, per process: module -> {api_name -> field metadata} (settings/fields costs a credit).
    _fields: ClassVar[dict[tuple[str, str], dict[str, dict[str, Any]]]] = {}
    # Per account: module -> the unique field creates upsert on (the origin-call stamp).
    _upsert_keys: ClassVar[dict[tuple[str, str], str]] = {}
    # (account, module, event loop) -> the field metadata request under way.
    _fetching: ClassVar[dict[tuple[str, str, int], asyncio.Future[dict[str, dict[str, Any]]]]] = {}

    def __init__(
        self,
        token: str,
        api_domain: str = DEFAULT_API_DOMAIN,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: CreditBudget | None = None,
        urgent: bool = False,
        account: str | None = None,
        http: CRMTransport | None = None,
        batching: bool = False,
        batches: ZohoBatches | None = None,
    ) -> None:
        """`urgent`: spend the reserve too (follow-up work that must not wait). `http`: a transport shared
        with other adapters of the account (the pool's, for write attempts); this one does not close it.
        `batching`: send lookups and writes through Zoho's multi-record requests together with the other
        write attempts on this event loop (`batches`: those of the adapter this attempt's view shares)."""
        self.api_domain = api_domain.rstrip("/")
        self.api_version = api_version if api_version.startswith("v") else f"v{api_version}"
        self._prefix = f"/crm/{self.api_version}"
        self._account = account or hashlib.sha256(self.api_domain.encode()).hexdigest()[:16]
        self._owns_http = http is None
        self.http = http or CRMTransport(
            ZohoVendor(),
            self.api_domain,
            token,
            path_prefix=self._prefix,
            timeout_s=timeout_s,
            transport=transport,
            budget=budget,
            # Zoho says nothing about credits until it refuses: callsync counts every request's credits.
            budget_rules=BudgetRules(mode="spend", attempt_credits=ATTEMPT_CREDITS),
        )
        self.budget = self.http.budget
        # One adapter per attempt: its first request checks for a whole attempt's credits; after a write,
        # confirming it is urgent (the reserve is there for that).
        self._attempt = Attempt(urgent=urgent)
        self._modules: dict[str, str] = {}  # record id -> module, from what this attempt has seen
        self._converted: dict[str, str] = {}  # converted lead id -> its contact id
        self.batches = batches or (ZohoBatches(self.http) if batching else None)

    @classmethod
    def from_settings(cls, settings: ZohoSettings, context: AdapterContext) -> ZohoAdapter:
        domain = settings.api_domain.rstrip("/")
        tenant = context.tenant
        account = hashlib.sha256(f"{domain}|{tenant}".encode()).hexdigest()[:16]
        budget = CreditBudget(
            BudgetKey("zoho", account, f"zoho {domain}" + (f" (tenant {tenant})" if tenant else "")),
            BudgetSettings(
                settings.daily_credits,
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
            api_version=settings.api_version,
            timeout_s=settings.timeout_s,
            transport=context.transport,
            budget=budget,
            account=account,
            batching=context.batching,
        )

    def attempt(self) -> Self:
        """An adapter for one write attempt sharing this one's transport (client, breaker, budget) and
        batches: its own standing with the budget and its own view of the records it has seen."""
        return type(self)(
            "",
            self.api_domain,
            api_version=self.api_version,
            account=self._account,
            http=self.http,
            batches=self.batches,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        cost: int = 1,
        safe: bool = False,
    ) -> httpx.Response:
        """`safe`: a read sent as POST (a COQL query), repeatable whatever happened to it."""
        return await self.http.request(
            method, path, json=json, params=params, cost=cost, attempt=self._attempt, safe=safe
        )

    async def _admit(self) -> bool:
        """Before this attempt's first batched request: the budget check its first request would make
        alone (room for a whole attempt, unless it is urgent), spending nothing, for the batch spends
        what Zoho charges. Whether its batched requests may spend the reserve (it has written)."""
        attempt = self._attempt
        urgent = attempt.urgent or attempt.wrote
        if not attempt.started and self.budget is not None and self.http.budget_rules.mode == "spend":
            await self.budget.spend(0, urgent=urgent, headroom=ATTEMPT_CREDITS)
        attempt.started = True
        return urgent

    async def _batched_write(
        self, kind: str, module: str, body: dict[str, Any], key: str | None = None, check: str | None = None
    ) -> tuple[str, str | None]:
        assert self.batches is not None
        urgent = await self._admit()
        answer = await self.batches.write(kind, module, RecordWrite(body, urgent), key, check)
        self._attempt.wrote = True  # confirming it may spend the reserve, as after a write of its own
        return answer

    # -- schema -------------------------------------------------------------------------------------------

    async def fields(self, module: str) -> dict[str, dict[str, Any]]:
        key = (self._account, module)
        if key in self._fields:
            return self._fields[key]
        # One request for the attempts that all start on a cold cache (a worker starting 128 at once
        # sent one each: most of its first second's requests, and 429s from Zoho's concurrency cap).
        flight = (self._account, module, id(asyncio.get_running_loop()))
        pending = self._fetching.get(flight)
        if pending is None:
            pending = self._fetching[flight] = asyncio.ensure_future(self._fetch_fields(module))
            pending.add_done_callback(lambda done: self._fetching.pop(flight, None))
        return await asyncio.shield(pending)

    async def _fetch_fields(self, module: str) -> dict[str, dict[str, Any]]:
        response = await self._send("GET", "/settings/fields", params={"module": module})
        data = _json(response) or {}
        fields = self._fields[(self._account, module)] = {f["api_name"]: f for f in data.get("fields", [])}
        return fields

    async def ensure_schema(self, object_type: str, custom_fields: Sequence[str]) -> None:
        """The stamp fields must exist (the first, the origin-call stamp, with "Do not allow duplicate
        values") on the module and, for Leads, on Contacts too: a converted lead's calls go to its Contact."""
        modules = [object_type, "Contacts"] if object_type == "Leads" else [object_type]
        problems: list[str] = []
        for module in modules:
            fields = await self.fields(module)
            for i, name in enumerate(custom_fields):
                if name not in fields:
                    kind = "Single Line, Do not allow duplicate values" if i == 0 else "Single Line"
                    problems.append(f"{module}.{name} is missing (create it as {kind})")
                elif i == 0 and not fields[name].get("unique"):
                    problems.append(f"{module}.{name} must not allow duplicate values (unique)")
            if custom_fields and custom_fields[0] in fields:
                self._upsert_keys[(self._account, module)] = custom_fields[0]
        if problems:
            for module in modules:  # read the fields again next time: an admin may have added them meanwhile
                self._fields.pop((self._account, module), None)
            raise PermanentError(
                "Zoho CRM is missing callsync's fields: " + "; ".join(problems) + ". An admin adds them in "
                "Setup > Customization > Modules and Fields with exactly these API names. See docs/crms.md."
            )

    async def _conversion(self) -> dict[str, dict[str, str | None]]:
        """Leads field -> {"Contacts": field, "Accounts": field, ...} from the org's conversion mapping."""
        return {n: dict(f.get("convert_mapping") or {}) for n, f in (await self.fields("Leads")).items()}

    async def translate(self, field: str, module: str) -> str | None:
        """The field on `module` holding what `field` means (on the other person module); None if none."""
        fields = await self.fields(module)
        if field in fields:
            return field
        if module not in _PERSONS:
            return None
        mapping = await self._conversion()
        if module == "Contacts" and field in mapping:
            target = mapping[field]
            if target.get("Contacts"):
                return target["Contacts"]
            if target.get("Accounts") == "Account_Name":
                return "Account_Name"  # the Contact's account, by name
            return None
        if module == "Leads":
            for lead_field, target in mapping.items():
                if target.get("Contacts") == field or (
                    field == "Account_Name" and target.get("Accounts") == field
                ):
                    return lead_field
        return None

    # -- reading ------------------------------------------------------------------------------------------

    async def _paths(self, module: str, wanted: Sequence[str]) -> dict[str, str]:
        paths: dict[str, str] = {}
        for name in wanted:
            translated = await self.translate(name, module)
            if translated is not None:
                paths[name] = translated
        return paths

    def _record(self, module: str, row: dict[str, Any], paths: dict[str, str]) -> CRMRecord:
        self._modules[str(row["id"])] = module
        fields: dict[str, Any] = {}
        for name, api_name in paths.items():
            value = row.get(api_name)
            fields[name] = value.get("name") if isinstance(value, dict) else value
        return CRMRecord(RecordRef(module, str(row["id"])), fields)

    async def _search(self, module: str, criteria: str, columns: Sequence[str]) -> list[dict[str, Any]]:
        params = {"criteria": criteria, "fields": ",".join(dict.fromkeys(columns)), "per_page": "200"}
        if module == "Leads":
            params["converted"] = "both"
        response = await self._send("GET", f"/{module}/search", params=params)
        data = _json(response)
        return list(data.get("data", [])) if isinstance(data, dict) else []  # 204: nothing found

    async def _stamped(self, module: str, stamp_field: str, stamp: str) -> list[Row]:
        """The records whose unique stamp field holds `stamp` (an action's record, say); batched, in one
        search with the stamps other attempts look for now."""
        if self.batches is None:
            criteria = f"({stamp_field}:equals:{criteria_value(stamp)})"
            return await self._search(module, criteria, ["id", stamp_field])
        lookup = KeyLookup(None, None, stamp, (), ("id",), await self._admit())
        return await self.batches.search_keys(module, lookup, stamp_field, ())

    async def find(self, query: IdentityQuery) -> IdentityCandidates:
        found: dict[str, list[CRMRecord]] = {"email": [], "phone": [], "origin": [], "name": []}
        for module in query.object_types:
            fields = await self.fields(module)
            stamp = query.stamp_field if query.stamp_field in fields else None
            terms: list[str] = []
            if query.email:
                terms.append(f"(Email:equals:{criteria_value(query.email)})")
            if query.origin_call_id and stamp:
                terms.append(f"({stamp}:equals:{criteria_value(query.origin_call_id)})")
            if query.phone:
                phone_fields = [f for f in ("Phone", "Mobile") if f in fields]
                room = max(1, (MAX_CRITERIA - len(terms)) // max(1, len(phone_fields)))
                for variant in phone_variants(query.phone)[:room]:
                    terms += [f"({f}:equals:{criteria_value(variant)})" for f in phone_fields]
            if self.batches is not None and (query.email or query.phone or (query.origin_call_id and stamp)):
                await self._find_keys_batched(module, query, stamp, found)
            elif terms:
                await self._find_keys(module, query, terms[:MAX_CRITERIA], stamp, found)
            if query.name and module in _PERSONS:
                found["name"] += await self._similar_names(module, query.name, query.fields)
            elif query.name and module in _NAME_FIELDS:
                found["name"] += await self._named(module, query.name, query.fields)
        return IdentityCandidates.from_hits(found)

    async def _find_keys(
        self,
        module: str,
        query: IdentityQuery,
        terms: list[str],
        stamp: str | None,
        found: dict[str, list[CRMRecord]],
    ) -> None:
        paths = await self._paths(module, query.fields)
        keys = [k for k in ("Email", "Phone", "Mobile", stamp) if k and k in await self.fields(module)]
        criteria = terms[0] if len(terms) == 1 else "(" + "or".join(terms) + ")"
        rows = await self._search(module, criteria, [*paths.values(), *keys])
        await self._take_rows(module, query, stamp, rows, paths, found)

    async def _find_keys_batched(
        self, module: str, query: IdentityQuery, stamp: str | None, found: dict[str, list[CRMRecord]]
    ) -> None:
        """The same lookup, in one search with the keys of the other attempts running now."""
        assert self.batches is not None
        fields = await self.fields(module)
        paths = await self._paths(module, query.fields)
        phone_fields = [f for f in ("Phone", "Mobile") if f in fields]
        lookup = KeyLookup(
            query.email,
            query.phone,
            query.origin_call_id if stamp else None,
            tuple(phone_variants(query.phone)) if query.phone else (),
            tuple(paths.values()),
            await self._admit(),
        )
        rows = await self.batches.search_keys(module, lookup, stamp, phone_fields)
        await self._take_rows(module, query, stamp, rows, paths, found)

    async def _take_rows(
        self,
        module: str,
        query: IdentityQuery,
        stamp: str | None,
        rows: Sequence[Row],
        paths: dict[str, str],
        found: dict[str, list[CRMRecord]],
    ) -> None:
        follow: dict[str, set[str]] = {}
        for row in rows:
            hits = _keys_matched(row, query, stamp)
            contact = _converted_contact(row)
            if module == "Leads" and row.get("$converted"):
                if contact:
                    self._converted[str(row["id"])] = contact
                    follow.setdefault(contact, set()).update(hits)
                continue
            record = self._record(module, row, paths)
            for hit in hits:
                found[hit].append(record)
        if follow:
            # A converted lead is followed to the Contact it became: that is the caller's record now.
            for contact_record in await self._read_many("Contacts", list(follow), query.fields):
                for hit in follow.get(contact_record.ref.record_id, ()):
                    found[hit].append(contact_record)

    async def _similar_names(self, module: str, name: str, fields: Sequence[str]) -> list[CRMRecord]:
        words = name.split()
        if not words:
            return []
        paths = await self._paths(module, [*fields, "First_Name", "Last_Name"])
        if self.batches is not None:
            lookup = Lookup((*paths.values(), "Full_Name"), await self._admit())
            rows = await self.batches.search_names(module, name, ("First_Name", "Last_Name"), lookup)
            return [
                CRMRecord(record.ref, {**record.fields, "name": row.get("Full_Name")})
                for row in rows
                for record in [self._record(module, row, paths)]
            ]

        async def query(text: str) -> tuple[list[Row], bool]:
            return coql_answer(await self._send("POST", "/coql", json={"select_query": text}, safe=True))

        columns = [*paths.values(), "Full_Name"]
        out = []
        for row in await look_alikes(query, module, columns, [name], ("First_Name", "Last_Name")):
            record = self._record(module, row, paths)
            out.append(CRMRecord(record.ref, {**record.fields, "name": row.get("Full_Name")}))
        return out

    async def _named(self, module: str, name: str, fields: Sequence[str]) -> list[CRMRecord]:
        """Accounts or Deals with exactly this name (Zoho's `equals` ignores case), as `name`."""
        name_field = _NAME_FIELDS[module]
        paths = await self._paths(module, fields)
        if self.batches is not None:
            lookup = Lookup(tuple(paths.values()), await self._admit())
            rows = await self.batches.search_names(module, name, (name_field,), lookup)
        else:
            rows = await self._search(
                module, f"({name_field}:equals:{criteria_value(name)})", [*paths.values(), name_field]
            )
        return [
            CRMRecord(record.ref, {**record.fields, "name": row.get(name_field)})
            for row in rows
            for record in [self._record(module, row, paths)]
        ]

    async def _read_many(self, module: str, ids: list[str], fields: Sequence[str]) -> list[CRMRecord]:
        if self.batches is not None:
            found = await asyncio.gather(*(self._read_one(module, i, fields) for i in ids))
            return [record for record in found if record is not None]
        paths = await self._paths(module, fields)
        response = await self._send(
            "GET", f"/{module}", params={"ids": ",".join(ids), "fields": ",".join(paths.values()) or "id"}
        )
        data = _json(response)
        rows = data.get("data", []) if isinstance(data, dict) else []
        return [self._record(module, row, paths) for row in rows]

    async def read(self, ref: RecordRef, fields: Sequence[str]) -> CRMRecord | None:
        record_id = self._converted.get(ref.record_id, ref.record_id)
        module = "Contacts" if record_id != ref.record_id else self._modules.get(record_id, ref.object_type)
        record = await self._read_one(module, record_id, fields)
        if record is not None or module not in _PERSONS:
            return record
        if module == "Leads" and self.batches is None:  # a batched read already followed a converted lead
            contact = await self._converted_to(record_id)
            if contact is not None:
                return await self._read_one("Contacts", contact, fields)
        # A person id of the other module (the engine names its configured object for every match).
        other = "Contacts" if module == "Leads" else "Leads"
        return await self._read_one(other, record_id, fields)

    async def _read_one(self, module: str, record_id: str, fields: Sequence[str]) -> CRMRecord | None:
        paths = await self._paths(module, fields)
        if self.batches is not None:
            row = await self.batches.read(module, record_id, tuple(paths.values()), await self._admit())
            if row is not None and row.get("$converted"):
                contact = _converted_contact(row)
                if contact is None:
                    return None
                self._converted[record_id] = contact  # a converted lead is its Contact now
                return await self._read_one("Contacts", contact, fields)
            return self._record(module, row, paths) if row is not None else None
        params = {"fields": ",".join(paths.values()) or "id"}
        response = await self._send("GET", f"/{module}/{record_id}", params=params)
        data = _json(response)
        rows = data.get("data", []) if isinstance(data, dict) else []
        return self._record(module, rows[0], paths) if rows else None

    async def _converted_to(self, lead_id: str) -> str | None:
        """The Contact a converted lead became (None if the lead is not converted or does not exist)."""
        if lead_id in self._converted:
            return self._converted[lead_id]
        response = await self._send("GET", f"/Leads/{lead_id}", params={"converted": "true", "fields": "id"})
        data = _json(response)
        rows = data.get("data", []) if isinstance(data, dict) else []
        contact = _converted_contact(rows[0]) if rows else None
        if contact:
            self._converted[lead_id] = contact
        return contact

    # -- writing ------------------------------------------------------------------------------------------

    async def _body(self, module: str, request: WriteRequest) -> dict[str, Any]:
        fields = await self.fields(module)
        body: dict[str, Any] = {}
        for name, value in request.fields.items():
            api_name = await self.translate(name, module)
            if api_name is None:
                raise UnknownFieldError(
                    f"Zoho {module} has no field {name!r} (nor a conversion counterpart); Zoho would ignore it "
                    "silently, so callsync refuses the write: fix the mapping",
                    fields=(name,),
                )
            meta = fields.get(api_name, {})
            if meta.get("data_type") == "lookup" and value is not None and not isinstance(value, dict):
                body[api_name] = await self._lookup(module, api_name, value)
            else:
                body[api_name] = value
        for target in request.associations:
            target_module = self._modules.get(target.record_id, target.object_type)
            lookup = _LOOKUPS.get((module, target_module))
            if lookup:
                body[lookup] = {"id": target.record_id}
                if lookup == "What_Id":
                    body["$se_module"] = target_module
        return body

    async def _lookup(self, module: str, api_name: str, value: Any) -> dict[str, str]:
        """A lookup given as text: an id, or (Account_Name) the Account of that name, found or created by
        an upsert on the name, so two calls naming one new company make one Account."""
        text = str(value)
        if api_name == "Account_Name" and not text.isdigit() and self.batches is not None:
            # Calls naming one company share one record of the upsert (and its answer).
            body = {"Account_Name": text}
            record_id, _ = await self._batched_write(
                "upsert", "Accounts", body, text.casefold(), "Account_Name"
            )
            return {"id": record_id}
        if api_name == "Account_Name" and not text.isdigit():
            response = await self._send(
                "POST",
                "/Accounts/upsert",
                json={"data": [{"Account_Name": text}], "duplicate_check_fields": ["Account_Name"]},
            )
            return {"id": self._item(response, "POST /Accounts/upsert")[0]}
        return {"id": text}

    def _item(self, response: httpx.Response, what: str) -> tuple[str, str | None]:
        """(id, action) of a one-record write's result; its error as a CRMError."""
        data = _json(response)
        items = data.get("data") if isinstance(data, dict) else None
        if not items:
            raise PermanentError(f"{what}: HTTP {response.status_code} without a result")
        item = items[0]
        if item.get("status") != "success":
            raise record_error(what, item)
        return str(item["details"]["id"]), item.get("action")

    async def write(self, request: WriteRequest) -> WriteResult:
        if request.record_id is None:
            return await self._create(request)
        record_id = self._converted.get(request.record_id, request.record_id)
        module = (
            "Contacts"
            if record_id != request.record_id
            else self._modules.get(record_id, request.object_type)
        )
        body = await self._body(module, request)
        try:
            if self.batches is not None:
                await self._batched_write("update", module, {**body, "id": record_id})
            else:
                response = await self._send("PUT", f"/{module}/{record_id}", json={"data": [body]})
                self._item(response, f"PUT /{module}/{record_id}")
        except PermanentError:
            contact = await self._converted_to(record_id) if module == "Leads" else None
            if contact is None:
                raise
            return await self.write(request)  # converted since we looked: write its Contact
        self._modules[record_id] = module
        return WriteResult(RecordRef(module, record_id), False)

    async def _create(self, request: WriteRequest) -> WriteResult:
        module = request.object_type
        body = await self._body(module, request)
        key = self._upsert_keys.get((self._account, module))
        if self.batches is not None:
            if key and body.get(key):
                # Calls of one stamp (a retry beside its first attempt) share one record of the upsert.
                record_id, action = await self._batched_write("upsert", module, body, str(body[key]), key)
            else:
                record_id, action = await self._batched_write("insert", module, body)
            self._modules[record_id] = module
            return WriteResult(RecordRef(module, record_id), action != "update")
        if key and body.get(key):
            path = f"/{module}/upsert"
            response = await self._send("POST", path, json={"data": [body], "duplicate_check_fields": [key]})
        else:
            path = f"/{module}"
            response = await self._send("POST", path, json={"data": [body]})
        record_id, action = self._item(response, f"POST {path}")
        self._modules[record_id] = module
        return WriteResult(RecordRef(module, record_id), action != "update")

    async def write_batch(self, requests: Sequence[WriteRequest]) -> list[WriteResult | CRMError]:
        """Creates by upsert on the stamp and updates, 100 records a call per module; per-record results
        in input order. Converted leads go one by one."""
        results: dict[int, WriteResult | CRMError] = {}
        groups: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
        singles: list[int] = []
        for i, request in enumerate(requests):
            if request.record_id is not None and (
                request.record_id in self._converted or request.record_id not in self._modules
            ):
                singles.append(i)
                continue
            module = self._modules.get(request.record_id or "", request.object_type)
            key = self._upsert_keys.get((self._account, module))
            try:
                body = await self._body(module, request)
            except CRMError as exc:
                results[i] = exc
                continue
            if request.record_id is not None:
                groups.setdefault((module, "update"), []).append((i, {"id": request.record_id, **body}))
            elif key and body.get(key):
                groups.setdefault((module, "upsert"), []).append((i, body))
            else:
                groups.setdefault((module, "insert"), []).append((i, body))
        for (module, kind), group in groups.items():
            for start in range(0, len(group), WRITE_LIMIT):
                results.update(await self._batch(module, kind, group[start : start + WRITE_LIMIT]))
        for i in singles:
            try:
                results[i] = await self.write(requests[i])
            except CRMError as exc:
                results[i] = exc
        return [results[i] for i in range(len(requests))]

    async def _batch(
        self, module: str, kind: str, group: Sequence[tuple[int, dict[str, Any]]]
    ) -> dict[int, WriteResult | CRMError]:
        body: dict[str, Any] = {"data": [record for _, record in group]}
        method, path = ("PUT", f"/{module}") if kind == "update" else ("POST", f"/{module}")
        if kind == "upsert":
            path += "/upsert"
            body["duplicate_check_fields"] = [self._upsert_keys[(self._account, module)]]
        try:
            # Zoho charges a multi-record write 1 credit per 10 records.
            response = await self._send(method, path, json=body, cost=write_credits(len(group)))
        except CRMError as exc:
            return {i: exc for i, _ in group}
        data = _json(response)
        items = data.get("data", []) if isinstance(data, dict) else []
        out: dict[int, WriteResult | CRMError] = {}
        for (i, _record), item in zip(group, items, strict=False):
            if item.get("status") == "success":
                record_id = str(item["details"]["id"])
                self._modules[record_id] = module
                created = kind == "insert" or (kind == "upsert" and item.get("action") == "insert")
                out[i] = WriteResult(RecordRef(module, record_id), created)
            else:
                out[i] = record_error(f"{method} {path} record {i}", item)
        for i, _ in group:
            out.setdefault(i, PermanentError(f"{method} {path}: no result for record {i}"))
        return out

    async def _resolve(self, ref: RecordRef) -> RecordRef:
        """The record as it is now. Zoho ids carry no type, and the engine names a caller's record by the
        mapping's object (Leads) even when it is a Contact or a converted lead's Contact: a person id this
        attempt has not seen is looked up."""
        if ref.record_id in self._modules and ref.record_id not in self._converted:
            return RecordRef(self._modules[ref.record_id], ref.record_id)
        if ref.object_type in _PERSONS:
            record = await self.read(ref, ())
            if record is not None:
                return record.ref
        return ref

    # -- workflow actions (crm/zoho/actions.py) ----------------------------------------------------

    async def act(self, request: ActionRequest) -> ActionResult:
        from callsync.crm.zoho.actions import act

        return await act(self, request)

    async def find_action(self, request: ActionRequest) -> RecordRef | None:
        from callsync.crm.zoho.actions import find_action

        return await find_action(self, request.kind, request.stamp)

    async def associate(self, source: RecordRef, target: RecordRef) -> None:
        source, target = await self._resolve(source), await self._resolve(target)
        a, b = source.object_type, target.object_type
        for (record, kind), (other, other_kind) in (((source, a), (target, b)), ((target, b), (source, a))):
            lookup = _LOOKUPS.get((kind, other_kind))
            if lookup:
                body: dict[str, Any] = {lookup: {"id": other.record_id}}
                if lookup == "What_Id":
                    body["$se_module"] = other_kind
                if self.batches is not None:
                    await self._batched_write("update", kind, {**body, "id": record.record_id})
                    return
                response = await self._send("PUT", f"/{kind}/{record.record_id}", json={"data": [body]})
                self._item(response, f"PUT /{kind}/{record.record_id}")
                return
        if "Leads" in (a, b):
            raise PermanentError(
                f"Zoho cannot link a Lead to {b if a == 'Leads' else a}: a Lead has no account or deal until it is "
                "converted (its company is its Company field). Link companies and deals to Contacts "
                "(crm_object: Contacts), see docs/crms.md"
            )
        raise PermanentError(f"Zoho has no lookup from {a} to {b} that callsync knows how to set")


_json = parse_json


def _converted_contact(row: dict[str, Any]) -> str | None:
    detail = row.get("$converted_detail")
    contact = detail.get("contact") if isinstance(detail, dict) else None
    return str(contact["id"]) if isinstance(contact, dict) and contact.get("id") else None


def _keys_matched(row: dict[str, Any], query: IdentityQuery, stamp: str | None) -> set[str]:
    hits: set[str] = set()
    if query.email and str(row.get("Email") or "").casefold() == query.email.casefold():
        hits.add("email")
    if query.phone and query.phone in {normalize_phone(str(row.get(f) or "")) for f in ("Phone", "Mobile")}:
        hits.add("phone")
    if stamp and query.origin_call_id and row.get(stamp) == query.origin_call_id:
        hits.add("origin")
    return hits
