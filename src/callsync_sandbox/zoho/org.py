"""The emulated Zoho CRM org's data: records, validation, duplicate checks, upsert, search, conversion.

Answers use Zoho's shapes (crm-apis.md §3; the vendor's OpenAPI v8 in crm-specs/zoho, read as reference):
multi-record writes give one `{"code", "details", "message", "status"}` per record; a duplicate on a
system duplicate-check field (Leads/Contacts Email, Accounts Account_Name) or a unique custom field is
`DUPLICATE_DATA` with the existing record in `details.id` / `details.duplicate_record`. A converted lead
leaves the Leads module (searches and reads skip it unless `converted=true|both`) and records its
Contact / Account / Deal in `$converted_detail`; it cannot be updated or converted again.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from callsync_sandbox.zoho import coql
from callsync_sandbox.zoho import criteria as crit
from callsync_sandbox.zoho.schema import (
    ACTION_FIELDS,
    ACTION_MODULES,
    CALLSYNC_FIELDS,
    MODULE_IDS,
    MODULES,
    SYSTEM_UNIQUE,
    WHAT_MODULES,
    FieldDef,
    custom_field,
    standard_modules,
)

OWNER = {"name": "Sandbox Admin", "id": "5725767000000411001", "email": "admin@sandbox.test"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FIRST_ID = 5725767000000500000


class ZohoError(Exception):
    """A whole-request error: `{"code", "details", "message", "status": "error"}` with an HTTP status."""

    def __init__(
        self, status: int, code: str, message: str, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "message": self.message, "status": "error"}


class RecordError(ZohoError):
    """One record's failure inside a multi-record answer."""

    def __init__(self, code: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(400, code, message, details)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class ZohoOrg:
    def __init__(
        self,
        *,
        custom_fields: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        search_lag_s: float = 0.0,
    ) -> None:
        modules = standard_modules()
        if custom_fields is None:
            custom_fields = {m: CALLSYNC_FIELDS for m in ("Leads", "Contacts", "Accounts", "Deals", "Calls")}
        # The modules callsync's actions create records in carry its action stamp, unless the fields given
        # describe the module otherwise (a rehearsal seeds only the mapping's modules; docs/actions.md).
        custom_fields = dict(custom_fields)
        for module in ACTION_MODULES:
            if module not in custom_fields or custom_fields[module] is CALLSYNC_FIELDS:
                custom_fields[module] = (*custom_fields.get(module, ()), *ACTION_FIELDS)
        for module, specs in custom_fields.items():
            modules[module] = [*modules[module], *(custom_field(dict(s), module) for s in specs)]
        self.fields: dict[str, dict[str, FieldDef]] = {
            m: {f.api_name: f for f in fs} for m, fs in modules.items()
        }
        self.records: dict[str, dict[str, dict[str, Any]]] = {m: {} for m in MODULES}
        self._visible_at: dict[str, float] = {}  # record id -> when search sees it
        # (module, field) -> folded text -> ids: built for a field the first time it is looked up by
        # equality (duplicate checks, upserts, email / phone / criteria search), kept current on writes.
        self._indexes: dict[tuple[str, str], dict[str, set[str]]] = {}
        self.search_lag_s = search_lag_s
        self._serial = 0
        self.lock = threading.RLock()

    # -- names ---------------------------------------------------------------------------------------------

    def module(self, name: str) -> str:
        if name not in self.fields:
            raise ZohoError(400, "INVALID_MODULE", "the module name given seems to be invalid", {})
        return name

    def describe(self, module: str) -> list[dict[str, Any]]:
        return [f.describe(i) for i, f in enumerate(self.fields[self.module(module)].values())]

    def module_of(self, record_id: str) -> str | None:
        return next((m for m, rows in self.records.items() if record_id in rows), None)

    # -- reading ---------------------------------------------------------------------------------------------

    def get(self, module: str, record_id: str, *, converted: str = "false") -> dict[str, Any] | None:
        record = self.records[module].get(record_id)
        if record is None or not _converted_ok(record, converted):
            return None
        return record

    def output(self, record: Mapping[str, Any], fields: Iterable[str] | None) -> dict[str, Any]:
        if fields is None:
            return copy.deepcopy(dict(record))
        wanted = {"id", *fields}
        # System keys ($converted, $converted_detail, ...) come with every record.
        return {k: copy.deepcopy(v) for k, v in record.items() if k in wanted or k.startswith("$")}

    def search(self, module: str, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """`criteria`, `email` (any email field), `phone` (any phone field) or `word`."""
        now = time.monotonic()
        converted = query.get("converted", "false")
        if query.get("criteria"):
            try:
                parsed = crit.parse(query["criteria"])
            except crit.CriteriaError as exc:
                raise ZohoError(400, "INVALID_QUERY", "invalid query formed", {"reason": str(exc)}) from exc
            for name in crit.fields_of(parsed):
                if name not in self.fields[module] and name != "id":
                    raise ZohoError(400, "INVALID_QUERY", "invalid query formed", {"api_name": name})

            def hit(r: dict[str, Any]) -> bool:
                return crit.matches(parsed, r.get)

            def plan() -> set[str] | None:
                return self._criteria_candidates(module, parsed)
        elif query.get("email") or query.get("phone"):
            kind = "email" if query.get("email") else "phone"
            wanted = (query.get("email") or query.get("phone") or "").casefold()
            names = [f.api_name for f in self.fields[module].values() if f.data_type == kind]

            def hit(r: dict[str, Any]) -> bool:
                return any(str(r.get(n) or "").casefold() == wanted for n in names)

            def plan() -> set[str] | None:
                return self._lookup(module, names, [wanted])
        elif query.get("word"):
            word = query["word"].casefold()

            def hit(r: dict[str, Any]) -> bool:
                return any(isinstance(v, str) and word in v.casefold() for v in r.values())

            def plan() -> set[str] | None:
                return None
        else:
            raise ZohoError(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"param": "criteria"},
            )
        return self._matching(module, now, converted, hit, plan)

    def _matching(
        self,
        module: str,
        now: float,
        converted: str,
        hit: Callable[[dict[str, Any]], bool],
        plan: Callable[[], set[str] | None],
    ) -> list[dict[str, Any]]:
        """The records a search or a query sees at `now` (search lag) that `hit` accepts, in the order
        created: the indexed candidates `plan` names, or every record when it names none."""
        with self.lock:
            rows, candidates = self.records[module], plan()
            scanned = rows.values() if candidates is None else [rows[i] for i in self.ordered(candidates)]
            return [
                r
                for r in scanned
                if self._visible_at.get(r["id"], 0.0) <= now and _converted_ok(r, converted) and hit(r)
            ]

    def query(self, query: coql.Query) -> tuple[list[dict[str, Any]], bool]:
        """A COQL query's page of records (the selected fields and id) and whether more matched. Like a
        listing, it leaves converted leads out; search lag applies as it does to a search."""
        module = self.module(query.module)
        known = self.fields[module]
        named = [*query.fields, *(crit.fields_of(query.where) if query.where else []), query.order_by or "id"]
        for name in named:
            if name not in known and name != "id":
                raise ZohoError(
                    400, "INVALID_QUERY", "column given seems to be invalid", {"column_name": name}
                )
        where = query.where
        found = self._matching(
            module,
            time.monotonic(),
            "false",
            lambda r: where is None or crit.matches(where, r.get),
            lambda: None if where is None else self._criteria_candidates(module, where),
        )
        by = query.order_by
        if by is None or by == "id":
            found.sort(key=lambda r: int(r["id"]), reverse=query.descending)
        else:
            # Empty values last whichever the direction; ties by id, in the same direction.
            present = [r for r in found if r.get(by) not in (None, "")]
            present.sort(key=lambda r: (crit.fold_value(r.get(by)), int(r["id"])), reverse=query.descending)
            found = present + [r for r in found if r.get(by) in (None, "")]
        page = found[query.offset : query.offset + query.limit]
        return [self.output(r, query.fields) for r in page], query.offset + query.limit < len(found)

    def _criteria_candidates(self, module: str, parsed: crit.Criteria) -> set[str] | None:
        """(Callers hold the lock.) Ids that may satisfy the criteria when it requires a text field to equal given values
        (`equals` / `in`, alone, ANDed with anything, or ORed with others that are indexed too); None when
        only a scan can tell."""
        if isinstance(parsed, crit.Group):
            if parsed.op == "or":
                union: set[str] = set()
                for part in parsed.parts:
                    found = self._criteria_candidates(module, part)
                    if found is None:
                        return None
                    union |= found
                return union
            return next(
                (
                    found
                    for part in parsed.parts
                    if (found := self._criteria_candidates(module, part)) is not None
                ),
                None,
            )
        definition = self.fields[module].get(parsed.field)
        wanted = [value.casefold() for value in parsed.values]
        if (
            parsed.operator not in ("equals", "in")
            or definition is None
            or definition.data_type not in _TEXT_TYPES
            or not all(wanted)  # "" also matches a record without the field
        ):
            return None
        return self._lookup(module, [parsed.field], wanted)

    def _lookup(self, module: str, names: Iterable[str], keys: Iterable[str]) -> set[str]:
        """Ids of the records whose field (any of `names`) folds to one of `keys`; callers hold the lock."""
        found: set[str] = set()
        keys = list(keys)
        for name in names:
            index = self._indexes.get((module, name))
            if index is None:
                index = self._indexes[(module, name)] = {}
                for record_id, record in self.records[module].items():
                    key = _index_key(record.get(name))
                    if key:
                        index.setdefault(key, set()).add(record_id)
            for key in keys:
                found |= index.get(key, set())
        return found

    @staticmethod
    def ordered(ids: Iterable[str]) -> list[str]:
        """Ids in the order the records were created (ids grow with each insert)."""
        return sorted(ids, key=int)

    def _reindex(
        self, module: str, record_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> None:
        for (indexed_module, name), index in self._indexes.items():
            if indexed_module != module:
                continue
            old, new = _index_key(before.get(name)), _index_key(after.get(name))
            if old == new:
                continue
            if old and old in index:
                index[old].discard(record_id)
                if not index[old]:
                    del index[old]
            if new:
                index.setdefault(new, set()).add(record_id)

    # -- writing ---------------------------------------------------------------------------------------------

    def snapshot(self) -> Any:
        return copy.deepcopy((self.records, self._visible_at, self._serial))

    def restore(self, state: Any) -> None:
        self.records, self._visible_at, self._serial = state
        self._indexes.clear()  # rebuilt on the next lookup

    def insert(
        self, module: str, raw: Mapping[str, Any], index: int = 0, *, check_duplicates: bool = True
    ) -> dict[str, Any]:
        with self.lock:
            values = self._clean(module, raw, index, creating=True)
            missing = [
                n for n, f in self.fields[module].items() if f.mandatory and values.get(n) in (None, "")
            ]
            if missing:
                raise RecordError(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    {"api_name": missing[0], "json_path": f"$.data[{index}].{missing[0]}"},
                )
            if check_duplicates:
                self._check_duplicates(module, values, None, index)
            self._serial += 1
            record_id = str(_FIRST_ID + self._serial * 1001)
            stamp = _now()
            record = {
                "id": record_id,
                "Owner": dict(OWNER),
                "Created_Time": stamp,
                "Modified_Time": stamp,
                "Created_By": dict(OWNER),
                "Modified_By": dict(OWNER),
                **values,
            }
            self._computed(module, record)
            self.records[module][record_id] = record
            self._reindex(module, record_id, {}, record)
            self._visible_at[record_id] = time.monotonic() + self.search_lag_s
            return record

    def update(self, module: str, record_id: str, raw: Mapping[str, Any], index: int = 0) -> dict[str, Any]:
        with self.lock:
            record = self.records[module].get(record_id)
            if record is None:
                raise RecordError(
                    "INVALID_DATA",
                    "the id given seems to be invalid",
                    {"api_name": "id", "json_path": f"$.data[{index}].id"},
                )
            if record.get("$converted"):
                raise RecordError(
                    "CANNOT_PERFORM_ACTION", "can't update the converted record", {"id": record_id}
                )
            values = self._clean(module, raw, index, creating=False)
            cleared = [n for n, v in values.items() if v in (None, "") and self.fields[module][n].mandatory]
            if cleared:
                raise RecordError(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    {"api_name": cleared[0], "json_path": f"$.data[{index}].{cleared[0]}"},
                )
            self._check_duplicates(module, {**record, **values}, record_id, index)
            before = dict(record)
            record.update(values)
            record["Modified_Time"] = _now()
            self._computed(module, record)
            self._reindex(module, record_id, before, record)
            return record

    def upsert(
        self, module: str, raw: Mapping[str, Any], check_fields: list[str] | None, index: int = 0
    ) -> tuple[dict[str, Any], str, str | None]:
        """(record, "insert" | "update", the duplicate_check field that matched)."""
        with self.lock:
            if check_fields is None:
                check_fields = [
                    *SYSTEM_UNIQUE.get(module, ()),
                    *(n for n, f in self.fields[module].items() if f.unique),
                ]
            for name in check_fields:
                definition = self.fields[module].get(name)
                if definition is None or not (definition.unique or name in SYSTEM_UNIQUE.get(module, ())):
                    raise ZohoError(
                        400,
                        "INVALID_DATA",
                        "invalid data",
                        {"api_name": name, "json_path": "$.duplicate_check_fields"},
                    )
                value = raw.get(name)
                if value in (None, ""):
                    continue
                existing = self._holder(module, name, value, None)
                if existing is not None:
                    return self.update(module, existing, raw, index), "update", name
            return self.insert(module, raw, index), "insert", None

    def _holder(self, module: str, name: str, value: Any, own_id: str | None) -> str | None:
        """The oldest live record (not `own_id`, not a converted lead) holding `value` in `name`."""
        wanted = str(value).casefold()
        if not wanted:
            return None
        for record_id in self.ordered(self._lookup(module, [name], [wanted])):
            if record_id != own_id and not self.records[module][record_id].get("$converted"):
                return record_id
        return None

    def _check_duplicates(
        self, module: str, values: Mapping[str, Any], own_id: str | None, index: int
    ) -> None:
        unique = [*SYSTEM_UNIQUE.get(module, ()), *(n for n, f in self.fields[module].items() if f.unique)]
        for name in unique:
            value = values.get(name)
            if value in (None, ""):
                continue
            existing = self._holder(module, name, value, own_id)
            if existing is not None:
                raise RecordError(
                    "DUPLICATE_DATA",
                    "duplicate data",
                    {
                        "api_name": name,
                        "json_path": f"$.data[{index}].{name}",
                        "id": existing,
                        "duplicate_record": {
                            "Owner": dict(OWNER),
                            "module": {"api_name": module, "id": MODULE_IDS[module]},
                            "id": existing,
                        },
                        "more_records": False,
                    },
                )

    def _clean(self, module: str, raw: Mapping[str, Any], index: int, *, creating: bool) -> dict[str, Any]:
        """Unknown api names are ignored, as Zoho does; read-only fields too."""
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name == "$se_module":
                if value not in WHAT_MODULES:
                    raise RecordError(
                        "INVALID_DATA",
                        "invalid data",
                        {"api_name": "$se_module", "json_path": f"$.data[{index}].$se_module"},
                    )
                values[name] = value
                continue
            definition = self.fields[module].get(name)
            if definition is None or definition.read_only or name == "id":
                continue
            values[name] = self._coerce(module, definition, value, index, raw)
        return values

    def _coerce(
        self, module: str, definition: FieldDef, value: Any, index: int, raw: Mapping[str, Any]
    ) -> Any:
        name, kind = definition.api_name, definition.data_type
        path = f"$.data[{index}].{name}"

        def invalid() -> RecordError:
            return RecordError(
                "INVALID_DATA",
                "invalid data",
                {"expected_data_type": kind, "api_name": name, "json_path": path},
            )

        if value is None or value == "":
            return None
        if kind == "lookup":
            ident = value.get("id") if isinstance(value, dict) else value
            targets = definition.lookup
            if name == "What_Id":
                targets = (str(raw.get("$se_module") or ""),)
            target = next((m for m in targets if str(ident) in self.records.get(m, {})), None)
            if target is None:
                raise RecordError(
                    "INVALID_DATA",
                    "the related id given seems to be invalid",
                    {"api_name": name, "json_path": path},
                )
            linked = self.records[target][str(ident)]
            return {"name": _display(target, linked), "id": str(ident)}
        if kind == "ownerlookup":
            # A user of the org, by id ({"id": ...} or the id itself); the emulator knows one user by name.
            ident = value.get("id") if isinstance(value, dict) else value
            if not re.fullmatch(r"\d{6,20}", str(ident)):
                raise invalid()
            name = OWNER["name"] if str(ident) == OWNER["id"] else f"User {ident}"
            return {"name": name, "id": str(ident)}
        if kind in ("integer", "bigint"):
            if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value)):
                raise invalid()
            return int(value)
        if kind == "currency":
            try:
                return float(value)
            except (TypeError, ValueError):
                raise invalid() from None
        if kind == "boolean":
            if not isinstance(value, bool):
                raise invalid()
            return value
        if kind == "date":
            try:
                return date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise invalid() from None
        if kind == "datetime":
            try:
                moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise invalid() from None
            if moment.tzinfo is None:
                raise invalid()
            return moment.replace(microsecond=0).isoformat()
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise invalid()
        text = str(value)
        if len(text) > definition.length:
            raise RecordError(
                "INVALID_DATA",
                "invalid data",
                {"maximum_length": definition.length, "api_name": name, "json_path": path},
            )
        if kind == "email" and not _EMAIL.match(text):
            raise invalid()
        return text

    @staticmethod
    def _computed(module: str, record: dict[str, Any]) -> None:
        if module in ("Leads", "Contacts"):
            record["Full_Name"] = " ".join(
                str(record[k]) for k in ("First_Name", "Last_Name") if record.get(k)
            )

    def delete(self, module: str, record_id: str) -> None:
        with self.lock:
            record = self.records[module].pop(record_id, None)
            if record is None:
                raise RecordError("INVALID_DATA", "the id given seems to be invalid", {"id": record_id})
            self._reindex(module, record_id, record, {})

    # -- lead conversion -------------------------------------------------------------------------------

    def convert(self, lead_id: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /Leads/{id}/actions/convert`: a Contact and an Account (or the given existing ones), an
        optional Deal; the lead leaves the Leads module, recording what it became."""
        with self.lock:
            lead = self.records["Leads"].get(lead_id)
            if lead is None:
                raise ZohoError(400, "INVALID_DATA", "invalid data", {"resource_path_index": 2})
            if lead.get("$converted"):
                raise ZohoError(
                    400, "ID_ALREADY_CONVERTED", "id already converted", {"resource_path_index": 2}
                )
            mapped: dict[str, dict[str, Any]] = {"Contacts": {}, "Accounts": {}, "Deals": {}}
            for name, definition in self.fields["Leads"].items():
                for target, target_field in definition.convert_mapping.items():
                    if (
                        target_field
                        and lead.get(name) not in (None, "")
                        and target_field in self.fields[target]
                    ):
                        mapped[target][target_field] = lead[name]
            account = _given(options.get("Accounts"))
            if account is None and mapped["Accounts"].get("Account_Name"):
                existing = self._holder("Accounts", "Account_Name", mapped["Accounts"]["Account_Name"], None)
                account = existing or self.insert("Accounts", mapped["Accounts"])["id"]
            contact = _given(options.get("Contacts"))
            contact_fields = {**mapped["Contacts"], **({"Account_Name": {"id": account}} if account else {})}
            if contact is None:
                # Conversion creates the Contact even when another one holds the email.
                contact = str(self.insert("Contacts", contact_fields, check_duplicates=False)["id"])
            else:
                current = self.records["Contacts"][contact]
                fill = {
                    k: v
                    for k, v in contact_fields.items()
                    if options.get("overwrite") or current.get(k) in (None, "")
                }
                self.update("Contacts", contact, fill)
            deal = None
            deal_options = options.get("Deals")
            if isinstance(deal_options, dict) and deal_options.get("Deal_Name"):
                deal = self.insert(
                    "Deals",
                    {
                        **deal_options,
                        "Contact_Name": {"id": contact},
                        **({"Account_Name": {"id": account}} if account else {}),
                    },
                )["id"]
            lead["$converted"] = True
            lead["$converted_detail"] = {
                "convert_date": date.today().isoformat(),
                "contact": {"id": contact, "name": _display("Contacts", self.records["Contacts"][contact])},
                "account": {"id": account, "name": _display("Accounts", self.records["Accounts"][account])}
                if account
                else None,
                "deal": {"id": deal, "name": _display("Deals", self.records["Deals"][deal])}
                if deal
                else None,
            }
            return {
                "Contacts": lead["$converted_detail"]["contact"],
                "Accounts": lead["$converted_detail"]["account"],
                "Deals": lead["$converted_detail"]["deal"],
            }


# Field types whose stored values are plain text, so an index key equals what criteria compare.
_TEXT_TYPES = frozenset({"text", "email", "phone", "textarea", "picklist", "website"})


def _index_key(value: Any) -> str:
    """What duplicate checks and email / phone searches compare: the text, case folded ("" = absent)."""
    return str(value or "").casefold()


def _given(value: Any) -> str | None:
    return str(value["id"]) if isinstance(value, dict) and value.get("id") else None


def _converted_ok(record: Mapping[str, Any], converted: str) -> bool:
    is_converted = bool(record.get("$converted"))
    if converted == "both":
        return True
    return is_converted if converted == "true" else not is_converted


def _display(module: str, record: Mapping[str, Any]) -> str:
    key = {
        "Accounts": "Account_Name",
        "Deals": "Deal_Name",
        "Calls": "Subject",
        "Tasks": "Subject",
        "Events": "Event_Title",
    }.get(module, "Full_Name")
    return str(record.get(key) or "")
