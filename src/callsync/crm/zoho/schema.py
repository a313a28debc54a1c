"""Zoho CRM's schema through the fields API: `GET /crm/v8/settings/fields?module={module}` per module.

`data_type` names the field's type, `length` its maximum length, `system_mandatory` whether a record
cannot be saved without it, `pick_list_values` a picklist's values (`actual_value` is what the API
takes), `unique` whether it refuses duplicates ("Do not allow duplicate values").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from callsync.crm.errors import PermanentError
from callsync.crm.protocol import CRMAdapter
from callsync.crm.schema import FieldKind, PicklistOption, SchemaField, SchemaObject

_KINDS: Final[dict[str, FieldKind]] = {
    "text": "text",
    "textarea": "textarea",
    "email": "email",
    "phone": "phone",
    "website": "text",
    "integer": "number",
    "bigint": "number",
    "double": "number",
    "currency": "number",
    "decimal": "number",
    "date": "date",
    "datetime": "datetime",
    "boolean": "boolean",
    "picklist": "picklist",
    "multiselectpicklist": "multipicklist",
    "lookup": "reference",
    "ownerlookup": "reference",
}
_TEXT: Final = frozenset({"text", "textarea", "email", "phone"})


# The field a deal's stage is written to (the advance_stage action): a mapping's pipeline stages must be
# among its options.
STAGE_FIELD: Final = {"Deals": "Stage"}


def zoho_field(raw: dict[str, Any]) -> SchemaField:
    vendor = str(raw.get("data_type") or "")
    kind = _KINDS.get(vendor, "other")
    length = raw.get("length")
    read_only = bool(raw.get("read_only") or raw.get("field_read_only"))
    return SchemaField(
        name=str(raw["api_name"]),
        label=str(raw.get("display_label") or raw.get("field_label") or ""),
        kind=kind,
        vendor_type=vendor,
        options=tuple(
            PicklistOption(
                str(p.get("actual_value", p.get("display_value", ""))), str(p.get("display_value") or "")
            )
            for p in raw.get("pick_list_values") or []
            if isinstance(p, dict)
        ),
        max_length=int(length) if kind in _TEXT and isinstance(length, int) and length > 0 else None,
        required_on_create=bool(raw.get("system_mandatory")) and not read_only,
        writable=not read_only,
        unique=bool(raw.get("unique")),
        custom=bool(raw.get("custom_field")),
    )


async def read_schema(adapter: CRMAdapter, objects: Sequence[str]) -> tuple[SchemaObject, ...]:
    from callsync.crm.zoho.adapter import ZohoAdapter

    if not isinstance(adapter, ZohoAdapter):
        raise TypeError(f"the Zoho schema reader needs a Zoho adapter, not {type(adapter).__name__}")
    found: list[SchemaObject] = []
    for module in dict.fromkeys(objects):
        try:
            response = await adapter.http.request("GET", "/settings/fields", params={"module": module})
        except PermanentError as exc:
            if exc.status in (400, 404):  # INVALID_MODULE: the org has no such module
                continue
            raise
        body = response.json() if response.content else {}
        fields = tuple(zoho_field(f) for f in (body or {}).get("fields") or [] if isinstance(f, dict))
        found.append(SchemaObject(module, module, fields, stage_field=STAGE_FIELD.get(module, "")))
    return tuple(found)
