"""HubSpot's schema through its properties API: `GET /crm/v3/properties/{objectType}` per object.

HubSpot stores every value as text; a property's `type` says how it is read (string, number, date,
datetime, enumeration, bool, phone_number) and `fieldType` how it is shown (textarea, select, ...).
Enumerations list their `options` (`value` is what the API takes). HubSpot requires no property on the
objects callsync writes; a text property holds up to 65,536 characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from callsync.crm.errors import PermanentError
from callsync.crm.protocol import CRMAdapter
from callsync.crm.schema import FieldKind, PicklistOption, SchemaField, SchemaObject

MAX_TEXT: Final = 65_536
_KINDS: Final[dict[str, FieldKind]] = {
    "string": "text",
    "number": "number",
    "date": "date",
    "datetime": "datetime",
    "bool": "boolean",
    "phone_number": "phone",
}


# The field a deal's stage is written to (the advance_stage action): a mapping's pipeline stages must be
# among its options.
STAGE_FIELD: Final = {"deals": "dealstage"}


def _kind(raw: dict[str, Any]) -> FieldKind:
    vendor, shown = str(raw.get("type") or ""), str(raw.get("fieldType") or "")
    if vendor == "enumeration":
        return "multipicklist" if shown == "checkbox" else "picklist"
    if vendor == "string" and shown == "textarea":
        return "textarea"
    if vendor == "string" and raw.get("name") == "email":
        return "email"
    return _KINDS.get(vendor, "other")


def property_field(raw: dict[str, Any]) -> SchemaField:
    kind = _kind(raw)
    calculated = bool(raw.get("calculated")) or bool(
        (raw.get("modificationMetadata") or {}).get("readOnlyValue")
    )
    return SchemaField(
        name=str(raw["name"]),
        label=str(raw.get("label") or ""),
        kind=kind,
        vendor_type=f"{raw.get('type')}/{raw.get('fieldType')}",
        options=tuple(
            PicklistOption(str(o.get("value", "")), str(o.get("label", "")))
            for o in raw.get("options") or []
            if isinstance(o, dict) and not o.get("hidden")
        ),
        max_length=MAX_TEXT if kind in ("text", "textarea", "email", "phone") else None,
        writable=not calculated,
        unique=bool(raw.get("hasUniqueValue")),
        custom=not raw.get("hubspotDefined", False),
    )


async def read_schema(adapter: CRMAdapter, objects: Sequence[str]) -> tuple[SchemaObject, ...]:
    from callsync.crm.hubspot.adapter import HubSpotAdapter

    if not isinstance(adapter, HubSpotAdapter):
        raise TypeError(f"the HubSpot schema reader needs a HubSpot adapter, not {type(adapter).__name__}")
    found: list[SchemaObject] = []
    for object_type in dict.fromkeys(objects):
        try:
            response = await adapter.http.request("GET", f"/crm/v3/properties/{object_type}")
        except PermanentError as exc:
            if exc.status in (400, 404):  # "Unable to infer object type": HubSpot has no such object
                continue
            raise
        results = (response.json() or {}).get("results") or []
        fields = tuple(property_field(r) for r in results if isinstance(r, dict) and r.get("name"))
        found.append(
            SchemaObject(object_type, object_type, fields, stage_field=STAGE_FIELD.get(object_type, ""))
        )
    return tuple(found)
