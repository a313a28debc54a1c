"""Property definitions (built-in and custom) and the normalisation of written values."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Final

from callsync_sandbox.hubspot.errors import InvalidValue, validation_error
from callsync_sandbox.hubspot.objects import TIMESTAMP_PROPERTIES, TYPE_ALIASES, iso, now_iso, parse_datetime

MAX_UNIQUE_PROPERTIES: Final = 10
_GROUPS: Final = {
    "contacts": "contactinformation",
    "companies": "companyinformation",
    "deals": "dealinformation",
    "calls": "call",
    "notes": "note",
    "tasks": "task",
    "meetings": "meeting",
    "tickets": "ticketinformation",
}
_BUILTIN_PROPERTIES: Final[dict[str, dict[str, str]]] = {
    "contacts": {
        **dict.fromkeys(
            ("email", "firstname", "lastname", "phone", "mobilephone", "company", "jobtitle", "website"),
            "string",
        ),
        **dict.fromkeys(("address", "city", "state", "zip", "country", "message"), "string"),
        **dict.fromkeys(("lifecyclestage", "hs_lead_status", "hubspot_owner_id"), "enumeration"),
        "notes_last_contacted": "datetime",
    },
    "companies": {
        **dict.fromkeys(("name", "domain", "phone", "city"), "string"),
        "hubspot_owner_id": "enumeration",
    },
    "deals": {
        "dealname": "string",
        "amount": "number",
        "closedate": "datetime",
        **dict.fromkeys(("pipeline", "dealstage", "hubspot_owner_id"), "enumeration"),
    },
    "calls": {
        "hs_timestamp": "datetime",
        "hs_call_duration": "number",
        **dict.fromkeys(
            ("hs_call_body", "hs_call_title", "hs_call_from_number", "hs_call_to_number"), "string"
        ),
        "hs_call_recording_url": "string",
        **dict.fromkeys(
            ("hs_call_direction", "hs_call_status", "hs_call_disposition", "hubspot_owner_id"), "enumeration"
        ),
    },
    "notes": {"hs_timestamp": "datetime", "hs_note_body": "string", "hubspot_owner_id": "enumeration"},
    "tasks": {
        "hs_timestamp": "datetime",
        **dict.fromkeys(("hs_task_subject", "hs_task_body"), "string"),
        **dict.fromkeys(
            ("hs_task_status", "hs_task_priority", "hs_task_type", "hubspot_owner_id"), "enumeration"
        ),
    },
    # Meetings: hs_timestamp is when it starts (as for every engagement), start/end times beside it.
    "meetings": {
        **dict.fromkeys(("hs_timestamp", "hs_meeting_start_time", "hs_meeting_end_time"), "datetime"),
        **dict.fromkeys(("hs_meeting_title", "hs_meeting_body", "hs_meeting_location"), "string"),
        **dict.fromkeys(("hs_meeting_outcome", "hubspot_owner_id"), "enumeration"),
    },
    "tickets": {
        **dict.fromkeys(("subject", "content"), "string"),
        **dict.fromkeys(
            (
                "hs_pipeline",
                "hs_pipeline_stage",
                "hs_ticket_priority",
                "hs_ticket_category",
                "hubspot_owner_id",
            ),
            "enumeration",
        ),
    },
}
DEFAULT_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    "contacts": ("email", "firstname", "lastname"),
    "companies": ("domain", "name"),
    "deals": ("amount", "closedate", "dealname", "dealstage", "pipeline"),
    "calls": (),
    "notes": (),
    "tasks": (),
    "meetings": (),
    "tickets": ("content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority", "subject"),
}
REQUIRED_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    "calls": ("hs_timestamp",),
    "notes": ("hs_timestamp",),
    "tasks": ("hs_timestamp",),
    "meetings": ("hs_timestamp",),
    "tickets": ("subject", "hs_pipeline_stage"),
}
# Email is unique on contacts by HubSpot's own rule, although its definition says hasUniqueValue=false.
NATIVE_UNIQUE: Final[dict[str, tuple[str, ...]]] = {"contacts": ("email",)}
_FIELD_TYPES: Final = {
    "string": "text",
    "number": "number",
    "datetime": "date",
    "date": "date",
    "enumeration": "select",
    "bool": "booleancheckbox",
    "phone_number": "phonenumber",
}
_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class PropertyDef:
    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    has_unique_value: bool = False
    hubspot_defined: bool = True
    read_only: bool = False
    description: str = ""
    options: tuple[Any, ...] = ()
    created_at: str = field(default_factory=now_iso)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": list(self.options),
            "displayOrder": -1,
            "calculated": self.read_only,
            "externalOptions": False,
            "hasUniqueValue": self.has_unique_value,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "formField": not self.read_only,
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
            "archived": False,
        }


# A new portal's one deal pipeline and its stages: the options of `pipeline` and `dealstage`.
DEAL_STAGES: Final = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
)
_BUILTIN_OPTIONS: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("deals", "pipeline"): ("default",),
    ("deals", "dealstage"): DEAL_STAGES,
}


def option(value: str, order: int) -> dict[str, Any]:
    return {"label": _label(value), "value": value, "displayOrder": order, "hidden": False}


def builtin_schema(object_type: str) -> dict[str, PropertyDef]:
    group = _GROUPS[object_type]
    schema = {
        name: PropertyDef(
            name,
            _label(name),
            kind,
            _FIELD_TYPES[kind],
            group,
            options=tuple(option(v, i) for i, v in enumerate(_BUILTIN_OPTIONS.get((object_type, name), ()))),
        )
        for name, kind in _BUILTIN_PROPERTIES[object_type].items()
    }
    created, modified = TIMESTAMP_PROPERTIES[object_type]
    for name, kind in (("hs_object_id", "number"), (created, "datetime"), (modified, "datetime")):
        schema[name] = PropertyDef(name, _label(name), kind, _FIELD_TYPES[kind], group, read_only=True)
    return schema


def _label(name: str) -> str:
    return name.removeprefix("hs_").replace("_", " ").capitalize()


def as_text(raw: object) -> str | None:
    """HubSpot stores every value as a string; None or "" clears the property."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, str):
        return raw
    raise InvalidValue("INVALID_PROPERTY_VALUE", f"{json.dumps(raw)} is not a string, number or boolean")


def normalise(object_type: str, definition: PropertyDef, raw: object) -> str | None:
    text = as_text(raw)
    if text is None:
        return None
    if definition.type == "number":
        return _checked_number(text)
    if definition.type in ("datetime", "date"):
        return _checked_datetime(text, date_only=definition.type == "date")
    if (object_type, definition.name) == ("contacts", "email"):
        return _checked_email(text)
    if definition.type == "enumeration" and definition.options:
        return _checked_option(definition, text)
    return text


def _checked_option(definition: PropertyDef, text: str) -> str:
    # An enumeration takes only its options' internal values (a checkbox: several, separated by ";").
    allowed = [str(o.get("value")) for o in definition.options if isinstance(o, dict)]
    values = text.split(";") if definition.field_type == "checkbox" else [text]
    for value in values:
        if value not in allowed:
            raise InvalidValue(
                "INVALID_OPTION", f"{value} was not one of the allowed options: [{', '.join(allowed)}]"
            )
    return text


def _checked_number(text: str) -> str:
    try:
        valid = math.isfinite(float(text))
    except ValueError:
        valid = False
    if not valid:
        raise InvalidValue("INVALID_INTEGER", f"{text} was not a valid number.")
    return text


def _checked_datetime(text: str, *, date_only: bool) -> str:
    # Stored in HubSpot's read-back form, whichever accepted form (ISO 8601 or epoch ms) was written.
    moment = parse_datetime(text)
    if moment is None:
        raise InvalidValue("INVALID_DATE", f"{text} is not a valid date or epoch milliseconds value.")
    return moment.astimezone(UTC).date().isoformat() if date_only else iso(moment)


def _checked_email(text: str) -> str:
    # HubSpot keeps emails lower-cased, which is what makes email lookups case-insensitive.
    if not _EMAIL.fullmatch(text.strip()):
        raise InvalidValue("INVALID_EMAIL", f"Email address {text} is invalid")
    return text.strip().lower()


def lookup_key(object_type: str, name: str, value: str) -> str:
    return value.lower() if (object_type, name) == ("contacts", "email") else value


def custom_property(body: Mapping[str, Any]) -> PropertyDef:
    fields = {key: body.get(key) for key in ("name", "label", "type", "fieldType", "groupName")}
    absent = [key for key, value in fields.items() if not isinstance(value, str) or not value]
    if absent:
        raise validation_error(f"Missing required fields for a property: {', '.join(absent)}")
    name, label, kind, field_type, group = (str(value) for value in fields.values())
    if not _PROPERTY_NAME.fullmatch(name):
        raise validation_error(f"Property name {name!r} must be lower case letters, digits and underscores.")
    if kind not in _FIELD_TYPES:
        raise validation_error(f"Unknown property type {kind!r}; expected one of {', '.join(_FIELD_TYPES)}.")
    options = body.get("options") or []
    if not isinstance(options, list):
        raise validation_error("`options` must be a list")
    return PropertyDef(
        name,
        label,
        kind,
        field_type,
        group,
        has_unique_value=body.get("hasUniqueValue") is True,
        hubspot_defined=False,
        description=str(body.get("description") or ""),
        options=tuple(options),
    )


def resolve_type(raw: str) -> str:
    """The canonical object type for a path segment (name, singular or type id), or a HubSpot 400."""
    object_type = TYPE_ALIASES.get(raw)
    if object_type is None:
        raise validation_error(f"Unable to infer object type from: {raw}")
    return object_type
