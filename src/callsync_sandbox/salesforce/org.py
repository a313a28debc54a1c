"""The emulated org's data: records, validation, unique and duplicate rules, lead conversion, SOQL.

Everything a client can observe through the REST API is decided here, under one lock, in Salesforce's
terms (error codes and messages as the REST API returns them). The HTTP routes live in `api.py`.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from callsync_sandbox.salesforce import soql
from callsync_sandbox.salesforce.schema import (
    ACTION_FIELDS,
    ACTION_OBJECTS,
    CALLSYNC_FIELDS,
    KEY_PREFIXES,
    NUMBER_TYPES,
    OWNER_ID,
    FieldDef,
    canonical_id,
    custom_field,
    make_id,
    object_for_id,
    standard_objects,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Lead field -> Contact field when a lead is converted (Salesforce's standard lead field mapping);
# Company goes to the Account's Name, address to the Contact's mailing address.
LEAD_TO_CONTACT = {
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
            "HasOptedOutOfFax",
            "Fax",
        )
    },
    **{a: "Mailing" + a for a in ("Street", "City", "State", "PostalCode", "Country")},
}
LEAD_TO_ACCOUNT = {
    "Company": "Name",
    "Website": "Website",
    "Industry": "Industry",
    "Rating": "Rating",
    "NumberOfEmployees": "NumberOfEmployees",
    "AnnualRevenue": "AnnualRevenue",
    "Phone": "Phone",
    "LeadSource": "AccountSource",
}


_CUSTOM_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)


class SfError(Exception):
    """An error in Salesforce's shape: `[{"message", "errorCode", "fields"}]` at the top level, or one
    `{"statusCode", "message", "fields"}` item of a collection's per-record result."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Iterable[str] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields)
        self.extra = dict(extra or {})

    def body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            item["fields"] = self.fields
        return [item | self.extra]

    def item(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields} | self.extra


def not_found() -> SfError:
    return SfError(404, "NOT_FOUND", "The requested resource does not exist")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class Org:
    """One org's records. All public methods take the lock; tests read the org from another thread."""

    def __init__(
        self,
        *,
        custom_fields: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        duplicate_rules: Mapping[str, str] | None = None,
    ) -> None:
        objects = standard_objects()
        if custom_fields is None:
            custom_fields = {
                name: CALLSYNC_FIELDS
                for name in ("Lead", "Contact", "Account", "Opportunity", "Task", "Event")
            }
        # The objects callsync's actions create carry its action stamp, unless the fields given describe the
        # object otherwise (a rehearsal seeds only the mapping's objects from the real org; docs/actions.md).
        custom_fields = dict(custom_fields)
        for name in ACTION_OBJECTS:
            if name not in custom_fields or custom_fields[name] is CALLSYNC_FIELDS:
                custom_fields[name] = (*custom_fields.get(name, ()), *ACTION_FIELDS)
        for name, specs in custom_fields.items():
            objects[name] = [*objects[name], *(custom_field(dict(s)) for s in specs)]
        self.schema: dict[str, dict[str, FieldDef]] = {
            n: {f.name: f for f in fs} for n, fs in objects.items()
        }
        self._folded = {n: {k.casefold(): k for k in fs} for n, fs in self.schema.items()}
        self._types = {n.casefold(): n for n in self.schema}
        for rule in (duplicate_rules or {}).values():
            if rule not in ("block", "alert"):
                raise ValueError(f"a duplicate rule is 'block' or 'alert', not {rule!r}")
        self.duplicate_rules = dict(duplicate_rules or {})
        self.records: dict[str, dict[str, dict[str, Any]]] = {n: {} for n in self.schema}
        # (object, field) -> folded value -> ids: built for a field the first time it is looked up by
        # equality (duplicate and unique checks, upserts, SOQL `=` / IN), kept current on every write.
        self._indexes: dict[tuple[str, str], dict[Any, set[str]]] = {}
        self._serial = 0
        self.lock = threading.RLock()

    # -- names -------------------------------------------------------------------------------------------

    def sobject(self, name: str) -> str:
        found = self._types.get(name.casefold())
        if found is None:
            raise SfError(404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{name}'")
        return found

    def field(self, sobject: str, name: str, *, query: bool = False) -> FieldDef:
        found = self._folded[sobject].get(name.casefold())
        if found is None:
            if query:
                raise SfError(
                    400, "INVALID_FIELD", f"No such column '{name}' on entity '{sobject}'. " + _CUSTOM_HINT
                )
            raise SfError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}")
        return self.schema[sobject][found]

    def type_of(self, record_id: str) -> str:
        ident = canonical_id(record_id)
        sobject = object_for_id(ident) if ident else None
        if ident is None or sobject is None or ident not in self.records.get(sobject, {}):
            raise not_found()
        return sobject

    # -- records -------------------------------------------------------------------------------------

    def snapshot(self) -> tuple[dict[str, dict[str, dict[str, Any]]], int]:
        return copy.deepcopy(self.records), self._serial

    def restore(self, state: tuple[dict[str, dict[str, dict[str, Any]]], int]) -> None:
        self.records, self._serial = state
        self._indexes.clear()  # rebuilt on the next lookup

    def get(self, sobject: str, record_id: str) -> dict[str, Any]:
        ident = canonical_id(record_id)
        record = self.records[sobject].get(ident) if ident else None
        if record is None:
            raise not_found()
        return record

    def create(self, sobject: str, raw: Mapping[str, Any], *, allow_duplicates: bool = False) -> str:
        with self.lock:
            values = self._clean(sobject, raw, creating=True)
            for name, definition in self.schema[sobject].items():
                if name not in values and definition.default is not None:
                    values[name] = definition.default
                if definition.type == "boolean" and name not in values:
                    values[name] = False  # a checkbox is never null, read-only ones (IsClosed, ...) included
            missing = [
                n for n, d in self.schema[sobject].items() if d.required_on_create and values.get(n) is None
            ]
            if missing:
                raise SfError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
            self._check_unique(sobject, values, None)
            self._check_duplicates(sobject, values, None, allow_duplicates)
            self._serial += 1
            record_id = make_id(KEY_PREFIXES[sobject], self._serial)
            stamp = _now()
            record = {
                "Id": record_id,
                "OwnerId": OWNER_ID,
                "IsDeleted": False,
                "CreatedById": OWNER_ID,
                "LastModifiedById": OWNER_ID,
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
                **values,
            }
            if sobject == "Lead":
                record["IsConverted"] = False
            if sobject == "Case":  # an auto-number field
                record["CaseNumber"] = f"{len(self.records['Case']) + 1:08d}"
            if "OwnerId" not in self.schema[sobject]:
                del record["OwnerId"]
            self._computed(sobject, record)
            self.records[sobject][record_id] = record
            self._reindex(sobject, record_id, {}, record)
            return record_id

    def update(
        self, sobject: str, record_id: str, raw: Mapping[str, Any], *, allow_duplicates: bool = False
    ) -> str:
        with self.lock:
            record = self.get(sobject, record_id)
            if sobject == "Lead" and record.get("IsConverted"):
                raise SfError(400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
            values = self._clean(sobject, raw, creating=False)
            cleared = [n for n, v in values.items() if v is None and not self.schema[sobject][n].nillable]
            if cleared:
                raise SfError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(cleared)}]",
                    cleared,
                )
            merged = {**record, **values}
            self._check_unique(sobject, merged, record["Id"])
            if "Email" in values and values["Email"] != record.get("Email"):
                self._check_duplicates(sobject, merged, record["Id"], allow_duplicates)
            before = dict(record)
            record.update(values)
            record["LastModifiedDate"] = record["SystemModstamp"] = _now()
            self._computed(sobject, record)
            self._reindex(sobject, str(record["Id"]), before, record)
            return str(record["Id"])

    def upsert(
        self,
        sobject: str,
        ext_field: str,
        value: str,
        raw: Mapping[str, Any],
        *,
        allow_duplicates: bool = False,
        update_only: bool = False,
    ) -> tuple[str, bool]:
        """(record id, created). Several records holding the value: a 300 listing them."""
        with self.lock:
            definition = self.field(sobject, ext_field)
            if not (definition.external_id or definition.type == "id" or definition.name == "Email"):
                raise SfError(
                    400,
                    "INVALID_FIELD",
                    f"Field {definition.name} is not an External ID or indexed field for {sobject}",
                )
            body = dict(raw)
            for key in [k for k in body if k.casefold() == definition.name.casefold()]:
                if str(body.pop(key)) != value:
                    raise SfError(
                        400,
                        "INVALID_FIELD",
                        f"The value of {definition.name} in the body does not match the URL",
                    )
            if definition.type == "id":
                hits = [value] if canonical_id(value) in self.records[sobject] else []
            else:
                hits = self.find(sobject, definition.name, value)
            if len(hits) > 1:
                urls = [f"/sobjects/{sobject}/{h}" for h in hits]
                raise SfError(
                    300,
                    "MULTIPLE_CHOICES",
                    "More than one record found for external id",
                    extra={"urls": urls},
                )
            if hits:
                return self.update(sobject, hits[0], body, allow_duplicates=allow_duplicates), False
            if update_only:
                raise not_found()
            if definition.type == "id":
                raise not_found()
            return self.create(
                sobject, {**body, definition.name: value}, allow_duplicates=allow_duplicates
            ), True

    def delete(self, sobject: str, record_id: str) -> None:
        with self.lock:
            record = self.get(sobject, record_id)
            del self.records[sobject][record["Id"]]
            self._reindex(sobject, str(record["Id"]), record, {})

    def find(self, sobject: str, field: str, value: Any) -> list[str]:
        """Ids of the records whose `field` equals `value` (text case-insensitively), oldest first."""
        wanted = _fold(value)
        if wanted is None:
            return []
        index = self._indexes.get((sobject, field))
        if index is None:
            index = self._indexes[(sobject, field)] = {}
            for record_id, record in self.records[sobject].items():
                key = _fold(record.get(field))
                if key is not None:
                    index.setdefault(key, set()).add(record_id)
        # Ids sort as they were issued (a base-62 serial after the key prefix), like the records' order.
        return sorted(index.get(wanted, ()))

    def _reindex(
        self, sobject: str, record_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> None:
        for (indexed_object, field), index in self._indexes.items():
            if indexed_object != sobject:
                continue
            old, new = _fold(before.get(field)), _fold(after.get(field))
            if old == new and (old is None) == (new is None):
                continue
            if old is not None and old in index:
                index[old].discard(record_id)
                if not index[old]:
                    del index[old]
            if new is not None:
                index.setdefault(new, set()).add(record_id)

    # -- validation --------------------------------------------------------------------------------------

    def _clean(self, sobject: str, raw: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        values: dict[str, Any] = {}
        locked: list[str] = []
        for key, value in raw.items():
            if key == "attributes":
                continue
            definition = self.field(sobject, key)
            if not (definition.createable if creating else definition.updateable):
                locked.append(definition.name)
                continue
            values[definition.name] = self._coerce(sobject, definition, value)
        if locked:
            verb = "create" if creating else "update"
            raise SfError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to {verb} fields: {', '.join(locked)}. Please check the security settings of "
                "this field and verify that it is read/write for your profile or permission set.",
                locked,
            )
        return values

    def _coerce(self, sobject: str, definition: FieldDef, value: Any) -> Any:
        name, kind = definition.name, definition.type
        if value is None or value == "":
            return None
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise _json_error(kind, value, name)
        if kind in NUMBER_TYPES:
            if isinstance(value, bool):
                raise _json_error(kind, value, name)
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise _json_error(kind, value, name) from None
            return int(number) if kind == "int" or number.is_integer() else number
        if kind == "date":
            try:
                return date.fromisoformat(str(value)[:10]).isoformat()
            except ValueError:
                raise _json_error(kind, value, name) from None
        if kind == "datetime":
            try:
                moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise _json_error(kind, value, name) from None
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        if kind == "reference":
            ident = canonical_id(str(value))
            target = object_for_id(ident) if ident else None
            if ident is None or target is None or target not in definition.reference_to:
                raise SfError(
                    400,
                    "MALFORMED_ID",
                    f"{definition.label or name}: id value of incorrect type: {value}",
                    [name],
                )
            if target in self.records and ident not in self.records[target]:  # others taken on trust
                raise SfError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name])
            return ident
        if isinstance(value, bool | dict | list):
            raise _json_error(kind, value, name)
        text = str(value)
        if len(text) > definition.length:
            raise SfError(
                400,
                "STRING_TOO_LONG",
                f"{name}: data value too large: {text[:40]} (max length={definition.length})",
                [name],
            )
        if kind == "email" and not _EMAIL.match(text):
            raise SfError(400, "INVALID_EMAIL_ADDRESS", f"{name}: invalid email address: {text}", [name])
        return text

    def _check_unique(self, sobject: str, values: Mapping[str, Any], own_id: str | None) -> None:
        for name, definition in self.schema[sobject].items():
            if not definition.unique or values.get(name) is None:
                continue
            for other in self.find(sobject, name, values[name]):
                if other != own_id:
                    raise SfError(
                        400,
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {name} duplicates value on record with id: {other}",
                        [],
                    )

    def _check_duplicates(
        self, sobject: str, values: Mapping[str, Any], own_id: str | None, allow: bool
    ) -> None:
        """The org's duplicate rule for this object, matching on email (block: never saved; alert: saved
        only when the request sends Sforce-Duplicate-Rule-Header allowSave=true)."""
        mode = self.duplicate_rules.get(sobject)
        email = values.get("Email")
        if mode is None or email is None or (mode == "alert" and allow):
            return
        searched = ("Lead", "Contact") if sobject == "Lead" else (sobject,)
        matches: list[dict[str, Any]] = []
        for target in searched:
            ids = [i for i in self.find(target, "Email", email) if i != own_id]
            ids = [i for i in ids if not self.records[target][i].get("IsConverted")]
            if ids:
                matches.append(
                    {
                        "entityType": target,
                        "matchEngine": "ExactMatchEngine",
                        "rule": f"Standard_{target}_Match",
                        "size": len(ids),
                        "success": True,
                        "errors": [],
                        "matchRecords": [
                            {
                                "record": {"attributes": {"type": target}, "Id": i},
                                "matchConfidence": 100.0,
                                "fieldDiffs": [],
                            }
                            for i in ids
                        ],
                    }
                )
        if not matches:
            return
        message = "You're creating a duplicate record. We recommend you use an existing record instead."
        raise SfError(
            400,
            "DUPLICATES_DETECTED",
            message,
            [],
            {
                "duplicateResult": {
                    "allowSave": mode == "alert",
                    "duplicateRule": f"Standard_{sobject}_Duplicate_Rule",
                    "duplicateRuleEntityType": sobject,
                    "errorMessage": message,
                    "matchResults": matches,
                }
            },
        )

    @staticmethod
    def _computed(sobject: str, record: dict[str, Any]) -> None:
        if sobject in ("Lead", "Contact"):
            record["Name"] = " ".join(str(record[k]) for k in ("FirstName", "LastName") if record.get(k))
        # A Developer Edition org's closed statuses: Task "Completed", Case "Closed" (IsClosed is derived).
        if sobject == "Task":
            record["IsClosed"] = record.get("Status") == "Completed"
        elif sobject == "Case":
            record["IsClosed"] = record.get("Status") == "Closed"

    # -- lead conversion (a rep's action: no standard REST resource exists) ------------------------------

    def convert_lead(
        self,
        lead_id: str,
        *,
        account_id: str | None = None,
        contact_id: str | None = None,
        opportunity_name: str | None = None,
    ) -> dict[str, str | None]:
        """What `convertLead()` does: an Account (or the given one), a Contact (or the given one, filled where
        empty), optionally an Opportunity with the contact as primary role; the lead becomes read-only."""
        with self.lock:
            lead = self.get("Lead", lead_id)
            if lead.get("IsConverted"):
                raise SfError(400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
            if account_id is None:
                account = {a: lead[f] for f, a in LEAD_TO_ACCOUNT.items() if lead.get(f) is not None}
                account_id = self.create("Account", account)
            contact = {c: lead[f] for f, c in LEAD_TO_CONTACT.items() if lead.get(f) is not None}
            contact |= {n: v for n, v in lead.items() if n.endswith("__c") and n in self.schema["Contact"]}
            if contact_id is None:
                contact_id = self.create(
                    "Contact", {**contact, "AccountId": account_id}, allow_duplicates=True
                )
            else:
                existing = self.get("Contact", contact_id)
                fill = {k: v for k, v in contact.items() if existing.get(k) is None}
                self.update("Contact", contact_id, {**fill, "AccountId": account_id}, allow_duplicates=True)
            opportunity_id = None
            if opportunity_name:
                close = (date.today() + timedelta(days=30)).isoformat()
                opportunity_id = self.create(
                    "Opportunity",
                    {
                        "Name": opportunity_name,
                        "StageName": "Prospecting",
                        "CloseDate": close,
                        "AccountId": account_id,
                    },
                )
                self.create(
                    "OpportunityContactRole",
                    {"OpportunityId": opportunity_id, "ContactId": contact_id, "IsPrimary": True},
                )
            before = dict(lead)
            lead.update(
                {
                    "IsConverted": True,
                    "ConvertedDate": date.today().isoformat(),
                    "Status": "Closed - Converted",
                    "ConvertedAccountId": account_id,
                    "ConvertedContactId": contact_id,
                    "ConvertedOpportunityId": opportunity_id,
                    "LastModifiedDate": _now(),
                }
            )
            self._reindex("Lead", str(lead["Id"]), before, lead)
            return {"accountId": account_id, "contactId": contact_id, "opportunityId": opportunity_id}

    # -- SOQL ----------------------------------------------------------------------------------------------

    def query(self, text: str, version: str) -> dict[str, Any]:
        with self.lock:
            try:
                parsed = soql.parse(text)
            except soql.SoqlError as exc:
                raise SfError(400, exc.code, exc.message) from exc
            try:
                sobject = self.sobject(parsed.sobject)
            except SfError:
                raise SfError(
                    400, "INVALID_TYPE", f"sObject type '{parsed.sobject}' is not supported."
                ) from None
            paths = {
                p: self._path(sobject, p)
                for p in (
                    *parsed.fields,
                    *soql.referenced_fields(parsed.where),
                    *(o.field for o in parsed.order),
                )
            }

            def getter(record: Mapping[str, Any]) -> Callable[[str], Any]:
                return lambda p: self._value(record, paths[p])

            rows = [
                r
                for r in self._candidates(sobject, parsed.where, paths)
                if soql.matches(parsed.where, getter(r))
            ]
            for order in reversed(parsed.order):
                rows.sort(key=_order_key(getter, order), reverse=order.descending)
            total = len(rows)
            rows = rows[parsed.offset :]
            if parsed.limit is not None:
                rows = rows[: parsed.limit]
            if parsed.count:
                return {
                    "totalSize": total if parsed.limit is None else min(total, parsed.limit),
                    "done": True,
                    "records": [],
                }
            records = [self._output(sobject, r, [paths[f] for f in parsed.fields], version) for r in rows]
            return {"totalSize": len(records), "done": True, "records": records}

    def _candidates(
        self, sobject: str, where: soql.Condition | None, paths: Mapping[str, tuple[str, ...]]
    ) -> list[dict[str, Any]]:
        """The records a WHERE clause can match: from the indexes when it requires a field of the object to
        equal a value (`=` or IN, alone or ANDed with anything) or is an OR of such clauses (a lookup of
        many callers at once: `Email IN (...) OR Phone IN (...)`), else all of them. Oldest first."""
        records = self.records[sobject]
        lookups = _equalities(where, paths)
        if lookups is None:
            return list(records.values())
        ids = sorted(
            {i for field, values in lookups for value in values for i in self.find(sobject, field, value)}
        )
        return [records[i] for i in ids]

    def _path(self, sobject: str, path: str) -> tuple[str, ...]:
        """A field path in canonical names: ('Email',) or ('Account', 'Name') through a relationship."""
        parts = path.split(".")
        if len(parts) == 1:
            return (self.field(sobject, parts[0], query=True).name,)
        if len(parts) > 2:
            raise SfError(
                400, "MALFORMED_QUERY", f"relationships deeper than one level are not emulated: {path}"
            )
        for definition in self.schema[sobject].values():
            if (
                definition.relationship_name
                and definition.relationship_name.casefold() == parts[0].casefold()
            ):
                targets = definition.reference_to
                if all(parts[1].casefold() not in self._folded.get(t, {}) for t in targets):
                    raise SfError(
                        400, "INVALID_FIELD", f"No such column '{parts[1]}' on entity '{targets[0]}'"
                    )
                return (definition.relationship_name, parts[1])
        raise SfError(400, "INVALID_FIELD", f"Didn't understand relationship '{parts[0]}' in field path")

    def _related(self, record: Mapping[str, Any], relationship: str) -> tuple[str, dict[str, Any]] | None:
        sobject = object_for_id(str(record.get("Id", "")))
        for definition in self.schema.get(sobject or "", {}).values():
            if definition.relationship_name == relationship:
                target_id = record.get(definition.name)
                target = object_for_id(str(target_id)) if target_id else None
                if target is None or target not in self.records:
                    return None
                found = self.records[target].get(str(target_id))
                return (target, found) if found else None
        return None

    def _value(self, record: Mapping[str, Any], path: tuple[str, ...]) -> Any:
        if len(path) == 1:
            return record.get(path[0])
        related = self._related(record, path[0])
        if related is None:
            return None
        target, row = related
        name = self._folded[target].get(path[1].casefold())
        return row.get(name) if name else None

    def _output(
        self, sobject: str, record: Mapping[str, Any], paths: list[tuple[str, ...]], version: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v{version}/sobjects/{sobject}/{record['Id']}",
            }
        }
        for path in paths:
            if len(path) == 1:
                out[path[0]] = record.get(path[0])
                continue
            related = self._related(record, path[0])
            if related is None:
                out.setdefault(path[0], None)
                continue
            target, row = related
            name = self._folded[target][path[1].casefold()]
            nested = out.get(path[0]) or {
                "attributes": {
                    "type": target,
                    "url": f"/services/data/v{version}/sobjects/{target}/{row['Id']}",
                }
            }
            nested[name] = row.get(name)
            out[path[0]] = nested
        return out

    def output(
        self, sobject: str, record: Mapping[str, Any], fields: Iterable[str] | None, version: str
    ) -> dict[str, Any]:
        names = [self.field(sobject, f).name for f in fields] if fields else list(self.schema[sobject])
        return self._output(sobject, record, [(n,) for n in names], version)


def _equalities(
    where: soql.Condition | None, paths: Mapping[str, tuple[str, ...]]
) -> list[tuple[str, tuple[Any, ...]]] | None:
    """(field, values) pairs such that `where` holds only for records whose own field equals one of the
    values of one pair; None when no index can narrow it down (a scan)."""
    if isinstance(where, soql.Compare) and where.op == "=" and where.value is not None:
        path = paths[where.field]
        return [(path[0], (where.value,))] if len(path) == 1 else None
    if isinstance(where, soql.InList) and not where.negate:
        path = paths[where.field]
        values = tuple(v for v in where.values if v is not None)
        return [(path[0], values)] if len(path) == 1 else None
    if isinstance(where, soql.BoolOp) and where.op == "AND":
        return next((found for part in where.parts if (found := _equalities(part, paths))), None)
    if isinstance(where, soql.BoolOp) and where.op == "OR":
        union: list[tuple[str, tuple[Any, ...]]] = []
        for part in where.parts:
            found = _equalities(part, paths)
            if found is None:  # one branch needs a scan: so does the whole
                return None
            union += found
        return union
    return None


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _order_key(
    getter: Callable[[Mapping[str, Any]], Callable[[str], Any]], order: soql.Order
) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    nulls_high = order.nulls_last != order.descending
    return lambda record: _sort_key(getter(record)(order.field), nulls_high)


def _sort_key(value: Any, nulls_high: bool) -> tuple[int, Any]:
    if value is None:
        return (1 if nulls_high else -1, "")
    return (0, _fold(value) if isinstance(value, str) else value)


def _json_error(kind: str, value: Any, name: str) -> SfError:
    return SfError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from value {value!r} for field {name}",
    )
