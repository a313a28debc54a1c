"""Pipedrive's schema through its field lists: `GET /v1/personFields`, `/v1/organizationFields`,
`/v1/dealFields` (paged), as the adapter reads them.

Every field has a `key` (a 40-character hash for custom fields) and a `name` (its label); a mapping may
name a field by either, as the adapter resolves it. `field_type` is the type (varchar holds 255
characters, text is long), `options` an enum's or set's choices (written as the option's `id`),
`mandatory_flag` whether a create must carry it. A person's `name` is composed by the adapter from first
and last name when the mapping gives those.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from callsync.crm.protocol import CRMAdapter
from callsync.crm.schema import FieldKind, PicklistOption, SchemaField, SchemaObject

VARCHAR_MAX: Final = 255
_KINDS: Final[dict[str, FieldKind]] = {
    "varchar": "text",
    "varchar_auto": "text",
    "text": "textarea",
    "address": "text",
    "phone": "phone",
    "double": "number",
    "int": "number",
    "monetary": "number",
    "date": "date",
    "time": "time",
    "enum": "picklist",
    "set": "multipicklist",
    "status": "picklist",
    "user": "reference",
    "org": "reference",
    "people": "reference",
    "visible_to": "other",
}
# A required field the adapter composes from others (persons: name from first and last name).
_FILLED_FROM: Final = {("persons", "name"): ("first_name", "last_name")}
_PAGES: Final = 50  # 500 a page: a company has far fewer fields


# The field a deal's stage is written to (the advance_stage action): a mapping's pipeline stages must be
# among its options.
STAGE_FIELD: Final = {"deals": "stage_id"}


def pipedrive_field(object_type: str, raw: Mapping[str, Any]) -> SchemaField:
    key = str(raw.get("key") or "")
    vendor = str(raw.get("field_type") or "")
    kind: FieldKind = "email" if (object_type, key) == ("persons", "email") else _KINDS.get(vendor, "other")
    return SchemaField(
        name=key,
        label=str(raw.get("name") or key),
        kind=kind,
        vendor_type=vendor,
        options=tuple(
            PicklistOption(str(o.get("id", "")), str(o.get("label") or ""))
            for o in raw.get("options") or []
            if isinstance(o, dict)
        ),
        max_length=VARCHAR_MAX if vendor in ("varchar", "varchar_auto") else None,
        required_on_create=bool(raw.get("mandatory_flag")),
        writable=raw.get("active_flag", True) is not False,
        custom=bool(raw.get("edit_flag")),
        filled_from=_FILLED_FROM.get((object_type, key), ()),
    )


async def read_schema(adapter: CRMAdapter, objects: Sequence[str]) -> tuple[SchemaObject, ...]:
    from callsync.crm.http.transport import parse_json
    from callsync.crm.pipedrive.adapter import FIELD_LISTS, V1, PipedriveAdapter
    from callsync.crm.pipedrive.wire import token_cost

    if not isinstance(adapter, PipedriveAdapter):
        raise TypeError(
            f"the Pipedrive schema reader needs a Pipedrive adapter, not {type(adapter).__name__}"
        )
    found: list[SchemaObject] = []
    for object_type in dict.fromkeys(objects):
        listing = FIELD_LISTS.get(object_type)
        if listing is None:  # not an object Pipedrive has (or callsync writes)
            continue
        fields: list[SchemaField] = []
        start = 0
        path = f"{V1}/{listing}"
        for _page in range(_PAGES):
            response = await adapter.http.request(
                "GET", path, params={"start": str(start), "limit": "500"}, cost=token_cost("GET", path)
            )
            body = parse_json(response) or {}
            fields += [pipedrive_field(object_type, r) for r in body.get("data") or [] if isinstance(r, dict)]
            more = (body.get("additional_data") or {}).get("pagination") or {}
            if not more.get("more_items_in_collection"):
                break
            start = int(more.get("next_start") or start + 500)
        found.append(
            SchemaObject(object_type, listing, tuple(fields), True, STAGE_FIELD.get(object_type, ""))
        )
    return tuple(found)
