"""A Pipedrive company's data: field lists (standard fields and 40-character custom keys) and records.

Records are kept in API v2 shape (persons with `emails`/`phones` arrays of `{value, primary, label}`,
`custom_fields` keyed by hash, deals with `person_id`/`org_id`). Search is answered from the records with
Pipedrive's rules: `exact_match` is a whole-value, case-insensitive comparison; without it, a term of at
least two characters matches inside a value. Pipedrive itself does not refuse a deal without a person or
an organization (only a title is required): keeping deals linked is the client's job.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

OBJECTS = ("persons", "organizations", "deals", "activities")
FIELD_LISTS = {
    "personFields": "persons",
    "organizationFields": "organizations",
    "dealFields": "deals",
    "activityFields": "activities",
}
# Custom field types the search endpoints look into.
SEARCHABLE_TYPES = frozenset({"address", "varchar", "text", "varchar_auto", "double", "monetary", "phone"})
FIELD_TYPES = frozenset(
    {
        "address", "date", "daterange", "double", "enum", "monetary", "org", "people", "phone", "set",
        "text", "time", "timerange", "user", "varchar", "varchar_auto", "visible_to",
    }
)  # fmt: skip
# Which `fields` each search endpoint accepts (v2 spec enums).
SEARCH_FIELDS = {
    "persons": frozenset({"custom_fields", "email", "notes", "phone", "name"}),
    "organizations": frozenset({"address", "custom_fields", "notes", "name"}),
    "deals": frozenset({"custom_fields", "notes", "title"}),
}
# Standard fields: object -> (key, label, type). The keys are what v2 bodies use (persons: `emails`,
# `phones` for the email and phone fields).
STANDARD: dict[str, tuple[tuple[str, str, str], ...]] = {
    "persons": (
        ("name", "Name", "varchar"), ("first_name", "First name", "varchar"),
        ("last_name", "Last name", "varchar"), ("email", "Email", "varchar"), ("phone", "Phone", "phone"),
        ("org_id", "Organization", "org"), ("owner_id", "Owner", "user"),
        ("job_title", "Job title", "varchar"), ("visible_to", "Visible to", "visible_to"),
    ),
    "organizations": (
        ("name", "Name", "varchar"), ("address", "Address", "address"), ("owner_id", "Owner", "user"),
        ("visible_to", "Visible to", "visible_to"),
    ),
    "deals": (
        ("title", "Title", "varchar"), ("value", "Value", "monetary"), ("currency", "Currency", "varchar"),
        ("person_id", "Contact person", "people"), ("org_id", "Organization", "org"),
        ("pipeline_id", "Pipeline", "double"), ("stage_id", "Stage", "double"),
        ("status", "Status", "enum"), ("expected_close_date", "Expected close date", "date"),
        ("probability", "Deal success probability", "double"), ("owner_id", "Owner", "user"),
        ("lost_reason", "Lost reason", "varchar"), ("visible_to", "Visible to", "visible_to"),
    ),
    "activities": (
        ("subject", "Subject", "varchar"), ("type", "Type", "varchar"), ("done", "Done", "enum"),
        ("due_date", "Due date", "date"), ("due_time", "Due time", "time"),
        ("duration", "Duration", "time"), ("note", "Note", "text"), ("person_id", "Person", "people"),
        ("org_id", "Organization", "org"), ("deal_id", "Deal", "double"), ("owner_id", "Owner", "user"),
    ),
}  # fmt: skip
# Body keys a v2 create/update accepts per object, besides `custom_fields` (spec request schemas). The
# spec's person schema omits `custom_fields`, which the person answers carry and organizations and deals
# take: accepted here [U]. `job_title` is only in the person answers (with contact sync): not writable.
WRITABLE = {
    "persons": frozenset(
        {"name", "owner_id", "org_id", "emails", "phones", "visible_to", "label_ids", "marketing_status",
         "add_time", "update_time"}
    ),
    "organizations": frozenset({"name", "owner_id", "address", "visible_to", "label_ids", "add_time", "update_time"}),
    "deals": frozenset(
        {"title", "owner_id", "person_id", "org_id", "pipeline_id", "stage_id", "value", "currency", "status",
         "expected_close_date", "probability", "lost_reason", "visible_to", "label_ids", "add_time",
         "update_time", "close_time", "won_time", "lost_time", "is_deleted", "is_archived", "archive_time"}
    ),
    "activities": frozenset(
        {"subject", "type", "owner_id", "deal_id", "lead_id", "person_id", "org_id", "project_id",
         "due_date", "due_time", "duration", "busy", "done", "location", "participants", "attendees",
         "public_description", "priority", "note"}
    ),
}  # fmt: skip
_REQUIRED = {"persons": "name", "organizations": "name", "deals": "title", "activities": "subject"}


class PipedriveError(Exception):
    """An error answer: `{"success": false, "error": ..., "error_info": ..., "data": null, ...}`."""

    def __init__(self, status: int, error: str, info: str = "") -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.info = info

    def body(self) -> dict[str, Any]:
        return {
            "success": False,
            "error": self.error,
            "error_info": self.info or "Please check developers.pipedrive.com",
            "data": None,
            "additional_data": None,
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def field_key(name: str, salt: int) -> str:
    """A custom field's 40-character hash key, like Pipedrive's."""
    return hashlib.sha1(f"{name}|{salt}".encode()).hexdigest()


class Company:
    """State behind one lock (tests inspect it from another thread than the server's)."""

    def __init__(
        self,
        *,
        custom_fields: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        search_lag_s: float = 0.0,
    ) -> None:
        self.lock = threading.RLock()
        self.search_lag_s = search_lag_s
        self.records: dict[str, dict[int, dict[str, Any]]] = {o: {} for o in OBJECTS}
        self.notes: list[dict[str, Any]] = []
        self._searchable_at: dict[tuple[str, int], float] = {}
        self._next_id = dict.fromkeys(OBJECTS, 1)
        self._next_field_id = 1000
        self.fields: dict[str, list[dict[str, Any]]] = {o: [] for o in OBJECTS}
        for object_type, standard in STANDARD.items():
            for key, label, field_type in standard:
                self._add_field(object_type, key, label, field_type, custom=False)
        for object_type, specs in (custom_fields or {}).items():
            for spec in specs:
                self.add_field(object_type, str(spec["name"]), str(spec.get("field_type", "varchar")))

    # -- fields -------------------------------------------------------------------------------------------

    def _add_field(
        self, object_type: str, key: str, name: str, field_type: str, *, custom: bool
    ) -> dict[str, Any]:
        self._next_field_id += 1
        field = {
            "id": self._next_field_id,
            "key": key,
            "name": name,
            "order_nr": len(self.fields[object_type]),
            "field_type": field_type,
            "add_time": _now(),
            "update_time": _now(),
            "active_flag": True,
            "edit_flag": custom,
            "bulk_edit_allowed": True,
            "mandatory_flag": key == _REQUIRED.get(object_type),
        }
        self.fields[object_type].append(field)
        return field

    def add_field(self, object_type: str, name: str, field_type: str) -> dict[str, Any]:
        if not name.strip():
            raise PipedriveError(400, "Field name must be given")
        if field_type not in FIELD_TYPES:
            raise PipedriveError(400, f"Invalid field type: {field_type}")
        return self._add_field(
            object_type, field_key(name, self._next_field_id), name, field_type, custom=True
        )

    def seed_field(
        self, object_type: str, key: str, name: str, field_type: str, options: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A customer's custom field with its own key, type and options (an exported schema)."""
        with self.lock:
            field = self._add_field(object_type, key, name, field_type, custom=True)
            if options:
                field["options"] = options
            return field

    def custom_keys(self, object_type: str) -> dict[str, dict[str, Any]]:
        return {f["key"]: f for f in self.fields[object_type] if f["edit_flag"]}

    # -- records ------------------------------------------------------------------------------------------

    def _validate(self, object_type: str, body: Any, *, create: bool) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise PipedriveError(400, "Validation failed: body must be an object")
        # Activities take no custom_fields in v2 (the spec's request schema); the others do.
        unknown = [
            k
            for k in body
            if k not in WRITABLE[object_type] and not (k == "custom_fields" and object_type != "activities")
        ]
        if unknown:
            raise PipedriveError(400, f"Validation failed: {unknown[0]}: unknown property")
        required = _REQUIRED[object_type]
        if create and not str(body.get(required) or "").strip():
            raise PipedriveError(400, f"Validation failed: {required}: Parameter '{required}' is required")
        custom = body.get("custom_fields") or {}
        if not isinstance(custom, dict):
            raise PipedriveError(400, "Validation failed: custom_fields: must be an object")
        keys = self.custom_keys(object_type)
        for key in custom:
            if key not in keys:
                raise PipedriveError(400, f"Validation failed: custom_fields: unknown field key {key}")
        for name in ("emails", "phones"):
            values = body.get(name)
            if values is not None and (
                not isinstance(values, list) or not all(isinstance(v, dict) and "value" in v for v in values)
            ):
                raise PipedriveError(
                    400, f"Validation failed: {name}: must be an array of {{value, primary, label}}"
                )
        for link, target in (("person_id", "persons"), ("org_id", "organizations"), ("deal_id", "deals")):
            value = body.get(link)
            if (
                value is not None
                and link in WRITABLE[object_type]
                and _int(value) not in self.records[target]
            ):
                raise PipedriveError(400, f"Validation failed: {link}: {target[:-1]} {value} not found")
        return body

    def create(self, object_type: str, body: Any) -> dict[str, Any]:
        body = self._validate(object_type, body, create=True)
        record_id = self._next_id[object_type]
        self._next_id[object_type] += 1
        record: dict[str, Any] = {
            "id": record_id,
            "add_time": _now(),
            "is_deleted": False,
            "custom_fields": {},
        }
        if object_type in ("persons", "organizations", "deals"):
            record.update(owner_id=1, visible_to=3)
        if object_type == "persons":
            record.update(emails=[], phones=[], org_id=None)
        if object_type == "deals":
            record.update(
                person_id=None, org_id=None, status="open", value=0, currency="USD", stage_id=1, pipeline_id=1
            )
        if object_type == "activities":
            record.update(done=False, type="call", person_id=None, org_id=None, deal_id=None)
        self._apply(object_type, record, body)
        self.records[object_type][record_id] = record
        self._searchable_at[(object_type, record_id)] = time.monotonic() + self.search_lag_s
        return record

    def update(self, object_type: str, record_id: int, body: Any) -> dict[str, Any]:
        record = self.get(object_type, record_id)
        body = self._validate(object_type, body, create=False)
        self._apply(object_type, record, body)
        return record

    def _apply(self, object_type: str, record: dict[str, Any], body: Mapping[str, Any]) -> None:
        for key, value in body.items():
            if key == "custom_fields":
                record["custom_fields"] = {**record["custom_fields"], **value}
            elif key in ("emails", "phones"):
                record[key] = [
                    {
                        "value": str(v["value"]),
                        "primary": bool(v.get("primary")),
                        "label": str(v.get("label") or "work"),
                    }
                    for v in value
                ]
                if record[key] and not any(v["primary"] for v in record[key]):
                    record[key][0]["primary"] = True
            elif key in ("person_id", "org_id", "deal_id"):
                record[key] = int(value) if value is not None else None
            else:
                record[key] = value
        if object_type == "persons" and "name" in body:
            first, _, last = str(body["name"]).strip().partition(" ")
            record["first_name"], record["last_name"] = first, last.strip() or None
        record["update_time"] = _now()

    def get(self, object_type: str, record_id: int) -> dict[str, Any]:
        record = self.records[object_type].get(record_id)
        if record is None or record.get("is_deleted"):
            raise PipedriveError(404, "Entity was not found", "Object was not found.")
        return record

    def delete(self, object_type: str, record_id: int) -> None:
        self.get(object_type, record_id)["is_deleted"] = True

    def live(self, object_type: str) -> list[dict[str, Any]]:
        return [r for r in self.records[object_type].values() if not r.get("is_deleted")]

    # -- search -------------------------------------------------------------------------------------------

    def search(
        self, object_type: str, term: str, fields: frozenset[str], exact: bool
    ) -> list[dict[str, Any]]:
        needle = term.strip().casefold()
        now = time.monotonic()
        searchable = {
            k for k, f in self.custom_keys(object_type).items() if f["field_type"] in SEARCHABLE_TYPES
        }
        found = []
        for record in self.live(object_type):
            if self._searchable_at.get((object_type, record["id"]), 0.0) > now:
                continue  # not indexed yet
            values: list[Any] = []
            if "name" in fields:
                values.append(record.get("name"))
            if "title" in fields:
                values.append(record.get("title"))
            if "email" in fields:
                values += [v["value"] for v in record.get("emails") or []]
            if "phone" in fields:
                values += [v["value"] for v in record.get("phones") or []]
            if "address" in fields:
                values.append(record.get("address"))
            if "custom_fields" in fields:
                values += [v for k, v in record["custom_fields"].items() if k in searchable]
            texts = [str(v).casefold() for v in values if v not in (None, "")]
            if any(t == needle if exact else needle in t for t in texts):
                found.append(record)
        return found

    def search_item(self, object_type: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """A record as the v2 search endpoints show it."""
        custom = [str(v) for v in record["custom_fields"].values() if v is not None]
        item: dict[str, Any] = {"id": record["id"], "type": object_type[:-1], "visible_to": record.get("visible_to"),
                                "owner": {"id": record.get("owner_id")}, "custom_fields": custom, "notes": []}  # fmt: skip
        if object_type == "persons":
            org = self.records["organizations"].get(record.get("org_id") or 0)
            item.update(
                name=record.get("name"),
                phones=[v["value"] for v in record.get("phones") or []],
                emails=[v["value"] for v in record.get("emails") or []],
                organization={"id": org["id"], "name": org.get("name"), "address": org.get("address")}
                if org
                else None,
            )
        elif object_type == "organizations":
            item.update(name=record.get("name"), address=record.get("address"))
        elif object_type == "deals":
            person = self.records["persons"].get(record.get("person_id") or 0)
            org = self.records["organizations"].get(record.get("org_id") or 0)
            item.update(
                title=record.get("title"),
                value=record.get("value"),
                currency=record.get("currency"),
                status=record.get("status"),
                stage={"id": record.get("stage_id"), "name": "Qualified"},
                person={"id": person["id"], "name": person.get("name")} if person else None,
                organization={"id": org["id"], "name": org.get("name"), "address": org.get("address")}
                if org
                else None,
            )
        return item


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
