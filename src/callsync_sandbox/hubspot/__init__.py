"""HubSpot CRM API emulator: v3 objects, properties, search and batch; v4 default associations.

It reproduces what a HubSpot client has to cope with (docs: crm-apis.md §1 and §6): the 409 email
conflict whose only record id is inside the message text, 207 multi-status batches, per-property
validation errors, the ten-second rolling window and daily budget with their `X-HubSpot-RateLimit-*`
headers, the separate per-second search limit (whose responses carry no such headers), and the lag
before writes become searchable. Faults from a `FaultPlan` are applied after authentication and
before the rate limiter, as a flaky network or gateway in front of HubSpot would.

State lives in `HubSpotSandbox`; `HubSpotSandbox.app()` serves it over ASGI. All state changes happen
under one lock, because tests inspect the sandbox from another thread than the server's.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from typing import Annotated, Any, Final, TypeGuard

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callsync_sandbox.faults import FaultAction, FaultInjector, FaultPlan, FaultRule, drop_response

OBJECT_TYPES: Final = ("contacts", "companies", "deals", "calls", "notes", "tasks")

_FIRST_ID: Final = 1001
_PORTAL_ID: Final = 12345678
_SEARCH_DEFAULT_LIMIT: Final = 10
_SEARCH_MAX_LIMIT: Final = 200
_SEARCH_MAX_RESULTS: Final = 10_000
_MAX_UNIQUE_PROPERTIES: Final = 10
_CORRELATION_KEY: Final = "callsync.hubspot.correlation_id"

_SINGULAR: Final = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "calls": "call",
    "notes": "note",
    "tasks": "task",
}
# HubSpot also accepts the singular name and the numeric object type id in paths.
_OBJECT_TYPE_IDS: Final = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "calls": "0-48",
    "notes": "0-46",
    "tasks": "0-27",
}
_TYPE_ALIASES: Final = {
    alias: name for name in OBJECT_TYPES for alias in (name, _SINGULAR[name], _OBJECT_TYPE_IDS[name])
}
_GROUPS: Final = {
    "contacts": "contactinformation",
    "companies": "companyinformation",
    "deals": "dealinformation",
    "calls": "call",
    "notes": "note",
    "tasks": "task",
}
# HubSpot is inconsistent here, and clients must be too: contacts use `lastmodifieddate`, companies and
# deals `hs_lastmodifieddate`, and engagements prefix both timestamps with `hs_`.
_TIMESTAMP_PROPERTIES: Final = {
    "contacts": ("createdate", "lastmodifieddate"),
    "companies": ("createdate", "hs_lastmodifieddate"),
    "deals": ("createdate", "hs_lastmodifieddate"),
    "calls": ("hs_createdate", "hs_lastmodifieddate"),
    "notes": ("hs_createdate", "hs_lastmodifieddate"),
    "tasks": ("hs_createdate", "hs_lastmodifieddate"),
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
}
_DEFAULT_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    "contacts": ("email", "firstname", "lastname"),
    "companies": ("domain", "name"),
    "deals": ("amount", "closedate", "dealname", "dealstage", "pipeline"),
    "calls": (),
    "notes": (),
    "tasks": (),
}
_REQUIRED_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    "calls": ("hs_timestamp",),
    "notes": ("hs_timestamp",),
    "tasks": ("hs_timestamp",),
}
# Email is unique on contacts by HubSpot's own rule, although its definition says hasUniqueValue=false.
_NATIVE_UNIQUE: Final[dict[str, tuple[str, ...]]] = {"contacts": ("email",)}
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
class _AssociationType:
    from_type: str
    to_type: str
    reverse_id: int
    label: str | None


def _association_types() -> dict[int, _AssociationType]:
    """HUBSPOT_DEFINED association type ids in both directions; the unlabelled one is a pair's default."""
    pairs = (
        ("contacts", "companies", 279, 280, None),
        ("contacts", "companies", 1, 2, "Primary"),
        ("deals", "contacts", 3, 4, None),
        ("deals", "companies", 341, 342, None),
        ("deals", "companies", 5, 6, "Primary"),
        ("calls", "contacts", 194, 193, None),
        ("calls", "companies", 182, 181, None),
        ("calls", "deals", 206, 205, None),
        ("notes", "contacts", 202, 201, None),
        ("notes", "companies", 190, 189, None),
        ("notes", "deals", 214, 213, None),
        ("tasks", "contacts", 204, 203, None),
        ("tasks", "companies", 192, 191, None),
        ("tasks", "deals", 216, 215, None),
    )
    types: dict[int, _AssociationType] = {}
    for from_type, to_type, forward, reverse, label in pairs:
        types[forward] = _AssociationType(from_type, to_type, reverse, label)
        types[reverse] = _AssociationType(to_type, from_type, forward, label)
    return types


_ASSOCIATION_TYPES: Final = _association_types()
_DEFAULT_ASSOCIATION: Final = {
    (spec.from_type, spec.to_type): type_id
    for type_id, spec in _ASSOCIATION_TYPES.items()
    if spec.label is None
}


def _now_iso() -> str:
    return _iso(datetime.now(UTC))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_datetime(text: str) -> datetime | None:
    """HubSpot takes datetimes as epoch milliseconds or ISO 8601; naive ISO values are UTC."""
    try:
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------


class HubSpotError(Exception):
    """An error answered in HubSpot's shape; the correlation id is added when it is rendered."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context

    def body(self, correlation_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "error", "message": self.message, "correlationId": correlation_id}
        if self.errors:
            body["errors"] = self.errors
        if self.context:
            body["context"] = self.context
        body["category"] = self.category
        return body

    def batch_item(self, context: dict[str, Any]) -> dict[str, Any]:
        """This error as one entry of a 207 response's `errors` list."""
        item: dict[str, Any] = {
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": context,
        }
        if self.errors:
            item["errors"] = self.errors
        return item


def _validation_error(
    message: str, *, errors: list[dict[str, Any]] | None = None, context: dict[str, Any] | None = None
) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, errors=errors, context=context)


def _not_found() -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", "resource not found")


def _conflict(object_type: str, existing_id: str) -> HubSpotError:
    label = _SINGULAR[object_type].capitalize()
    return HubSpotError(409, "CONFLICT", f"{label} already exists. Existing ID: {existing_id}")


def _missing_ids_error(object_type: str, ids: list[str]) -> dict[str, Any]:
    message = (
        f"Could not get some {_SINGULAR[object_type].upper()} objects, they may be deleted or not exist. "
        "Check that ids are valid."
    )
    return HubSpotError(404, "OBJECT_NOT_FOUND", message).batch_item({"ids": ids})


@dataclass(frozen=True)
class _Problem:
    """One invalid property value; HubSpot reports all of a write's problems together."""

    name: str
    code: str
    message: str


class _InvalidValue(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _property_values_error(problems: Sequence[_Problem]) -> HubSpotError:
    details = [
        {
            "isValid": False,
            "message": problem.message,
            "error": problem.code,
            "name": problem.name,
            "localizedErrorMessage": problem.message,
            "portalId": _PORTAL_ID,
        }
        for problem in problems
    ]
    return _validation_error(
        "Property values were not valid: " + json.dumps(details, separators=(",", ":")),
        errors=[
            {"message": problem.message, "code": problem.code, "context": {"propertyName": [problem.name]}}
            for problem in problems
        ],
    )


# ---------------------------------------------------------------------------------------------------
# Property schema and value normalisation
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PropertyDef:
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
    created_at: str = field(default_factory=_now_iso)

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


def _builtin_schema(object_type: str) -> dict[str, _PropertyDef]:
    group = _GROUPS[object_type]
    schema = {
        name: _PropertyDef(name, _label(name), kind, _FIELD_TYPES[kind], group)
        for name, kind in _BUILTIN_PROPERTIES[object_type].items()
    }
    created, modified = _TIMESTAMP_PROPERTIES[object_type]
    for name, kind in (("hs_object_id", "number"), (created, "datetime"), (modified, "datetime")):
        schema[name] = _PropertyDef(name, _label(name), kind, _FIELD_TYPES[kind], group, read_only=True)
    return schema


def _label(name: str) -> str:
    return name.removeprefix("hs_").replace("_", " ").capitalize()


def _as_text(raw: object) -> str | None:
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
    raise _InvalidValue("INVALID_PROPERTY_VALUE", f"{json.dumps(raw)} is not a string, number or boolean")


def _normalise(object_type: str, definition: _PropertyDef, raw: object) -> str | None:
    text = _as_text(raw)
    if text is None:
        return None
    if definition.type == "number":
        return _checked_number(text)
    if definition.type in ("datetime", "date"):
        return _checked_datetime(text, date_only=definition.type == "date")
    if (object_type, definition.name) == ("contacts", "email"):
        return _checked_email(text)
    return text


def _checked_number(text: str) -> str:
    try:
        valid = math.isfinite(float(text))
    except ValueError:
        valid = False
    if not valid:
        raise _InvalidValue("INVALID_INTEGER", f"{text} was not a valid number.")
    return text


def _checked_datetime(text: str, *, date_only: bool) -> str:
    # Stored in HubSpot's read-back form, whichever accepted form (ISO 8601 or epoch ms) was written.
    moment = _parse_datetime(text)
    if moment is None:
        raise _InvalidValue("INVALID_DATE", f"{text} is not a valid date or epoch milliseconds value.")
    return moment.astimezone(UTC).date().isoformat() if date_only else _iso(moment)


def _checked_email(text: str) -> str:
    # HubSpot keeps emails lower-cased, which is what makes email lookups case-insensitive.
    if not _EMAIL.fullmatch(text.strip()):
        raise _InvalidValue("INVALID_EMAIL", f"Email address {text} is invalid")
    return text.strip().lower()


def _lookup_key(object_type: str, name: str, value: str) -> str:
    return value.lower() if (object_type, name) == ("contacts", "email") else value


# ---------------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Version:
    """What the search index holds for a record from `visible_at` (monotonic seconds) on."""

    visible_at: float
    properties: dict[str, str]
    updated_at: str


@dataclass
class _Record:
    id: str
    object_type: str
    properties: dict[str, str]
    created_at: str
    updated_at: str
    archived: bool = False
    versions: list[_Version] = field(default_factory=list)

    def publish(self, visible_at: float, now: float) -> None:
        """Queue the current state for the search index and forget versions nobody can see any more."""
        self.versions.append(_Version(visible_at, dict(self.properties), self.updated_at))
        visible = [index for index, version in enumerate(self.versions) if version.visible_at <= now]
        if visible:
            self.versions = self.versions[visible[-1] :]

    def indexed(self, now: float) -> _Version | None:
        visible = [version for version in self.versions if version.visible_at <= now]
        return visible[-1] if visible else None


def _record_json(record: _Record, wanted: Iterable[str], version: _Version | None = None) -> dict[str, Any]:
    """A record as HubSpot returns it; with `version`, as the search index saw it."""
    source = record.properties if version is None else version.properties
    return {
        "id": record.id,
        "properties": {name: source.get(name) for name in sorted(set(wanted))},
        "createdAt": record.created_at,
        "updatedAt": record.updated_at if version is None else version.updated_at,
        "archived": record.archived,
    }


def _merge(properties: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    merged = dict(properties)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


# ---------------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------------

# Numbers and dates compare numerically, strings as strings; the tuple keeps both in one sortable type.
_Key = tuple[int, float, str]
_KeyFn = Callable[[str], _Key]

_VALUE_OPERATORS: Final = frozenset(
    {"EQ", "NEQ", "GT", "GTE", "LT", "LTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
)
_LIST_OPERATORS: Final = frozenset({"IN", "NOT_IN"})
_PRESENCE_OPERATORS: Final = frozenset({"HAS_PROPERTY", "NOT_HAS_PROPERTY"})
# Negative operators also match records that lack the property, as HubSpot's do.
_NEGATIONS: Final = {"NEQ": "EQ", "NOT_IN": "IN", "NOT_CONTAINS_TOKEN": "CONTAINS_TOKEN"}
_COMPARISONS: Final[dict[str, Callable[[_Key, tuple[_Key, ...]], bool]]] = {
    "GT": lambda key, bounds: key > bounds[0],
    "GTE": lambda key, bounds: key >= bounds[0],
    "LT": lambda key, bounds: key < bounds[0],
    "LTE": lambda key, bounds: key <= bounds[0],
    "BETWEEN": lambda key, bounds: bounds[0] <= key <= bounds[1],
}


@dataclass(frozen=True)
class _SearchLimits:
    """Filter limits differ between HubSpot's sources (see crm-apis.md §1), hence configurable."""

    max_filter_groups: int
    max_filters_per_group: int
    max_filters_total: int


def _key_fn(object_type: str, definition: _PropertyDef) -> _KeyFn:
    if definition.type == "number":
        return lambda text: (0, float(text), "")
    if definition.type in ("datetime", "date"):
        return lambda text: (0, _epoch_ms(text), "")
    name = definition.name
    return lambda text: (1, 0.0, _lookup_key(object_type, name, text))


def _epoch_ms(text: str) -> float:
    moment = _parse_datetime(text)
    if moment is None:
        raise ValueError(f"not a date: {text}")
    return moment.timestamp() * 1000


def _has_token(text: str, pattern: str) -> bool:
    """CONTAINS_TOKEN: a whole word of the value (or the whole value) matches; `*` is a wildcard."""
    words = {text.lower(), *(word for word in re.split(r"\W+", text.lower()) if word)}
    regex = re.compile(".*".join(re.escape(part) for part in pattern.lower().split("*")))
    return any(regex.fullmatch(word) for word in words)


@dataclass(frozen=True)
class _Filter:
    name: str
    operator: str
    texts: tuple[str, ...]
    keys: tuple[_Key, ...]
    key_fn: _KeyFn

    def matches(self, properties: Mapping[str, str]) -> bool:
        stored = properties.get(self.name)
        if self.operator in _PRESENCE_OPERATORS:
            return (stored is not None) == (self.operator == "HAS_PROPERTY")
        positive = _NEGATIONS.get(self.operator)
        if positive is not None:
            return stored is None or not self._holds(positive, stored)
        return stored is not None and self._holds(self.operator, stored)

    def _holds(self, operator: str, stored: str) -> bool:
        if operator == "CONTAINS_TOKEN":
            return _has_token(stored, self.texts[0])
        key = self.key_fn(stored)
        if operator in ("EQ", "IN"):
            return key in self.keys
        return _COMPARISONS[operator](key, self.keys)


@dataclass(frozen=True)
class _SearchQuery:
    groups: tuple[tuple[_Filter, ...], ...]
    properties: list[str] | None
    limit: int
    offset: int
    sort: tuple[str, _KeyFn, bool] | None

    def matches(self, properties: Mapping[str, str]) -> bool:
        # Groups are ORed, the filters inside a group ANDed; no groups means every record.
        return not self.groups or any(all(f.matches(properties) for f in group) for group in self.groups)

    def ordered(self, hits: list[tuple[_Record, _Version]]) -> list[tuple[_Record, _Version]]:
        if self.sort is None:
            return sorted(hits, key=lambda hit: int(hit[0].id))
        name, key_fn, descending = self.sort
        present = [hit for hit in hits if name in hit[1].properties]
        missing = [hit for hit in hits if name not in hit[1].properties]
        present.sort(key=lambda hit: key_fn(hit[1].properties[name]), reverse=descending)
        return present + missing


class _SearchParser:
    """Turns a search body into a `_SearchQuery`, rejecting what HubSpot rejects with a 400."""

    def __init__(self, object_type: str, schema: Mapping[str, _PropertyDef], limits: _SearchLimits) -> None:
        self._object_type = object_type
        self._schema = schema
        self._limits = limits

    def parse(self, body: Mapping[str, Any]) -> _SearchQuery:
        if body.get("query"):
            raise _validation_error("The sandbox does not emulate free-text `query`; use filterGroups.")
        limit = _int_field(body, "limit", _SEARCH_DEFAULT_LIMIT, minimum=0)
        if limit > _SEARCH_MAX_LIMIT:
            raise _validation_error(f"limit must be at most {_SEARCH_MAX_LIMIT}, got {limit}")
        offset = _int_field(body, "after", 0, minimum=0)
        if offset + limit > _SEARCH_MAX_RESULTS:
            raise _validation_error(f"Search cannot page beyond {_SEARCH_MAX_RESULTS} results.")
        return _SearchQuery(
            groups=self._groups(body.get("filterGroups")),
            properties=_string_list(body.get("properties"), "properties"),
            limit=limit,
            offset=offset,
            sort=self._sort(body.get("sorts")),
        )

    def _groups(self, raw: object) -> tuple[tuple[_Filter, ...], ...]:
        groups = _list_of_objects(raw or [], "filterGroups")
        limits = self._limits
        if len(groups) > limits.max_filter_groups:
            raise _validation_error(
                f"Too many filterGroups: {len(groups)} (maximum {limits.max_filter_groups})."
            )
        parsed = tuple(self._group(group) for group in groups)
        if any(len(group) > limits.max_filters_per_group for group in parsed):
            raise _validation_error(f"Too many filters in a group (maximum {limits.max_filters_per_group}).")
        total = sum(len(group) for group in parsed)
        if total > limits.max_filters_total:
            raise _validation_error(
                f"Too many filters: {total} (maximum {limits.max_filters_total} in total)."
            )
        return parsed

    def _group(self, group: Mapping[str, Any]) -> tuple[_Filter, ...]:
        return tuple(self._filter(item) for item in _list_of_objects(group.get("filters"), "filters"))

    def _filter(self, raw: Mapping[str, Any]) -> _Filter:
        name, operator = raw.get("propertyName"), raw.get("operator")
        if not isinstance(name, str) or not isinstance(operator, str):
            raise _validation_error("Each filter needs a propertyName and an operator.")
        key_fn = _key_fn(self._object_type, self._definition(name))
        texts = self._operands(operator, raw)
        try:
            keys = tuple(key_fn(text) for text in texts)
        except ValueError as exc:
            raise _validation_error(f"Invalid value for filter on {name}: {exc}") from exc
        return _Filter(name, operator, texts, keys, key_fn)

    def _operands(self, operator: str, raw: Mapping[str, Any]) -> tuple[str, ...]:
        if operator in _PRESENCE_OPERATORS:
            return ()
        if operator in _LIST_OPERATORS:
            values = raw.get("values")
            if not isinstance(values, list) or not values:
                raise _validation_error(f"operator {operator} requires a non-empty `values` list")
            return tuple(self._operand(value, operator) for value in values)
        if operator == "BETWEEN":
            return (self._operand(raw.get("value"), operator), self._operand(raw.get("highValue"), operator))
        if operator in _VALUE_OPERATORS:
            return (self._operand(raw.get("value"), operator),)
        raise _validation_error(f"Unknown filter operator: {operator}")

    @staticmethod
    def _operand(raw: object, operator: str) -> str:
        try:
            text = _as_text(raw)
        except _InvalidValue as exc:
            raise _validation_error(exc.message) from exc
        if text is None:
            raise _validation_error(f"operator {operator} requires a value")
        return text

    def _sort(self, raw: object) -> tuple[str, _KeyFn, bool] | None:
        sorts = raw or []
        if not isinstance(sorts, list) or len(sorts) > 1:
            raise _validation_error("`sorts` must be a list with at most one sort.")
        if not sorts:
            return None
        name, descending = _sort_spec(sorts[0])
        return name, _key_fn(self._object_type, self._definition(name)), descending

    def _definition(self, name: str) -> _PropertyDef:
        definition = self._schema.get(name)
        if definition is None:
            message = f'Property "{name}" does not exist'
            error = {"message": message, "code": "PROPERTY_DOESNT_EXIST", "context": {"propertyName": [name]}}
            raise _validation_error(message, errors=[error])
        return definition


def _sort_spec(raw: object) -> tuple[str, bool]:
    """A sort is `{"propertyName", "direction"}` or, in HubSpot's older form, "name" / "-name"."""
    if isinstance(raw, str) and raw.strip("-"):
        return raw.lstrip("-"), raw.startswith("-")
    if isinstance(raw, dict) and isinstance(raw.get("propertyName"), str):
        direction = raw.get("direction", "ASCENDING")
        if direction in ("ASCENDING", "DESCENDING"):
            return raw["propertyName"], direction == "DESCENDING"
    raise _validation_error("Each sort needs a propertyName and a direction of ASCENDING or DESCENDING.")


# ---------------------------------------------------------------------------------------------------
# Request body helpers
# ---------------------------------------------------------------------------------------------------


def _list_of_objects(raw: object, name: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise _validation_error(f"`{name}` must be a list of objects")
    return raw


def _string_list(raw: object, name: str) -> list[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise _validation_error(f"`{name}` must be a list of strings")
    return raw


def _int_field(body: Mapping[str, Any], name: str, default: int, *, minimum: int) -> int:
    raw = body.get(name, default)
    # `after` is a string cursor in HubSpot's responses, but clients echo it back as either type.
    text = str(raw) if _is_int(raw) or isinstance(raw, str) else ""
    if not text.isdigit() or int(text) < minimum:
        raise _validation_error(f"`{name}` must be a whole number, got {json.dumps(raw)}")
    return int(text)


def _properties_field(body: Mapping[str, Any]) -> dict[str, Any]:
    raw = body.get("properties", {})
    if not isinstance(raw, dict):
        raise _validation_error("`properties` must be an object mapping property names to values")
    return raw


def _is_int(raw: object) -> TypeGuard[int]:
    return isinstance(raw, int) and not isinstance(raw, bool)


def _input_id(item: Mapping[str, Any]) -> str:
    raw = item.get("id")
    if (_is_int(raw) or isinstance(raw, str)) and str(raw):
        return str(raw)
    raise _validation_error("Each input needs an `id`.")


def _reject_duplicate_ids(inputs: Sequence[Mapping[str, Any]]) -> None:
    counts = Counter(_input_id(item) for item in inputs)
    duplicates = sorted(record_id for record_id, count in counts.items() if count > 1)
    if duplicates:
        raise _validation_error(f"Duplicate IDs found in batch input: [{', '.join(duplicates)}]")


def _unique_trace_ids(inputs: Sequence[Mapping[str, Any]]) -> list[str] | None:
    """Trace ids when every input has a distinct one: only then does batch create answer per item."""
    traces = [item.get("objectWriteTraceId") for item in inputs]
    strings = [trace for trace in traces if isinstance(trace, str) and trace]
    return strings if inputs and len(set(strings)) == len(inputs) else None


# ---------------------------------------------------------------------------------------------------
# Portal state
# ---------------------------------------------------------------------------------------------------


class _Portal:
    """The emulated HubSpot account: schema, records, unique indexes and associations."""

    def __init__(self, *, search_lag_s: float, batch_limit: int, search_limits: _SearchLimits) -> None:
        self.batch_limit = batch_limit
        self.search_limits = search_limits
        self._search_lag_s = search_lag_s
        self._lock = threading.RLock()
        self._schema = {object_type: _builtin_schema(object_type) for object_type in OBJECT_TYPES}
        self._records: dict[str, dict[str, _Record]] = {object_type: {} for object_type in OBJECT_TYPES}
        self._unique: dict[tuple[str, str], dict[str, str]] = {}
        self._links: dict[tuple[str, str, str], dict[str, set[int]]] = {}
        self._next_id = _FIRST_ID

    # -- inspection ---------------------------------------------------------------------------------

    def snapshot(self, object_type: str) -> list[dict[str, Any]]:
        with self._lock:
            records = sorted(self._records[object_type].values(), key=lambda record: int(record.id))
            return [_record_json(record, record.properties) for record in records]

    def wanted(
        self, object_type: str, requested: Sequence[str] | None, written: Iterable[str] = ()
    ) -> set[str]:
        """The properties a response shows: requested ones (known only) or the defaults, plus system ones."""
        created, modified = _TIMESTAMP_PROPERTIES[object_type]
        system = {"hs_object_id", created, modified}
        if requested:
            schema = self._schema[object_type]
            return system | {name for name in requested if name in schema}
        return system | set(_DEFAULT_PROPERTIES[object_type]) | set(written)

    # -- single-record operations -------------------------------------------------------------------

    def read(self, object_type: str, record_id: str, id_property: str | None) -> _Record:
        with self._lock:
            return self._find(object_type, record_id, id_property)

    def create(self, object_type: str, body: Mapping[str, Any]) -> _Record:
        with self._lock:
            values = self._validated_new(object_type, _properties_field(body), claimed=set())
            links = self._validated_links(object_type, body.get("associations"))
            return self._insert(object_type, values, links)

    def update(
        self, object_type: str, record_id: str, id_property: str | None, body: Mapping[str, Any]
    ) -> _Record:
        with self._lock:
            record = self._find(object_type, record_id, id_property)
            changes = self._validated_changes(record, _required_changes(body), claimed=set())
            self._apply(record, changes)
            return record

    def archive(self, object_type: str, record_id: str) -> None:
        with self._lock:
            record = self._find_or_none(object_type, record_id, None)
            if record is not None:
                self._archive(record)

    # -- search -------------------------------------------------------------------------------------

    def search(self, object_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            query = _SearchParser(object_type, self._schema[object_type], self.search_limits).parse(body)
            now = time.monotonic()
            # Archived records leave the index at once; writes reach it only after the search lag.
            versions = [(record, record.indexed(now)) for record in self._records[object_type].values()]
            hits = [
                (r, v)
                for r, v in versions
                if v is not None and not r.archived and query.matches(v.properties)
            ]
        hits = query.ordered(hits)
        page = hits[query.offset : query.offset + query.limit]
        wanted = self.wanted(object_type, query.properties)
        response: dict[str, Any] = {
            "total": len(hits),
            "results": [_record_json(record, wanted, version) for record, version in page],
        }
        if query.offset + query.limit < len(hits):
            response["paging"] = {"next": {"after": str(query.offset + query.limit)}}
        return response

    # -- batch --------------------------------------------------------------------------------------

    def batch_read(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]], id_property: str | None
    ) -> tuple[list[_Record], list[str]]:
        with self._lock:
            found: dict[str, _Record] = {}
            missing: list[str] = []
            for record_id in dict.fromkeys(_input_id(item) for item in inputs):
                record = self._find_or_none(object_type, record_id, id_property)
                if record is None:
                    missing.append(record_id)
                else:
                    found[record.id] = record
            return list(found.values()), missing

    def batch_create(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]]
    ) -> tuple[list[tuple[_Record, str | None]], list[dict[str, Any]]]:
        with self._lock:
            traces = _unique_trace_ids(inputs)
            if traces is None:
                return [(record, None) for record in self._create_all(object_type, inputs)], []
            return self._create_each(object_type, inputs, traces)

    def batch_update(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]]
    ) -> tuple[list[_Record], list[str]]:
        with self._lock:
            _reject_duplicate_ids(inputs)
            claimed: set[tuple[str, str]] = set()
            plan: list[tuple[_Record, dict[str, str | None]]] = []
            missing: list[str] = []
            for item in inputs:
                record = self._find_or_none(object_type, _input_id(item), item.get("idProperty"))
                if record is None:
                    missing.append(_input_id(item))
                else:
                    plan.append((record, self._validated_changes(record, _required_changes(item), claimed)))
            for record, changes in plan:
                self._apply(record, changes)
            return [record for record, _ in plan], missing

    def batch_upsert(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]]
    ) -> list[tuple[_Record, bool]]:
        with self._lock:
            _reject_duplicate_ids(inputs)
            claimed: set[tuple[str, str]] = set()
            plan = [self._plan_upsert(object_type, item, claimed) for item in inputs]
            results: list[tuple[_Record, bool]] = []
            for record, values in plan:
                if record is None:
                    results.append((self._insert(object_type, _merge({}, values), []), True))
                else:
                    self._apply(record, values)
                    results.append((record, False))
            return results

    def batch_archive(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            for item in inputs:
                self.archive(object_type, _input_id(item))

    # -- properties ---------------------------------------------------------------------------------

    def property_definitions(self, object_type: str) -> list[_PropertyDef]:
        with self._lock:
            return sorted(self._schema[object_type].values(), key=lambda definition: definition.name)

    def property_definition(self, object_type: str, name: str) -> _PropertyDef:
        with self._lock:
            definition = self._schema[object_type].get(name)
        if definition is None:
            raise HubSpotError(
                404, "OBJECT_NOT_FOUND", f"Unable to find property {name} on object {object_type}"
            )
        return definition

    def create_property(self, object_type: str, body: Mapping[str, Any]) -> _PropertyDef:
        definition = _custom_property(body)
        with self._lock:
            schema = self._schema[object_type]
            if definition.name in schema:
                raise HubSpotError(
                    409, "OBJECT_ALREADY_EXISTS", f"Property named '{definition.name}' already exists."
                )
            if definition.has_unique_value and self._count_unique(object_type) >= _MAX_UNIQUE_PROPERTIES:
                raise _validation_error(
                    f"An object can have at most {_MAX_UNIQUE_PROPERTIES} properties with unique values."
                )
            schema[definition.name] = definition
            return definition

    # -- associations -------------------------------------------------------------------------------

    def associate_default(
        self, from_type: str, from_id: str, to_type: str, to_id: str
    ) -> list[tuple[str, str, int]]:
        type_id = _DEFAULT_ASSOCIATION.get((from_type, to_type))
        if type_id is None:
            raise _validation_error(f"There is no default association from {from_type} to {to_type}.")
        with self._lock:
            self._find(from_type, from_id, None)
            self._find(to_type, to_id, None)
            self._link(from_type, from_id, to_id, type_id)
        return [(from_id, to_id, type_id), (to_id, from_id, _ASSOCIATION_TYPES[type_id].reverse_id)]

    def associations(self, from_type: str, from_id: str, to_type: str) -> list[dict[str, Any]]:
        with self._lock:
            self._find(from_type, from_id, None)
            targets = self._links.get((from_type, from_id, to_type), {})
            live = [to_id for to_id in targets if self._find_or_none(to_type, to_id, None) is not None]
            return [
                {
                    "toObjectId": int(to_id),
                    "associationTypes": [
                        {
                            "category": "HUBSPOT_DEFINED",
                            "typeId": type_id,
                            "label": _ASSOCIATION_TYPES[type_id].label,
                        }
                        for type_id in sorted(targets[to_id])
                    ],
                }
                for to_id in sorted(live, key=int)
            ]

    # -- internals (callers hold the lock) ----------------------------------------------------------

    def _find(self, object_type: str, record_id: str, id_property: str | None) -> _Record:
        record = self._find_or_none(object_type, record_id, id_property)
        if record is None:
            raise _not_found()
        return record

    def _find_or_none(self, object_type: str, record_id: str, id_property: str | None) -> _Record | None:
        if id_property in (None, "hs_object_id"):
            record = self._records[object_type].get(record_id)
        else:
            self._require_unique(object_type, id_property)
            owner = self._unique_values(object_type, id_property).get(
                _lookup_key(object_type, id_property, record_id)
            )
            record = self._records[object_type].get(owner or "")
        return None if record is None or record.archived else record

    def _require_unique(self, object_type: str, name: str) -> None:
        if name not in self._unique_properties(object_type):
            raise _validation_error(
                f"Unable to perform update/upsert by non-unique {_OBJECT_TYPE_IDS[object_type]} "
                f"property {name} in portal ID {_PORTAL_ID}"
            )

    def _unique_properties(self, object_type: str) -> list[str]:
        custom = [d.name for d in self._schema[object_type].values() if d.has_unique_value]
        return [*_NATIVE_UNIQUE.get(object_type, ()), *custom]

    def _count_unique(self, object_type: str) -> int:
        return sum(1 for definition in self._schema[object_type].values() if definition.has_unique_value)

    def _unique_values(self, object_type: str, name: str) -> dict[str, str]:
        return self._unique.setdefault((object_type, name), {})

    def _clean(self, object_type: str, raw: Mapping[str, Any]) -> dict[str, str | None]:
        """Validate and normalise written values, reporting every bad property at once."""
        schema = self._schema[object_type]
        cleaned: dict[str, str | None] = {}
        problems: list[_Problem] = []
        for name, value in raw.items():
            definition = schema.get(name)
            if definition is None:
                problems.append(_Problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
            elif definition.read_only:
                message = f"{name} is a read only property; its value cannot be set."
                problems.append(_Problem(name, "READ_ONLY_VALUE", message))
            else:
                try:
                    cleaned[name] = _normalise(object_type, definition, value)
                except _InvalidValue as exc:
                    problems.append(_Problem(name, exc.code, exc.message))
        if problems:
            raise _property_values_error(problems)
        return cleaned

    def _check_required(self, object_type: str, values: Mapping[str, str]) -> None:
        absent = [name for name in _REQUIRED_PROPERTIES.get(object_type, ()) if name not in values]
        if absent:
            raise _property_values_error(
                [_Problem(name, "REQUIRED_PROPERTY", f"{name} is required") for name in absent]
            )

    def _check_unique(
        self, object_type: str, values: Mapping[str, str], own_id: str | None, claimed: set[tuple[str, str]]
    ) -> None:
        """Reject a value another live record holds, or one an earlier input of the same batch claimed."""
        for name in self._unique_properties(object_type):
            value = values.get(name)
            if value is None:
                continue
            owner = self._unique_values(object_type, name).get(value)
            if owner is not None and owner != own_id:
                raise _conflict(object_type, owner)
            if (name, value) in claimed:
                raise _validation_error(
                    f"Duplicate value {value!r} for unique property {name} in batch inputs."
                )
            claimed.add((name, value))

    def _validated_new(
        self, object_type: str, raw: Mapping[str, Any], claimed: set[tuple[str, str]]
    ) -> dict[str, str]:
        values = _merge({}, self._clean(object_type, raw))
        self._check_required(object_type, values)
        self._check_unique(object_type, values, None, claimed)
        return values

    def _validated_changes(
        self, record: _Record, raw: Mapping[str, Any], claimed: set[tuple[str, str]]
    ) -> dict[str, str | None]:
        changes = self._clean(record.object_type, raw)
        merged = _merge(record.properties, changes)
        self._check_required(record.object_type, merged)
        self._check_unique(record.object_type, merged, record.id, claimed)
        return changes

    def _plan_upsert(
        self, object_type: str, item: Mapping[str, Any], claimed: set[tuple[str, str]]
    ) -> tuple[_Record | None, Mapping[str, str | None]]:
        id_property = item.get("idProperty")
        if not isinstance(id_property, str) or id_property == "hs_object_id":
            raise _validation_error(
                f"Unable to perform update/upsert by non-unique {_OBJECT_TYPE_IDS[object_type]} "
                f"property {id_property} in portal ID {_PORTAL_ID}"
            )
        value = _input_id(item)
        record = self._find_or_none(object_type, value, id_property)
        raw = _properties_field(item)
        if record is not None:
            return record, self._validated_changes(record, raw, claimed)
        # An unmatched id creates the record, carrying the id value in its unique property.
        return None, self._validated_new(object_type, {**raw, id_property: value}, claimed)

    def _create_all(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> list[_Record]:
        """All-or-nothing: validate every input before creating any, as HubSpot fails the whole batch."""
        claimed: set[tuple[str, str]] = set()
        plan = [
            (
                self._validated_new(object_type, _properties_field(item), claimed),
                self._validated_links(object_type, item.get("associations")),
            )
            for item in inputs
        ]
        return [self._insert(object_type, values, links) for values, links in plan]

    def _create_each(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]], traces: list[str]
    ) -> tuple[list[tuple[_Record, str | None]], list[dict[str, Any]]]:
        created: list[tuple[_Record, str | None]] = []
        errors: list[dict[str, Any]] = []
        for item, trace in zip(inputs, traces, strict=True):
            try:
                values = self._validated_new(object_type, _properties_field(item), claimed=set())
                links = self._validated_links(object_type, item.get("associations"))
            except HubSpotError as exc:
                errors.append(exc.batch_item({"objectWriteTraceId": [trace]}))
            else:
                created.append((self._insert(object_type, values, links), trace))
        return created, errors

    def _validated_links(self, object_type: str, raw: object) -> list[tuple[str, str, int]]:
        """Inline `associations` of a create, as (to_type, to_id, type_id) after checking each target."""
        links: list[tuple[str, str, int]] = []
        for item in _list_of_objects(raw or [], "associations"):
            target = item.get("to")
            if not isinstance(target, dict):
                raise _validation_error("Each association needs a `to` object with an `id`.")
            to_id = _input_id(target)
            for spec in _list_of_objects(item.get("types"), "types"):
                type_id, association = _association_type(spec)
                if association.from_type != object_type:
                    raise _validation_error(f"Association type {type_id} does not start at {object_type}.")
                if self._find_or_none(association.to_type, to_id, None) is None:
                    label = _SINGULAR[association.to_type].upper()
                    raise _validation_error(
                        f"One or more associations are invalid: {label} {to_id} does not exist."
                    )
                links.append((association.to_type, to_id, type_id))
        return links

    def _insert(
        self, object_type: str, values: Mapping[str, str], links: list[tuple[str, str, int]]
    ) -> _Record:
        record_id = str(self._next_id)
        self._next_id += 1
        now = _now_iso()
        created, modified = _TIMESTAMP_PROPERTIES[object_type]
        properties = {**values, "hs_object_id": record_id, created: now, modified: now}
        record = _Record(record_id, object_type, properties, now, now)
        self._records[object_type][record_id] = record
        self._index(record)
        for _to_type, to_id, type_id in links:
            self._link(object_type, record_id, to_id, type_id)
        return record

    def _apply(self, record: _Record, changes: Mapping[str, str | None]) -> None:
        self._unindex(record)
        now = _now_iso()
        record.properties = _merge(record.properties, changes)
        record.properties[_TIMESTAMP_PROPERTIES[record.object_type][1]] = now
        record.updated_at = now
        self._index(record)

    def _archive(self, record: _Record) -> None:
        self._unindex(record)
        record.archived = True
        record.updated_at = _now_iso()

    def _index(self, record: _Record) -> None:
        for name in self._unique_properties(record.object_type):
            value = record.properties.get(name)
            if value is not None:
                self._unique_values(record.object_type, name)[value] = record.id
        now = time.monotonic()
        record.publish(now + self._search_lag_s, now)

    def _unindex(self, record: _Record) -> None:
        for name in self._unique_properties(record.object_type):
            value = record.properties.get(name)
            index = self._unique_values(record.object_type, name)
            if value is not None and index.get(value) == record.id:
                del index[value]

    def _link(self, from_type: str, from_id: str, to_id: str, type_id: int) -> None:
        """Associate both ways, as HubSpot does: each side lists the other under its own type id."""
        association = _ASSOCIATION_TYPES[type_id]
        forward = self._links.setdefault((from_type, from_id, association.to_type), {})
        forward.setdefault(to_id, set()).add(type_id)
        reverse = self._links.setdefault((association.to_type, to_id, from_type), {})
        reverse.setdefault(from_id, set()).add(association.reverse_id)


def _association_type(spec: Mapping[str, Any]) -> tuple[int, _AssociationType]:
    """The HubSpot-defined association type an inline `types` entry names (labels are not emulated)."""
    type_id = spec.get("associationTypeId")
    if (
        spec.get("associationCategory") == "HUBSPOT_DEFINED"
        and _is_int(type_id)
        and type_id in _ASSOCIATION_TYPES
    ):
        return type_id, _ASSOCIATION_TYPES[type_id]
    raise _validation_error(f"Unknown association type {json.dumps(spec)}.")


def _required_changes(body: Mapping[str, Any]) -> dict[str, Any]:
    properties = _properties_field(body)
    if not properties:
        raise _validation_error(
            "No properties found to update, please provide at least one.", context={"properties": ["{}"]}
        )
    return properties


def _custom_property(body: Mapping[str, Any]) -> _PropertyDef:
    fields = {key: body.get(key) for key in ("name", "label", "type", "fieldType", "groupName")}
    absent = [key for key, value in fields.items() if not isinstance(value, str) or not value]
    if absent:
        raise _validation_error(f"Missing required fields for a property: {', '.join(absent)}")
    name, label, kind, field_type, group = (str(value) for value in fields.values())
    if not _PROPERTY_NAME.fullmatch(name):
        raise _validation_error(f"Property name {name!r} must be lower case letters, digits and underscores.")
    if kind not in _FIELD_TYPES:
        raise _validation_error(f"Unknown property type {kind!r}; expected one of {', '.join(_FIELD_TYPES)}.")
    options = body.get("options") or []
    if not isinstance(options, list):
        raise _validation_error("`options` must be a list")
    return _PropertyDef(
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


def _resolve_type(raw: str) -> str:
    """The canonical object type for a path segment (name, singular or type id), or a HubSpot 400."""
    object_type = _TYPE_ALIASES.get(raw)
    if object_type is None:
        raise _validation_error(f"Unable to infer object type from: {raw}")
    return object_type


# ---------------------------------------------------------------------------------------------------
# Rate limits
# ---------------------------------------------------------------------------------------------------

_POLICY_MESSAGES: Final = {
    "DAILY": "You have reached your daily limit.",
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
}


@dataclass
class _Usage:
    day: date
    daily_used: int = 0
    window: deque[float] = field(default_factory=deque)
    searches: deque[float] = field(default_factory=deque)


@dataclass(frozen=True)
class _Admission:
    policy: str | None
    headers: dict[str, str]


class _RateLimiter:
    """Per-token ten-second rolling window, daily budget and per-second search limit."""

    def __init__(
        self, *, ten_second_max: int, interval_ms: int, daily_max: int, search_per_second: int
    ) -> None:
        self._ten_second_max = ten_second_max
        self._interval_ms = interval_ms
        self._daily_max = daily_max
        self._search_per_second = search_per_second
        self._usage: dict[str, _Usage] = {}
        self._lock = threading.Lock()

    def admit(self, token: str, *, search: bool) -> _Admission:
        with self._lock:
            usage = self._current(token)
            headers = {} if search else self._headers(usage)
            if usage.daily_used >= self._daily_max:
                return _Admission("DAILY", headers)
            # Search is exempt from the ten-second window and has its own per-second one instead.
            bucket, limit = (
                (usage.searches, self._search_per_second) if search else (usage.window, self._ten_second_max)
            )
            if len(bucket) >= limit:
                return _Admission("SECONDLY" if search else "TEN_SECONDLY_ROLLING", headers)
            bucket.append(time.monotonic())
            usage.daily_used += 1
            return _Admission(None, {} if search else self._headers(usage))

    def headers(self, token: str, *, exhausted: bool = False) -> dict[str, str]:
        """The current headers without counting a request; `exhausted` reports the window as full."""
        with self._lock:
            headers = self._headers(self._current(token))
        if exhausted:
            headers["X-HubSpot-RateLimit-Remaining"] = "0"
        return headers

    def reset(self) -> None:
        with self._lock:
            self._usage.clear()

    def _current(self, token: str) -> _Usage:
        # The daily budget resets at midnight UTC here; HubSpot uses the account's time zone.
        today = datetime.now(UTC).date()
        usage = self._usage.setdefault(token, _Usage(today))
        if usage.day != today:
            usage.day, usage.daily_used = today, 0
        now = time.monotonic()
        _expire(usage.window, now - self._interval_ms / 1000)
        _expire(usage.searches, now - 1.0)
        return usage

    def _headers(self, usage: _Usage) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Daily": str(self._daily_max),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self._daily_max - usage.daily_used)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(self._interval_ms),
            "X-HubSpot-RateLimit-Max": str(self._ten_second_max),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self._ten_second_max - len(usage.window))),
        }


def _expire(times: deque[float], cutoff: float) -> None:
    while times and times[0] <= cutoff:
        times.popleft()


# ---------------------------------------------------------------------------------------------------
# The sandbox and its ASGI front door
# ---------------------------------------------------------------------------------------------------

_AUTH_MESSAGE: Final = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_FAULT_CATEGORIES: Final = {401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES", 404: "OBJECT_NOT_FOUND"}
_SEARCH_PATH = re.compile(r"/crm/v3/objects/[^/]+/search")


class HubSpotSandbox:
    """An emulated HubSpot portal. Serve it with `app()`; inspect it directly from tests."""

    def __init__(
        self,
        *,
        token: str = "sandbox-token",
        ten_second_max: int = 190,
        interval_ms: int = 10_000,
        daily_max: int = 1_000_000,
        search_per_second: int = 5,
        search_lag_s: float = 0.0,
        faults: FaultPlan | None = None,
        batch_limit: int = 100,
        max_filter_groups: int = 5,
        max_filters_per_group: int = 6,
        max_filters_total: int = 18,
    ) -> None:
        self.token = token
        self._faults = FaultInjector(faults)
        self._limiter = _RateLimiter(
            ten_second_max=ten_second_max,
            interval_ms=interval_ms,
            daily_max=daily_max,
            search_per_second=search_per_second,
        )
        search_limits = _SearchLimits(max_filter_groups, max_filters_per_group, max_filters_total)
        self._portal = _Portal(
            search_lag_s=search_lag_s, batch_limit=batch_limit, search_limits=search_limits
        )
        self._request_log: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()

    def app(self) -> FastAPI:
        app = FastAPI(title="HubSpot sandbox", openapi_url=None, docs_url=None, redoc_url=None)
        app.state.portal = self._portal
        app.include_router(_router)
        _install_error_handlers(app)
        app.add_middleware(
            _Gateway, token=self.token, faults=self._faults, limiter=self._limiter, log=self._log_request
        )
        return app

    def records(self, object_type: str) -> list[dict[str, Any]]:
        """Every record of a type, archived ones included, as `{"id", "properties", ...}` dicts."""
        if object_type not in _TYPE_ALIASES:
            raise ValueError(
                f"unknown object type {object_type!r}; expected one of {', '.join(OBJECT_TYPES)}"
            )
        return self._portal.snapshot(_resolve_type(object_type))

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """(method, path, status) per request; for a dropped response, the status the client never saw."""
        with self._log_lock:
            return list(self._request_log)

    def count_requests(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> int:
        """Requests matching every given criterion; `path` is a regex matched against the whole path."""
        pattern = re.compile(path) if path is not None else None
        return sum(
            1
            for logged_method, logged_path, logged_status in self.request_log
            if (method is None or logged_method == method.upper())
            and (pattern is None or pattern.fullmatch(logged_path))
            and (status is None or logged_status == status)
        )

    def reset_rate_windows(self) -> None:
        """Forget all usage: ten-second windows, search windows and daily counts."""
        self._limiter.reset()

    def fault_stats(self) -> dict[str, Any]:
        """What the fault plan did so far: requests seen, requests given a fault, firings per rule."""
        return self._faults.stats()

    def _log_request(self, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self._request_log.append((method, path, status))


class _Status:
    """The status of the response an app produced, for the request log."""

    def __init__(self) -> None:
        self.value = 500


def _observing(send: Send, status: _Status | None, headers: Mapping[str, str]) -> Send:
    """Wrap `send` to note the response status and append headers to the response head."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            if status is not None:
                status.value = message["status"]
            extra = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def _discard(message: Message) -> None:
    """A `send` for responses that a drop fault swallows."""


class _Gateway:
    """HubSpot's edge: correlation ids, authentication, injected faults, then rate limits.

    Pure ASGI rather than a FastAPI middleware, because a dropped response has to control exactly
    what reaches the server's `send`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        faults: FaultInjector,
        limiter: _RateLimiter,
        log: Callable[[str, str, int], None],
    ) -> None:
        self._app = app
        self._token = token
        self._faults = faults
        self._limiter = limiter
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        correlation_id = str(uuid.uuid4())
        scope[_CORRELATION_KEY] = correlation_id
        status = _Status()
        try:
            reply = _observing(send, status, {"X-HubSpot-Correlation-Id": correlation_id})
            await self._dispatch(scope, receive, send, reply, status)
        except ClientDisconnect:  # the client gave up (or died) while the request waited: nothing to answer
            status.value = 499
        finally:
            self._log(scope["method"], scope["path"], status.value)

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, reply: Send, status: _Status
    ) -> None:
        method, path = scope["method"], scope["path"]
        token = _bearer_token(scope)
        if token != self._token:
            unauthorized = HubSpotError(401, "INVALID_AUTHENTICATION", _AUTH_MESSAGE)
            await _error_response(unauthorized, scope)(scope, receive, reply)
            return
        search = method == "POST" and bool(_SEARCH_PATH.fullmatch(path))
        action = self._faults.act(method, path)
        if action.delay_s > 0:
            await asyncio.sleep(action.delay_s)
        rule = action.rule
        if rule is None or (rule.fault == "partial_batch" and not _BATCH_PATH.fullmatch(path)):
            await self._admit(scope, receive, reply, token, search)
        elif rule.fault == "status":
            await self._fault_response(rule, token, search, scope)(scope, receive, reply)
        elif rule.fault == "connection_reset":  # nothing done, nothing answered
            status.value = 0
            await drop_response(send)
        elif rule.fault == "partial_batch":
            await self._partial_batch(action, scope, receive, reply, token)
        else:  # after commit: do everything, show the client nothing (at once, or after holding it)
            await self._admit(scope, receive, _observing(_discard, status, {}), token, search)
            if rule.fault == "timeout_after_commit":
                await asyncio.sleep(action.hold_s)
            await drop_response(send)

    async def _partial_batch(
        self, action: FaultAction, scope: Scope, receive: Receive, reply: Send, token: str
    ) -> None:
        """Fail some inputs of a batch write (a 207 naming them) and do the rest, as HubSpot does when
        inputs fail one by one. A create without `objectWriteTraceId`s is all-or-nothing in HubSpot, so
        there the whole batch fails instead."""
        assert action.rule is not None
        body = await _read_body(receive)
        try:
            payload = json.loads(body) if body else {}
            inputs = payload.get("inputs") if isinstance(payload, dict) else None
        except ValueError:
            inputs = None
        path = scope["path"]
        traced = isinstance(inputs, list) and all(
            isinstance(item, dict) and item.get("objectWriteTraceId") for item in inputs
        )
        if not isinstance(inputs, list) or not inputs or (path.endswith("/batch/create") and not traced):
            await self._fault_response(action.rule, token, False, scope)(scope, _replay(body), reply)
            return
        failing = set(action.failing_inputs(len(inputs)))
        kept = [item for i, item in enumerate(inputs) if i not in failing]
        captured = _Captured()
        forwarded = json.dumps({**payload, "inputs": kept}).encode()
        if kept:
            await self._admit(scope, _replay(forwarded), captured.send, token, False)
        else:
            captured.status, captured.body = 200, b'{"status":"COMPLETE","results":[]}'
        if captured.status >= 400:  # the rate limiter (or validation) refused the whole batch
            await captured.forward(reply)
            return
        result = json.loads(captured.body or b"{}")
        rule = action.rule
        category = (
            "INTERNAL_ERROR" if rule.status >= 500 else _FAULT_CATEGORIES.get(rule.status, "VALIDATION_ERROR")
        )
        errors = list(result.get("errors", []))
        for i in sorted(failing):
            item = inputs[i] if isinstance(inputs[i], dict) else {}
            context = (
                {"objectWriteTraceId": [str(item["objectWriteTraceId"])]}
                if item.get("objectWriteTraceId")
                else {"ids": [str(item.get("id", i))]}
            )
            error = HubSpotError(
                rule.status, category, f"{_reason(rule.status)} (input {i} of the batch failed)"
            )
            errors.append(error.batch_item(context))
        result["errors"], result["numErrors"] = errors, len(errors)
        headers = {k: v for k, v in captured.headers.items() if k not in ("content-length", "content-type")}
        await JSONResponse(result, status_code=207, headers=headers)(scope, _replay(b""), reply)

    async def _admit(self, scope: Scope, receive: Receive, reply: Send, token: str, search: bool) -> None:
        admission = self._limiter.admit(token, search=search)
        if admission.policy is not None:
            await _rate_limited(admission.policy, admission.headers, scope)(scope, receive, reply)
            return
        await self._app(scope, receive, _observing(reply, None, admission.headers))

    def _fault_response(self, rule: FaultRule, token: str, search: bool, scope: Scope) -> Response:
        # An injected 429 mimics the limit the request would really hit; other statuses get HubSpot's
        # error shape, with the rate headers a real answer from behind the limiter would carry.
        if rule.status == 429:
            policy = "SECONDLY" if search else "TEN_SECONDLY_ROLLING"
            return _rate_limited(
                policy, {} if search else self._limiter.headers(token, exhausted=True), scope
            )
        fallback = "INTERNAL_ERROR" if rule.status >= 500 else "VALIDATION_ERROR"
        error = HubSpotError(rule.status, _FAULT_CATEGORIES.get(rule.status, fallback), _reason(rule.status))
        return _error_response(error, scope, {} if search else self._limiter.headers(token))


_BATCH_PATH = re.compile(r"/crm/v3/objects/[^/]+/batch/(create|update|upsert)")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A `receive` that hands an app a body already read from the client."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class _Captured:
    """A `send` that keeps an app's response, to be changed before the client sees it."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: dict[str, str] = {}
        self.body = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    async def forward(self, send: Send) -> None:
        headers = [(k.encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _bearer_token(scope: Scope) -> str:
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _correlation_id(scope: Scope) -> str:
    return str(scope[_CORRELATION_KEY])


def _error_response(error: HubSpotError, scope: Scope, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(error.body(_correlation_id(scope)), status_code=error.status, headers=headers)


def _rate_limited(policy: str, headers: Mapping[str, str], scope: Scope) -> Response:
    body = {
        "status": "error",
        "message": _POLICY_MESSAGES[policy],
        "errorType": "RATE_LIMIT",
        "correlationId": _correlation_id(scope),
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
    }
    # No Retry-After: HubSpot documents none for these 429s, so clients must not rely on one.
    return JSONResponse(body, status_code=429, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HubSpotError)
    async def hubspot_error(request: Request, exc: HubSpotError) -> Response:
        return _error_response(exc, request.scope)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _error_response(_validation_error(f"Invalid request: {problems}"), request.scope)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        category = _FAULT_CATEGORIES.get(exc.status_code, "VALIDATION_ERROR")
        return _error_response(HubSpotError(exc.status_code, category, str(exc.detail)), request.scope)


# ---------------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------------

_router = APIRouter()
_PropertiesParam = Annotated[list[str] | None, Query()]
_IdPropertyParam = Annotated[str | None, Query(alias="idProperty")]


def _portal(request: Request) -> _Portal:
    portal: _Portal = request.app.state.portal
    return portal


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except json.JSONDecodeError as exc:
        raise _validation_error(
            f"Invalid input JSON on line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except ValueError as exc:  # undecodable bytes
        raise _validation_error(f"Invalid input JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _validation_error("Invalid input JSON: the request body must be a JSON object.")
    return body


def _requested(properties: Sequence[str] | None) -> list[str] | None:
    """`properties` may be repeated or comma-separated, as HubSpot accepts both."""
    if properties is None:
        return None
    return [name.strip() for value in properties for name in value.split(",") if name.strip()]


def _batch_inputs(portal: _Portal, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    inputs = _list_of_objects(body.get("inputs"), "inputs")
    if len(inputs) > portal.batch_limit:
        raise _validation_error(
            f"Too many inputs: {len(inputs)}. A batch accepts at most {portal.batch_limit}."
        )
    return inputs


def _batch_response(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started_at: str, ok_status: int
) -> Response:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    body["startedAt"] = started_at
    body["completedAt"] = _now_iso()
    return JSONResponse(body, status_code=207 if errors else ok_status)


@_router.get("/crm/v3/objects/{object_type}/{record_id}")
async def _read_object(
    request: Request,
    object_type: str,
    record_id: str,
    properties: _PropertiesParam = None,
    id_property: _IdPropertyParam = None,
) -> Response:
    portal, kind = _portal(request), _resolve_type(object_type)
    record = portal.read(kind, record_id, id_property)
    return JSONResponse(_record_json(record, portal.wanted(kind, _requested(properties))))


@_router.post("/crm/v3/objects/{object_type}")
async def _create_object(request: Request, object_type: str) -> Response:
    portal, kind = _portal(request), _resolve_type(object_type)
    record = portal.create(kind, await _json_object(request))
    return JSONResponse(_record_json(record, portal.wanted(kind, None, record.properties)), status_code=201)


@_router.patch("/crm/v3/objects/{object_type}/{record_id}")
async def _update_object(
    request: Request, object_type: str, record_id: str, id_property: _IdPropertyParam = None
) -> Response:
    portal, kind = _portal(request), _resolve_type(object_type)
    record = portal.update(kind, record_id, id_property, await _json_object(request))
    return JSONResponse(_record_json(record, portal.wanted(kind, None, record.properties)))


@_router.delete("/crm/v3/objects/{object_type}/{record_id}")
async def _archive_object(request: Request, object_type: str, record_id: str) -> Response:
    _portal(request).archive(_resolve_type(object_type), record_id)
    return Response(status_code=204)


@_router.post("/crm/v3/objects/{object_type}/search")
async def _search(request: Request, object_type: str) -> Response:
    return JSONResponse(_portal(request).search(_resolve_type(object_type), await _json_object(request)))


@_router.post("/crm/v3/objects/{object_type}/batch/read")
async def _batch_read(request: Request, object_type: str) -> Response:
    portal, kind, started = _portal(request), _resolve_type(object_type), _now_iso()
    body = await _json_object(request)
    id_property = body.get("idProperty")
    if id_property is not None and not isinstance(id_property, str):
        raise _validation_error("`idProperty` must be a string")
    found, missing = portal.batch_read(kind, _batch_inputs(portal, body), id_property)
    wanted = portal.wanted(kind, _string_list(body.get("properties"), "properties"))
    errors = [_missing_ids_error(kind, missing)] if missing else []
    return _batch_response([_record_json(record, wanted) for record in found], errors, started, 200)


@_router.post("/crm/v3/objects/{object_type}/batch/create")
async def _batch_create(request: Request, object_type: str) -> Response:
    portal, kind, started = _portal(request), _resolve_type(object_type), _now_iso()
    created, errors = portal.batch_create(kind, _batch_inputs(portal, await _json_object(request)))
    results = []
    for record, trace in created:
        result = _record_json(record, portal.wanted(kind, None, record.properties))
        if trace is not None:
            result["objectWriteTraceId"] = trace
        results.append(result)
    return _batch_response(results, errors, started, 201)


@_router.post("/crm/v3/objects/{object_type}/batch/update")
async def _batch_update(request: Request, object_type: str) -> Response:
    portal, kind, started = _portal(request), _resolve_type(object_type), _now_iso()
    updated, missing = portal.batch_update(kind, _batch_inputs(portal, await _json_object(request)))
    results = [_record_json(record, portal.wanted(kind, None, record.properties)) for record in updated]
    return _batch_response(results, [_missing_ids_error(kind, missing)] if missing else [], started, 200)


@_router.post("/crm/v3/objects/{object_type}/batch/upsert")
async def _batch_upsert(request: Request, object_type: str) -> Response:
    portal, kind, started = _portal(request), _resolve_type(object_type), _now_iso()
    upserted = portal.batch_upsert(kind, _batch_inputs(portal, await _json_object(request)))
    results = [
        {**_record_json(record, portal.wanted(kind, None, record.properties)), "new": new}
        for record, new in upserted
    ]
    return _batch_response(results, [], started, 200)


@_router.post("/crm/v3/objects/{object_type}/batch/archive")
async def _batch_archive(request: Request, object_type: str) -> Response:
    portal = _portal(request)
    portal.batch_archive(_resolve_type(object_type), _batch_inputs(portal, await _json_object(request)))
    return Response(status_code=204)


@_router.get("/crm/v3/properties/{object_type}")
async def _list_properties(request: Request, object_type: str) -> Response:
    definitions = _portal(request).property_definitions(_resolve_type(object_type))
    return JSONResponse({"results": [definition.to_json() for definition in definitions]})


@_router.get("/crm/v3/properties/{object_type}/{name}")
async def _read_property(request: Request, object_type: str, name: str) -> Response:
    return JSONResponse(_portal(request).property_definition(_resolve_type(object_type), name).to_json())


@_router.post("/crm/v3/properties/{object_type}")
async def _create_property(request: Request, object_type: str) -> Response:
    definition = _portal(request).create_property(_resolve_type(object_type), await _json_object(request))
    return JSONResponse(definition.to_json(), status_code=201)


@_router.put("/crm/v4/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}")
async def _associate_default(
    request: Request, from_type: str, from_id: str, to_type: str, to_id: str
) -> Response:
    started = _now_iso()
    links = _portal(request).associate_default(
        _resolve_type(from_type), from_id, _resolve_type(to_type), to_id
    )
    results = [
        {
            "from": {"id": source},
            "to": {"id": target},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id},
        }
        for source, target, type_id in links
    ]
    return _batch_response(results, [], started, 200)


@_router.get("/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}")
async def _list_associations(request: Request, from_type: str, from_id: str, to_type: str) -> Response:
    results = _portal(request).associations(_resolve_type(from_type), from_id, _resolve_type(to_type))
    return JSONResponse({"results": results})
