"""Salesforce adapter (REST API, async over httpx): Lead vs Contact, upsert by External ID, collections.

Configured by the org's instance URL and an API version (`/services/data/vXX.X`), so it works unchanged
against an org or the sandbox. What it knows about Salesforce's data model:

- A person is a Lead or a Contact (with an Account). `find` searches every object it is given with SOQL
  (exact and not index-lagged, unlike SOSL; every value escaped), and follows a converted Lead
  (IsConverted, ConvertedContactId) to its Contact: the Contact is returned, never the Lead, so a caller
  whose lead was converted is never created again. Writing to a converted lead's id goes to its Contact.
- Field names are the mapping's; when the record found is the other kind of person, a Lead field is read
  and written through its conversion counterpart (Company -> the Contact's Account.Name, Street ->
  MailingStreet, ...) and back. `Account.Name` on a Contact links the Contact to the Account of that
  name (found, or created).
- Creates go through upsert on the origin-call stamp, an External ID field
  (`PATCH /sobjects/{type}/{field}/{value}`), so a retried create updates what the first one made.
  The fields must exist (Setup; REST cannot create fields): `ensure_schema` checks and says how.
- Batches use sObject Collections (≤200 records, allOrNone=false, per-record results in order). Built with
  `batching` (the pool's long-lived adapter), the lookups, reads and writes of concurrent write attempts
  share SOQL queries and collections (group commit, crm/salesforce/batches.py).
- Limits: 403 REQUEST_LIMIT_EXCEEDED (and, with a reserve, `Sforce-Limit-Info` showing only the reserve
  left) pause new work for the whole org through the shared budget row, and become `RateLimited`.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Self
from urllib.parse import quote as url_quote

import httpx

from callsync.crm.http.budget import MEMORY_STORE, BudgetKey, BudgetSettings, CreditBudget
from callsync.crm.http.transport import Attempt, BudgetRules, CRMTransport
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
from callsync.crm.salesforce.batches import (
    Clauses,
    SalesforceBatches,
    condition,
    each_row_once,
    recent_then_exact,
    soql_quote,
    where_of,
)
from callsync.crm.salesforce.settings import DEFAULT_API_VERSION, SalesforceSettings
from callsync.crm.salesforce.wire import SalesforceVendor, record_error
from callsync.crm.spec import AdapterContext
from callsync.reconcile.identity import normalize_phone

COLLECTION_LIMIT = 200
_KEY_PREFIXES = {
    "001": "Account",
    "003": "Contact",
    "00Q": "Lead",
    "006": "Opportunity",
    "00K": "OpportunityContactRole",
    "00T": "Task",
    "00U": "Event",
}
_PERSONS = ("Lead", "Contact")
# A look-alike name search reads at most this many records sharing a word of the name (the most recently
# modified), and where more share one, all records with the whole name: it stays one or two queries however
# many "Danas" the org holds (HubSpot's does the same: crm/hubspot/batches.py `search_name`).
NAME_PAGE = 200
# Salesforce's standard lead conversion mapping: Lead field -> Contact field, or -> the Contact's Account.
LEAD_TO_CONTACT: dict[str, str] = {
    **{
        f: f
        for f in (
            "FirstName",
            "LastName",
            "Salutation",
            "Title",
            "Email",
            "Phone",
            "MobilePhone",
            "LeadSource",
            "Description",
            "DoNotCall",
            "HasOptedOutOfEmail",
        )
    },
    **{a: "Mailing" + a for a in ("Street", "City", "State", "PostalCode", "Country")},
    **{
        f: "Account." + a
        for f, a in (
            ("Company", "Name"),
            ("Website", "Website"),
            ("Industry", "Industry"),
            ("NumberOfEmployees", "NumberOfEmployees"),
            ("AnnualRevenue", "AnnualRevenue"),
            ("Rating", "Rating"),
        )
    },
}
CONTACT_TO_LEAD = {c: lead for lead, c in LEAD_TO_CONTACT.items()}
# Which lookup field links a record of one object to another (associations).
_LOOKUPS: dict[tuple[str, str], str] = {
    ("Contact", "Account"): "AccountId",
    ("Opportunity", "Account"): "AccountId",
    **{(a, p): "WhoId" for a in ("Task", "Event") for p in _PERSONS},
    **{(a, w): "WhatId" for a in ("Task", "Event") for w in ("Account", "Opportunity")},
}


def object_of(record_id: str, default: str) -> str:
    """Salesforce ids start with their object's key prefix."""
    return _KEY_PREFIXES.get(record_id[:3], default)


def translate(field: str, target: str) -> str | None:
    """The field (or `Account.X` path) on `target` holding what `field` means on the other person object;
    None when the target has no counterpart. Fields that exist on both keep their name."""
    if target == "Contact" and field in LEAD_TO_CONTACT:
        return LEAD_TO_CONTACT[field]
    if target == "Lead" and field in CONTACT_TO_LEAD:
        return CONTACT_TO_LEAD[field]
    if target == "Lead" and (
        field.startswith("Account.") or field.startswith("Mailing") or field == "AccountId"
    ):
        return None
    if target == "Contact" and field in ("Company", "Status", "IsConverted"):
        return None
    return field


class SalesforceAdapter:
    name = "salesforce"
    # Per org, per process: object -> {field name -> describe} (describe costs an API call).
    _described: ClassVar[dict[tuple[str, str], dict[str, dict[str, Any]]]] = {}

    def __init__(
        self,
        token: str,
        instance_url: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: CreditBudget | None = None,
        reserve: int = 0,
        http: CRMTransport | None = None,
        batching: bool = False,
        batches: SalesforceBatches | None = None,
    ) -> None:
        """`http`: a transport shared with other adapters of the org (the pool's, for write attempts);
        this adapter then does not close it. `batching`: send lookups, reads and writes together with
        those of other write attempts on this event loop (`batches`: the group commit to share)."""
        self.instance_url = instance_url.rstrip("/")
        self.api_version = api_version.lstrip("v")
        self._prefix = f"/services/data/v{self.api_version}"
        self._org = hashlib.sha256(self.instance_url.encode()).hexdigest()[:16]
        self._owns_http = http is None
        self.http = http or CRMTransport(
            SalesforceVendor(),
            self.instance_url,
            token,
            path_prefix=self._prefix,
            timeout_s=timeout_s,
            transport=transport,
            budget=budget,
            # The org counts its requests and reports them: an attempt checks the shared row once.
            budget_rules=BudgetRules(mode="gate", reserve=reserve),
        )
        self.budget = self.http.budget
        self.reserve = self.http.budget_rules.reserve
        self._attempt = Attempt()  # one adapter per attempt: its standing with the budget
        self._converted: dict[str, str] = {}  # converted lead id -> its contact id
        if batching and batches is None:
            batches = SalesforceBatches(self.http.request, self._prefix)
        self.batches = batches

    @classmethod
    def from_settings(cls, settings: SalesforceSettings, context: AdapterContext) -> SalesforceAdapter:
        instance_url = (settings.instance_url or "").rstrip("/")
        if not instance_url:
            raise PermanentError("the Salesforce connection has no instance_url")
        org = hashlib.sha256(instance_url.encode()).hexdigest()[:16]
        budget = CreditBudget(
            BudgetKey("salesforce", org, f"salesforce {instance_url}"),
            BudgetSettings(None, settings.credit_reserve, settings.budget_window_s, settings.limit_retry_s),
            tenant=context.tenant,
            store=context.budget_store or MEMORY_STORE,
        )
        return cls(
            settings.token(),
            instance_url,
            api_version=settings.api_version,
            timeout_s=settings.timeout_s,
            transport=context.transport,
            budget=budget,
            reserve=settings.credit_reserve,
            batching=context.batching,
        )

    def attempt(self) -> Self:
        """An adapter for one write attempt sharing this one's transport (client, breaker, budget): its
        own standing with the budget and its own view of converted leads."""
        return type(self)(
            "", self.instance_url, api_version=self.api_version, http=self.http, batches=self.batches
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def _send(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.request(method, path, json=json, params=params, attempt=self._attempt)

    # -- schema ---------------------------------------------------------------------------------------

    async def describe(self, sobject: str) -> dict[str, dict[str, Any]]:
        key = (self._org, sobject)
        if key in self._described:
            return self._described[key]
        if self.batches is None:
            return await self._describe(sobject)
        lock = self.batches.describing.setdefault(sobject, asyncio.Lock())
        async with lock:  # the attempts that start together describe it once
            return self._described.get(key) or await self._describe(sobject)

    async def _describe(self, sobject: str) -> dict[str, dict[str, Any]]:
        response = await self._send("GET", f"/sobjects/{sobject}/describe")
        fields = {f["name"]: f for f in response.json().get("fields", [])}
        self._described[(self._org, sobject)] = fields
        return fields

    async def ensure_schema(self, object_type: str, custom_fields: Sequence[str]) -> None:
        """The stamp fields must exist (the first, the origin-call stamp, as a unique External ID) on the
        object and, for a Lead, on Contact too: a converted lead's calls are written to its Contact."""
        objects = [object_type, "Contact"] if object_type == "Lead" else [object_type]
        problems: list[str] = []
        for sobject in objects:
            fields = await self.describe(sobject)
            for i, name in enumerate(custom_fields):
                if name not in fields:
                    kind = "Text(255), Unique, External ID" if i == 0 else "Text(255)"
                    problems.append(f"{sobject}.{name} is missing (create it as {kind})")
                elif i == 0 and not fields[name].get("externalId"):
                    problems.append(f"{sobject}.{name} must be marked External ID (and Unique)")
        if problems:
            for sobject in objects:  # describe again next time: an admin may have added them meanwhile
                self._described.pop((self._org, sobject), None)
            raise PermanentError(
                "Salesforce is missing callsync's fields: " + "; ".join(problems) + ". An admin creates "
                "them in Setup > Object Manager > <object> > Fields & Relationships; the REST API cannot "
                "create fields (that takes the Metadata API), so callsync does not. See docs/crms.md."
            )

    def _external_id(self, sobject: str, fields: Iterable[str]) -> str | None:
        described = self._described.get((self._org, sobject), {})
        return next((f for f in fields if described.get(f, {}).get("externalId")), None)

    # -- reading ----------------------------------------------------------------------------------------

    async def query(self, soql: str) -> list[dict[str, Any]]:
        response = await self._send("GET", "/query", params={"q": soql})
        data = response.json()
        records: list[dict[str, Any]] = list(data.get("records", []))
        while not data.get("done", True) and data.get("nextRecordsUrl"):
            response = await self._send("GET", str(data["nextRecordsUrl"]).removeprefix(self._prefix))
            data = response.json()
            records += data.get("records", [])
        return records

    async def _select(self, sobject: str, wanted: Sequence[str]) -> dict[str, str]:
        """The mapping's field names -> SOQL paths on `sobject` (only those that exist there)."""
        described = await self.describe(sobject)
        paths: dict[str, str] = {}
        for name in wanted:
            path = translate(name, sobject)
            if path is None:
                continue
            head = path.split(".")[0]
            if "." in path or head in described:
                paths[name] = path
        return paths

    def _record(self, sobject: str, row: dict[str, Any], paths: dict[str, str]) -> CRMRecord:
        fields: dict[str, Any] = {}
        for name, path in paths.items():
            value: Any = row
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            fields[name] = value
        return CRMRecord(RecordRef(sobject, str(row["Id"])), fields)

    async def _rows(
        self,
        sobject: str,
        paths: dict[str, str],
        clauses: Clauses,
        extra: Sequence[str] = (),
        *,
        kind: str,
        also: str = "",
        recent: int | None = None,
    ) -> list[dict[str, Any]]:
        """Rows whose field equals one of a clause's values (and `also` holds). With batching, asked in
        one query with the other attempts' lookups of this `kind`. `recent`: see `SalesforceBatches.rows`."""
        columns = list(dict.fromkeys(["Id", *paths.values(), *extra]))
        if self.batches is not None:
            return await self.batches.rows(sobject, columns, clauses, kind=kind, also=also, recent=recent)
        head = f"SELECT {', '.join(columns)} FROM {sobject}"
        soql = f"{head} WHERE {where_of(clauses, also)}"
        if recent is None:
            return await self.query(soql)
        return each_row_once(await recent_then_exact(self.query, [soql], head, [clauses], also, recent))

    async def find(self, query: IdentityQuery) -> IdentityCandidates:
        found: dict[str, list[CRMRecord]] = {"email": [], "phone": [], "origin": [], "name": []}
        for sobject in query.object_types:
            described = await self.describe(sobject)
            clauses: list[tuple[str, tuple[str, ...]]] = []
            if query.email:
                clauses.append(("Email", (query.email,)))
            if query.phone:
                variants = tuple(phone_variants(query.phone))
                clauses += [(f, variants) for f in ("Phone", "MobilePhone") if f in described]
            stamp = query.stamp_field if query.stamp_field in described else None
            if query.origin_call_id and stamp:
                clauses.append((stamp, (query.origin_call_id,)))
            # The keys and the name are looked up at once (with batching, each joins its own query).
            keys = self._find_keys(sobject, query, tuple(clauses), stamp) if clauses else _none()
            if query.name and sobject in _PERSONS:
                names = self._similar_names(sobject, query.name, query.fields)
            elif query.name and "Name" in described:
                names = self._named(sobject, query.name, query.fields)
            else:
                names = _nothing()
            hits, named = await asyncio.gather(keys, names)
            for hit, records in hits.items():
                found[hit] += records
            found["name"] += named
        return IdentityCandidates.from_hits(found)

    async def _find_keys(
        self, sobject: str, query: IdentityQuery, clauses: Clauses, stamp: str | None
    ) -> dict[str, list[CRMRecord]]:
        found: dict[str, list[CRMRecord]] = {"email": [], "phone": [], "origin": []}
        paths = await self._select(sobject, query.fields)
        keys = ["Email", "Phone", "MobilePhone", *([stamp] if stamp else [])]
        extra = [k for k in keys if k in await self.describe(sobject)]
        if sobject == "Lead":
            extra += ["IsConverted", "ConvertedContactId"]
        rows = await self._rows(sobject, paths, clauses, extra, kind="keys")
        follow: dict[str, set[str]] = {}
        for row in rows:
            hits = self._keys_matched(row, query, stamp)
            if sobject == "Lead" and row.get("IsConverted") and row.get("ConvertedContactId"):
                contact_id = str(row["ConvertedContactId"])
                self._converted[str(row["Id"])] = contact_id
                follow.setdefault(contact_id, set()).update(hits)
                continue
            record = self._record(sobject, row, paths)
            for hit in hits:
                found[hit].append(record)
        if follow:
            # A converted lead is followed to its Contact: the Contact is the caller's record now.
            contacts = await self._read_many("Contact", list(follow), query.fields)
            for contact in contacts:
                for hit in follow.get(contact.ref.record_id, ()):
                    found[hit].append(contact)
        return found

    @staticmethod
    def _keys_matched(row: dict[str, Any], query: IdentityQuery, stamp: str | None) -> set[str]:
        hits: set[str] = set()
        if query.email and str(row.get("Email") or "").casefold() == query.email.casefold():
            hits.add("email")
        if query.phone and query.phone in {
            normalize_phone(str(row.get(f) or "")) for f in ("Phone", "MobilePhone")
        }:
            hits.add("phone")
        if stamp and query.origin_call_id and row.get(stamp) == query.origin_call_id:
            hits.add("origin")
        return hits

    async def _similar_names(self, sobject: str, name: str, fields: Sequence[str]) -> list[CRMRecord]:
        """Records sharing the first or last word of the name: a reviewer's hint, never a match."""
        words = name.split()
        if not words:
            return []
        clauses: Clauses = (("LastName", (words[-1],)),)
        if len(words) > 1:
            clauses += (("FirstName", (words[0],)),)
        also = "IsConverted = false" if sobject == "Lead" else ""
        paths = await self._select(sobject, [*fields, "FirstName", "LastName"])
        rows = await self._rows(
            sobject, paths, clauses, ["FirstName", "LastName"], kind="names", also=also, recent=NAME_PAGE
        )
        return [self._record(sobject, row, paths) for row in rows]

    async def _named(self, sobject: str, name: str, fields: Sequence[str]) -> list[CRMRecord]:
        """Accounts, Opportunities, ... with exactly this name (SOQL `=` ignores case), as `name`."""
        paths = await self._select(sobject, fields)
        rows = await self._rows(sobject, paths, (("Name", (name,)),), ["Name"], kind="names")
        return [
            CRMRecord(record.ref, {**record.fields, "name": row.get("Name")})
            for row in rows
            for record in [self._record(sobject, row, paths)]
        ]

    async def _read_many(self, sobject: str, ids: list[str], fields: Sequence[str]) -> list[CRMRecord]:
        paths = await self._select(sobject, fields)
        rows = await self._rows(sobject, paths, (("Id", tuple(ids)),), kind="ids")
        return [self._record(sobject, row, paths) for row in rows]

    async def read(self, ref: RecordRef, fields: Sequence[str]) -> CRMRecord | None:
        record_id = self._converted.get(ref.record_id, ref.record_id)
        sobject = object_of(record_id, ref.object_type)
        paths = await self._select(sobject, fields)
        extra = ["IsConverted", "ConvertedContactId"] if sobject == "Lead" else []
        rows = await self._rows(sobject, paths, (("Id", (record_id,)),), extra, kind="ids")
        if not rows:
            return None
        row = rows[0]
        if sobject == "Lead" and row.get("IsConverted") and row.get("ConvertedContactId"):
            self._converted[record_id] = str(row["ConvertedContactId"])
            return await self.read(RecordRef("Contact", str(row["ConvertedContactId"])), fields)
        return self._record(sobject, row, paths)

    # -- writing ----------------------------------------------------------------------------------------

    async def _body(self, sobject: str, request: WriteRequest, record_id: str | None) -> dict[str, Any]:
        """The mapping's fields as `sobject` takes them; `Account.*` on a Contact goes to its Account."""
        described = await self.describe(sobject)
        body: dict[str, Any] = {}
        account: dict[str, Any] = {}
        for name, value in request.fields.items():
            path = translate(name, sobject)
            if path is None:
                raise UnknownFieldError(
                    f"{name} has no counterpart on Salesforce {sobject} (the caller's record is a {sobject}); "
                    "map it to a field both objects have, or remove it from the mapping",
                    fields=(name,),
                )
            if path.startswith("Account.") and sobject == "Contact":
                account[path.removeprefix("Account.")] = value
            elif path in described:
                body[path] = value
            else:
                raise UnknownFieldError(
                    f"Salesforce {sobject} has no field {path} (mapped as {name})", fields=(name,)
                )
        for target in request.associations:
            lookup = _LOOKUPS.get((sobject, object_of(target.record_id, target.object_type)))
            if lookup:
                body[lookup] = target.record_id
        if account:
            body["AccountId"] = await self._account_for(account, record_id)
        return body

    async def _account_for(self, values: dict[str, Any], contact_id: str | None) -> str:
        """The Account a Contact's `Account.*` fields describe: by Name (found or created); other Account
        fields are written to it."""
        name = values.pop("Name", None)
        account_id: str | None = None
        if name:
            if self.batches is not None:
                # Asked with the other attempts' account names; the oldest of the name, as ORDER BY does.
                named = await self.batches.rows(
                    "Account", ["Id", "Name", "CreatedDate"], (("Name", (str(name),)),), kind="accounts"
                )
                rows = sorted(named, key=lambda row: str(row.get("CreatedDate") or ""))[:1]
            else:
                rows = await self.query(
                    f"SELECT Id FROM Account WHERE Name = {soql_quote(str(name))} ORDER BY CreatedDate LIMIT 1"
                )
            if rows:
                account_id = str(rows[0]["Id"])
            else:
                response = await self._send("POST", "/sobjects/Account", json={"Name": str(name), **values})
                return str(response.json()["id"])
        elif contact_id:
            rows = await self.query(f"SELECT AccountId FROM Contact WHERE Id = {soql_quote(contact_id)}")
            account_id = str(rows[0]["AccountId"]) if rows and rows[0].get("AccountId") else None
        if account_id is None:
            raise PermanentError(
                "the Contact has no Account to write " + ", ".join(f"Account.{k}" for k in values)
            )
        if values:
            await self._send("PATCH", f"/sobjects/Account/{account_id}", json=values)
        return account_id

    async def write(self, request: WriteRequest) -> WriteResult:
        if request.record_id is None:
            return await self._create(request)
        record_id = self._converted.get(request.record_id, request.record_id)
        sobject = object_of(record_id, request.object_type)
        body = await self._body(sobject, request, record_id)
        try:
            await self._update(sobject, record_id, body)
        except PermanentError as exc:
            if sobject != "Lead" or "CANNOT_UPDATE_CONVERTED_LEAD" not in str(exc):
                raise
            # Converted since we looked: the caller's record is the lead's Contact now.
            rows = await self.query(f"SELECT ConvertedContactId FROM Lead WHERE Id = {soql_quote(record_id)}")
            if not rows or not rows[0].get("ConvertedContactId"):
                raise
            self._converted[record_id] = str(rows[0]["ConvertedContactId"])
            return await self.write(request)
        return WriteResult(RecordRef(sobject, record_id), False)

    async def _update(self, sobject: str, record_id: str, body: dict[str, Any]) -> None:
        async def alone() -> WriteResult:
            await self._send("PATCH", f"/sobjects/{sobject}/{record_id}", json=body)
            return WriteResult(RecordRef(sobject, record_id), False)

        if self.batches is not None:
            await self.batches.update(sobject, record_id, body, alone)
        else:
            await alone()

    async def _create(self, request: WriteRequest) -> WriteResult:
        sobject = request.object_type
        body = await self._body(sobject, request, None)
        key = self._external_id(sobject, body)
        if key is not None and body.get(key) and self.batches is not None:
            stamp = key
            result = await self.batches.upsert(
                sobject, stamp, body, lambda: self._upsert(sobject, stamp, dict(body))
            )
        elif key is not None and body.get(key):
            result = await self._upsert(sobject, key, body)
        else:
            response = await self._send("POST", f"/sobjects/{sobject}", json=body)
            result = WriteResult(RecordRef(sobject, str(response.json()["id"])), True)
        await self._roles(result.ref, request.associations)
        return result

    async def _upsert(self, sobject: str, key: str, body: dict[str, Any]) -> WriteResult:
        """A create as the upsert of one record on its External ID (a retried create updates the first)."""
        value = str(body.pop(key))
        response = await self._send(
            "PATCH", f"/sobjects/{sobject}/{key}/{url_quote(value, safe='')}", json=body
        )
        data = response.json() if response.content else {}
        record_id = str(data.get("id") or "")
        created = bool(data.get("created", response.status_code == 201))
        if not record_id:  # API versions before 46 answer 204 to an update: look the record up
            rows = await self.query(f"SELECT Id FROM {sobject} WHERE {condition(key, [value])}")
            record_id = str(rows[0]["Id"])
        return WriteResult(RecordRef(sobject, record_id), created)

    async def _roles(self, ref: RecordRef, associations: Sequence[RecordRef]) -> None:
        for target in associations:
            kinds = {ref.object_type, object_of(target.record_id, target.object_type)}
            if kinds == {"Opportunity", "Contact"}:
                await self.associate(ref, target)

    async def write_batch(self, requests: Sequence[WriteRequest]) -> list[WriteResult | CRMError]:
        """sObject Collections: creates by External ID upsert (one object per call), updates together,
        200 records a call, allOrNone=false. What needs more than one record's fields (a Contact's
        Account, a converted lead, an opportunity's contact role) goes one by one. Results keep input order."""
        results: dict[int, WriteResult | CRMError] = {}
        upserts: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
        updates: list[tuple[int, dict[str, Any]]] = []
        singles: list[int] = []
        for i, request in enumerate(requests):
            record_id = request.record_id
            sobject = request.object_type
            if record_id is not None:
                sobject = object_of(self._converted.get(record_id, record_id), sobject)
            simple = not any((translate(f, sobject) or "").startswith("Account.") for f in request.fields)
            if not simple or (record_id and record_id in self._converted) or request.associations:
                singles.append(i)
                continue
            try:
                body = await self._body(sobject, request, record_id)
            except CRMError as exc:
                results[i] = exc
                continue
            if record_id is None:
                key = self._external_id(sobject, body)
                if key is None or not body.get(key):
                    singles.append(i)
                else:
                    upserts.setdefault((sobject, key), []).append((i, body))
            else:
                updates.append((i, {"attributes": {"type": sobject}, "id": record_id, **body}))
        for (sobject, key), group in upserts.items():
            for start in range(0, len(group), COLLECTION_LIMIT):
                chunk = group[start : start + COLLECTION_LIMIT]
                records = [{"attributes": {"type": sobject}, **body} for _, body in chunk]
                results.update(
                    await self._collection(
                        "PATCH", f"/composite/sobjects/{sobject}/{key}", sobject, chunk, records
                    )
                )
        for start in range(0, len(updates), COLLECTION_LIMIT):
            batch = updates[start : start + COLLECTION_LIMIT]
            results.update(
                await self._collection("PATCH", "/composite/sobjects", None, batch, [b for _, b in batch])
            )
        for i in singles:
            try:
                results[i] = await self.write(requests[i])
            except CRMError as exc:
                results[i] = exc
        return [results[i] for i in range(len(requests))]

    async def _collection(
        self,
        method: str,
        path: str,
        sobject: str | None,
        items: Sequence[tuple[int, dict[str, Any]]],
        records: list[dict[str, Any]],
    ) -> dict[int, WriteResult | CRMError]:
        try:
            response = await self._send(method, path, json={"allOrNone": False, "records": records})
        except CRMError as exc:
            return {i: exc for i, _ in items}
        out: dict[int, WriteResult | CRMError] = {}
        for (i, body), result in zip(items, response.json(), strict=False):
            kind = sobject or str(body.get("attributes", {}).get("type"))
            if result.get("success"):
                record_id = str(result.get("id") or body.get("id"))
                created = bool(result.get("created", False))
                out[i] = WriteResult(RecordRef(kind, record_id), created)
                continue
            error = (result.get("errors") or [{}])[0]
            out[i] = record_error(f"{method} {path} record {i}", error)
        for i, _ in items:
            out.setdefault(i, PermanentError(f"{method} {path}: no result for record {i}"))
        return out

    async def _current(self, ref: RecordRef) -> RecordRef:
        """A lead that has been converted stands for its Contact (the engine names the caller's record by
        the mapping's object); every other record is itself, its object told by its id's prefix."""
        kind = object_of(ref.record_id, ref.object_type)
        if kind != "Lead" or ref.object_type not in ("Lead", "Contact"):
            return RecordRef(kind, ref.record_id)
        if ref.record_id not in self._converted:
            rows = await self.query(
                f"SELECT IsConverted, ConvertedContactId FROM Lead WHERE Id = {soql_quote(ref.record_id)}"
            )
            if rows and rows[0].get("IsConverted") and rows[0].get("ConvertedContactId"):
                self._converted[ref.record_id] = str(rows[0]["ConvertedContactId"])
        contact = self._converted.get(ref.record_id)
        return RecordRef("Contact", contact) if contact else RecordRef("Lead", ref.record_id)

    # -- workflow actions (crm/salesforce/actions.py) ------------------------------------------------

    async def act(self, request: ActionRequest) -> ActionResult:
        from callsync.crm.salesforce.actions import act

        return await act(self, request)

    async def find_action(self, request: ActionRequest) -> RecordRef | None:
        from callsync.crm.salesforce.actions import find_action

        return await find_action(self, request.kind, request.stamp)

    async def associate(self, source: RecordRef, target: RecordRef) -> None:
        source, target = await self._current(source), await self._current(target)
        a, b = source.object_type, target.object_type
        if {a, b} == {"Opportunity", "Contact"}:
            opportunity, contact = (source, target) if a == "Opportunity" else (target, source)
            rows = await self.query(
                "SELECT Id FROM OpportunityContactRole WHERE OpportunityId = "
                f"{soql_quote(opportunity.record_id)} AND ContactId = {soql_quote(contact.record_id)}"
            )
            if not rows:
                await self._send(
                    "POST",
                    "/sobjects/OpportunityContactRole",
                    json={"OpportunityId": opportunity.record_id, "ContactId": contact.record_id},
                )
            return
        for (record, kind), (other, other_kind) in (((source, a), (target, b)), ((target, b), (source, a))):
            lookup = _LOOKUPS.get((kind, other_kind))
            if lookup:  # with batching, in the next collection of updates
                await self._update(kind, record.record_id, {lookup: other.record_id})
                return
        if "Lead" in (a, b):
            raise PermanentError(
                f"Salesforce cannot link a Lead to an {b if a == 'Lead' else a}: a Lead has no account or "
                "opportunity until it is converted (its company is its Company field). Link companies and "
                "deals to Contacts (crm_object: Contact), see docs/crms.md"
            )
        raise PermanentError(f"Salesforce has no link from {a} to {b} that callsync knows how to set")


async def _none() -> dict[str, list[CRMRecord]]:
    return {}


async def _nothing() -> list[CRMRecord]:
    return []
