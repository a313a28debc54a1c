"""Salesforce's schema through describe: `GET /sobjects/{sObject}/describe` per object.

A field is required on create when it is not nillable, createable, not defaulted on create and not a
checkbox (a checkbox is never null) — what `REQUIRED_FIELD_MISSING` enforces. Picklists list their
`picklistValues` (only active values are accepted by a restricted picklist). Text fields carry `length`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from callsync.crm.errors import PermanentError
from callsync.crm.protocol import CRMAdapter
from callsync.crm.schema import FieldKind, PicklistOption, SchemaField, SchemaObject

_KINDS: Final[dict[str, FieldKind]] = {
    "string": "text",
    "textarea": "textarea",
    "email": "email",
    "phone": "phone",
    "url": "text",
    "encryptedstring": "text",
    "int": "number",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "long": "number",
    "date": "date",
    "datetime": "datetime",
    "time": "time",
    "boolean": "boolean",
    "picklist": "picklist",
    "multipicklist": "multipicklist",
    "combobox": "text",  # a picklist that also takes any text
    "reference": "reference",
    "id": "other",
}
_TEXT: Final = frozenset({"text", "textarea", "email", "phone"})


# The field a deal's stage is written to (the advance_stage action): a mapping's pipeline stages must be
# among its options.
STAGE_FIELD: Final = {"Opportunity": "StageName"}


def describe_field(raw: dict[str, Any]) -> SchemaField:
    vendor = str(raw.get("type") or "")
    kind = _KINDS.get(vendor, "other")
    createable = bool(raw.get("createable", False))
    required = (
        not raw.get("nillable", True)
        and createable
        and not raw.get("defaultedOnCreate", False)
        and vendor != "boolean"
    )
    length = raw.get("length")
    return SchemaField(
        name=str(raw["name"]),
        label=str(raw.get("label") or ""),
        kind=kind,
        vendor_type=vendor,
        options=tuple(
            PicklistOption(str(p.get("value", "")), str(p.get("label") or p.get("value") or ""))
            for p in raw.get("picklistValues") or []
            if isinstance(p, dict) and p.get("active", True)
        ),
        max_length=int(length) if kind in _TEXT and isinstance(length, int) and length > 0 else None,
        required_on_create=required,
        writable=createable or bool(raw.get("updateable", False)),
        unique=bool(raw.get("unique")),
        custom=bool(raw.get("custom")),
    )


async def read_schema(adapter: CRMAdapter, objects: Sequence[str]) -> tuple[SchemaObject, ...]:
    from callsync.crm.salesforce.adapter import SalesforceAdapter

    if not isinstance(adapter, SalesforceAdapter):
        raise TypeError(
            f"the Salesforce schema reader needs a Salesforce adapter, not {type(adapter).__name__}"
        )
    found: list[SchemaObject] = []
    for sobject in dict.fromkeys(objects):
        try:
            response = await adapter.http.request("GET", f"/sobjects/{sobject}/describe")
        except PermanentError as exc:
            if exc.status == 404:  # NOT_FOUND: the org has no such sObject
                continue
            raise
        body = response.json() or {}
        fields = tuple(describe_field(f) for f in body.get("fields") or [] if isinstance(f, dict))
        name = str(body.get("name") or sobject)
        found.append(
            SchemaObject(name, str(body.get("label") or ""), fields, stage_field=STAGE_FIELD.get(name, ""))
        )
    return tuple(found)
