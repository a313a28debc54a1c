"""One GoHighLevel location (sub-account) of the emulator: its contacts, opportunities, notes, custom
fields, pipelines, duplicate-contact setting and request allowance. Shapes follow crm-specs/gohighlevel
(apps/contacts.json, opportunities.json, locations.json)."""

from __future__ import annotations

import itertools
import random
import re
import string
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import phonenumbers

# Properties each request body may carry (the spec's DTOs); anything else is a 422 naming it.
UPSERT_CONTACT = frozenset(
    {
        "address1", "assignedTo", "city", "companyName", "country", "createNewIfDuplicateAllowed",
        "customFields", "dateOfBirth", "dnd", "dndSettings", "email", "firstName", "gender",
        "inboundDndSettings", "lastName", "locationId", "name", "phone", "postalCode", "source", "state",
        "tags", "timezone", "website",
    }
)  # fmt: skip
CREATE_CONTACT = UPSERT_CONTACT - {"createNewIfDuplicateAllowed"}
UPDATE_CONTACT = CREATE_CONTACT - {"companyName", "gender", "locationId"}
CREATE_OPPORTUNITY = frozenset(
    {"assignedTo", "contactId", "customFields", "locationId", "monetaryValue", "name", "pipelineId",
     "pipelineStageId", "status"}
)  # fmt: skip
CREATE_OPPORTUNITY_REQUIRED = ("pipelineId", "locationId", "name", "status", "contactId")
UPDATE_OPPORTUNITY = CREATE_OPPORTUNITY - {"contactId", "locationId"}
NOTE = frozenset({"userId", "body", "title", "color", "pinned"})
TASK = frozenset({"title", "body", "dueDate", "completed", "assignedTo"})
STATUSES = ("open", "won", "lost", "abandoned")
_ids = random.Random(20210728)
_id_lock = threading.Lock()


class GhlError(Exception):
    """An error answer: `{"statusCode", "message", ...}`."""

    def __init__(self, status: int, message: str | list[str], **extra: Any) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"statusCode": self.status, "message": self.message, **self.extra}
        if self.status == 422:
            out["error"] = "Unprocessable Entity"
        elif self.status == 401:
            out["error"] = "Unauthorized"
        return out


def new_id() -> str:
    """A 20-character id like GoHighLevel's (`seD4PfOuKoVMLkEZqohJ`)."""
    with _id_lock:
        return "".join(_ids.choices(string.ascii_letters + string.digits, k=20))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def e164(raw: Any) -> str | None:
    """GoHighLevel stores phone numbers in E.164 (US by default)."""
    if raw in (None, ""):
        return None
    try:
        parsed = phonenumbers.parse(str(raw), "US")
    except phonenumbers.NumberParseException:
        return str(raw)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def refuse_unknown(body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = [k for k in body if k not in allowed]
    if unknown:
        raise GhlError(422, [f"property {k} should not exist" for k in unknown])


class Allowance:
    """Per app and location: `burst_max` requests per `interval_s`, and `daily_max` a day."""

    def __init__(self, burst_max: int, interval_s: float, daily_max: int) -> None:
        self.burst_max, self.interval_s, self.daily_max = burst_max, interval_s, daily_max
        self._window: deque[float] = deque()
        self._day: tuple[str, int] = ("", 0)
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, dict[str, str]]:
        """(allowed, the five X-RateLimit-* headers)."""
        with self._lock:
            now = time.monotonic()
            while self._window and now - self._window[0] >= self.interval_s:
                self._window.popleft()
            today = datetime.now(UTC).date().isoformat()
            day, used = self._day if self._day[0] == today else (today, 0)
            allowed = used < self.daily_max and len(self._window) < self.burst_max
            if allowed:
                used += 1
                self._window.append(now)
            self._day = (day, used)
            return allowed, self._headers(used)

    def headers(self) -> dict[str, str]:
        with self._lock:
            return self._headers(self._day[1])

    def _headers(self, used: int) -> dict[str, str]:
        return {
            "X-RateLimit-Limit-Daily": str(self.daily_max),
            "X-RateLimit-Daily-Remaining": str(max(0, self.daily_max - used)),
            "X-RateLimit-Interval-Milliseconds": str(int(self.interval_s * 1000)),
            "X-RateLimit-Max": str(self.burst_max),
            "X-RateLimit-Remaining": str(max(0, self.burst_max - len(self._window))),
        }


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


class Location:
    """One sub-account's data. Callers hold the emulator's lock."""

    def __init__(
        self,
        location_id: str,
        *,
        allow_duplicates: bool,
        duplicate_priority: tuple[str, ...],
        allowance: Allowance,
    ) -> None:
        self.id = location_id
        self.allow_duplicates = allow_duplicates
        self.duplicate_priority = duplicate_priority
        self.allowance = allowance
        self.contacts: dict[str, dict[str, Any]] = {}
        self.opportunities: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.appointments: dict[str, dict[str, Any]] = {}  # calendars.py
        self.custom_fields: dict[str, dict[str, Any]] = {}
        pipeline = new_id()
        self.pipelines: list[dict[str, Any]] = [
            {
                "id": pipeline,
                "name": "Sales Pipeline",
                "locationId": location_id,
                "showInFunnel": True,
                "showInPieChart": True,
                "stages": [
                    {"id": f"{pipeline}-{i}", "name": name, "position": i}
                    for i, name in enumerate(("New Lead", "Contacted", "Proposal", "Won"))
                ],
            }
        ]
        self._order = itertools.count()

    # -- custom fields ------------------------------------------------------------------------------

    def add_custom_field(self, body: Mapping[str, Any]) -> dict[str, Any]:
        refuse_unknown(body, frozenset({"name", "dataType", "placeholder", "acceptedFormat", "isMultipleFile",
                                        "maxNumberOfFiles", "textBoxListOptions", "position", "model"}))  # fmt: skip
        name, data_type = body.get("name"), body.get("dataType")
        problems = [f"{k} should not be empty" for k, v in (("name", name), ("dataType", data_type)) if not v]
        model = body.get("model", "contact")
        if model not in ("contact", "opportunity"):
            problems.append("model must be one of the following values: contact, opportunity")
        if problems:
            raise GhlError(422, problems)
        key = f"{model}.{_slug(str(name))}"
        if any(f["fieldKey"] == key for f in self.custom_fields.values()):
            raise GhlError(400, f"A custom field with the key {key} already exists")
        field = {
            "id": new_id(), "name": str(name), "fieldKey": key, "placeholder": body.get("placeholder", ""),
            "dataType": str(data_type), "position": body.get("position", 0), "locationId": self.id,
            "model": model,
        }  # fmt: skip
        self.custom_fields[field["id"]] = field
        return dict(field)

    def field_for(self, model: str, item: Mapping[str, Any]) -> dict[str, Any]:
        ref = item.get("id") or item.get("key")
        for field in self.custom_fields.values():
            if field["model"] == model and ref in (
                field["id"],
                field["fieldKey"],
                field["fieldKey"].partition(".")[2],
            ):
                return field
        raise GhlError(400, f"Custom field {ref} does not exist in this location")

    def _custom_values(self, model: str, row: dict[str, Any], items: Any) -> None:
        if items is None:
            return
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise GhlError(422, ["customFields must be an array"])
        values = {c["id"]: c["value"] for c in row.get("customFields", [])}
        for item in items:
            field = self.field_for(model, item)
            value = item.get("field_value", item.get("value"))
            if value in (None, ""):
                values.pop(field["id"], None)
            else:
                values[field["id"]] = value
        row["customFields"] = [{"id": k, "value": v} for k, v in values.items()]

    def custom_value(self, row: Mapping[str, Any], field_id: str) -> Any:
        return next((c["value"] for c in row.get("customFields", []) if c["id"] == field_id), None)

    # -- contacts ---------------------------------------------------------------------------------------

    def _contact_values(self, row: dict[str, Any], body: Mapping[str, Any]) -> None:
        for key, value in body.items():
            if key in ("customFields", "locationId", "createNewIfDuplicateAllowed"):
                continue
            row[key] = e164(value) if key == "phone" else value
        first, last = row.get("firstName") or "", row.get("lastName") or ""
        if "name" not in body and (first or last):
            row["name"] = f"{first} {last}".strip()
        for key in ("email", "firstName", "lastName"):
            if row.get(key):
                row[f"{key}LowerCase"] = str(row[key]).lower()
        if row.get("name"):
            row["fullNameLowerCase"] = str(row["name"]).lower()
        self._custom_values("contact", row, body.get("customFields"))
        row["dateUpdated"] = now_iso()

    def matches(self, key: str, value: Any) -> list[dict[str, Any]]:
        if value in (None, ""):
            return []
        if key == "email":
            wanted = str(value).casefold()
            hits = [c for c in self.contacts.values() if str(c.get("email") or "").casefold() == wanted]
        else:
            number = e164(value)
            hits = [c for c in self.contacts.values() if c.get("phone") and c.get("phone") == number]
        return sorted(hits, key=lambda c: c["_order"])

    def duplicate_of(self, body: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The contact the location's duplicate rule matches (the first key in priority order)."""
        keys = ("email", "phone") if not self.allow_duplicates else self.duplicate_priority
        for key in keys:
            hits = self.matches(key, body.get(key))
            if hits:
                return hits[0], key
        return None, None

    def create_contact(self, body: Mapping[str, Any], *, check_duplicates: bool = True) -> dict[str, Any]:
        if check_duplicates and not self.allow_duplicates:
            existing, key = self.duplicate_of(body)
            if existing is not None:
                raise GhlError(
                    400,
                    "This location does not allow duplicated contacts.",
                    meta={
                        "contactName": existing.get("name", ""),
                        "contactId": existing["id"],
                        "matchingField": key,
                    },
                )
        row: dict[str, Any] = {
            "id": new_id(), "locationId": self.id, "dateAdded": now_iso(), "tags": [], "customFields": [],
            "source": "public api", "type": "lead", "_order": next(self._order),
        }  # fmt: skip
        self._contact_values(row, body)
        self.contacts[row["id"]] = row
        return row

    def upsert_contact(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """(contact, new). An email matching A and a phone matching B update A; B's phone is dropped."""
        existing, key = (None, None)
        if not (self.allow_duplicates and body.get("createNewIfDuplicateAllowed")):
            existing, key = self.duplicate_of(body)
        if existing is None:
            return self.create_contact(body, check_duplicates=False), True
        values = dict(body)
        if key == "email" and values.get("phone"):
            holders = self.matches("phone", values["phone"])
            if holders and all(h["id"] != existing["id"] for h in holders):
                values.pop("phone")  # held by another contact: silently ignored (issue #37)
        self._contact_values(existing, values)
        return existing, False

    # -- opportunities --------------------------------------------------------------------------------

    def stage_ok(self, pipeline_id: Any, stage_id: Any) -> None:
        pipeline = next((p for p in self.pipelines if p["id"] == pipeline_id), None)
        if pipeline is None:
            raise GhlError(400, "Pipeline not found")
        if stage_id is not None and all(s["id"] != stage_id for s in pipeline["stages"]):
            raise GhlError(400, "Pipeline stage not found")

    def create_opportunity(self, body: Mapping[str, Any]) -> dict[str, Any]:
        refuse_unknown(body, CREATE_OPPORTUNITY)
        missing = [
            f"{k} should not be empty" for k in CREATE_OPPORTUNITY_REQUIRED if body.get(k) in (None, "")
        ]
        if missing:
            raise GhlError(422, missing)
        if body["status"] not in STATUSES:
            raise GhlError(422, ["status must be one of the following values: open, won, lost, abandoned"])
        if body["contactId"] not in self.contacts:
            raise GhlError(400, "Contact not found")
        self.stage_ok(body["pipelineId"], body.get("pipelineStageId"))
        stamp = now_iso()
        row: dict[str, Any] = {
            "id": new_id(), "locationId": self.id, "createdAt": stamp, "customFields": [], "source": "",
            "lastStatusChangeAt": stamp, "lastStageChangeAt": stamp, "_order": next(self._order),
        }  # fmt: skip
        self._opportunity_values(row, body)
        self.opportunities[row["id"]] = row
        return row

    def update_opportunity(self, row: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        refuse_unknown(body, UPDATE_OPPORTUNITY)
        if "status" in body and body["status"] not in STATUSES:
            raise GhlError(422, ["status must be one of the following values: open, won, lost, abandoned"])
        if "pipelineId" in body or "pipelineStageId" in body:
            self.stage_ok(body.get("pipelineId", row["pipelineId"]), body.get("pipelineStageId"))
        self._opportunity_values(row, body)
        return row

    def _opportunity_values(self, row: dict[str, Any], body: Mapping[str, Any]) -> None:
        for key, value in body.items():
            if key not in ("customFields", "locationId"):
                row[key] = value
        self._custom_values("opportunity", row, body.get("customFields"))
        row["updatedAt"] = now_iso()


def output(row: Mapping[str, Any]) -> dict[str, Any]:
    """A record as the API answers it (internal keys dropped)."""
    return {k: v for k, v in row.items() if not k.startswith("_")}
