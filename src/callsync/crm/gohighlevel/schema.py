"""GoHighLevel's schema: the standard fields of contacts and opportunities (LeadConnector v2's
CreateContactDto and CreateDto, which no endpoint lists) and the location's custom fields through
`GET /locations/{locationId}/customFields?model=contact|opportunity`.

A custom field is named by its key (`contact.callsync_origin_call_id` → `callsync_origin_call_id`) or its
name, as the adapter resolves it; `dataType` is its type and `picklistOptions` a SINGLE_OPTIONS or
MULTIPLE_OPTIONS field's choices. The location id, the pipeline, the status and the contact of an
opportunity are filled by the adapter from the tenant's settings and the call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from callsync.crm.protocol import CRMAdapter
from callsync.crm.schema import FieldKind, PicklistOption, SchemaField, SchemaObject

_STANDARD: Final[dict[str, tuple[SchemaField, ...]]] = {
    "contacts": (
        SchemaField("firstName", "First Name", "text", "string"),
        SchemaField("lastName", "Last Name", "text", "string"),
        SchemaField("name", "Full Name", "text", "string"),
        SchemaField("email", "Email", "email", "string"),
        SchemaField("phone", "Phone", "phone", "string"),
        SchemaField("companyName", "Company Name", "text", "string"),
        SchemaField("address1", "Address", "text", "string"),
        SchemaField("city", "City", "text", "string"),
        SchemaField("state", "State", "text", "string"),
        SchemaField("postalCode", "Postal Code", "text", "string"),
        SchemaField("country", "Country", "text", "string"),
        SchemaField("website", "Website", "text", "string"),
        SchemaField("timezone", "Timezone", "text", "string"),
        SchemaField("source", "Source", "text", "string"),
        SchemaField("dateOfBirth", "Date of Birth", "date", "string"),
        SchemaField("tags", "Tags", "multipicklist", "array"),
    ),
    "opportunities": (
        SchemaField("name", "Opportunity Name", "text", "string", required_on_create=True),
        SchemaField("monetaryValue", "Opportunity Value", "number", "number"),
        SchemaField(
            "pipelineStageId", "Stage", "reference", "string"
        ),  # a stage id of the location's pipelines
        SchemaField("source", "Source", "text", "string"),
        SchemaField(
            "status",
            "Status",
            "picklist",
            "string",
            tuple(PicklistOption(s, s) for s in ("open", "won", "lost", "abandoned")),
        ),
    ),
}
_MODELS: Final = {"contacts": "contact", "opportunities": "opportunity"}
_KINDS: Final[dict[str, FieldKind]] = {
    "TEXT": "text",
    "LARGE_TEXT": "textarea",
    "EMAIL": "email",
    "PHONE": "phone",
    "NUMERICAL": "number",
    "MONETORY": "number",
    "DATE": "date",
    "CHECKBOX": "multipicklist",
    "SINGLE_OPTIONS": "picklist",
    "MULTIPLE_OPTIONS": "multipicklist",
    "RADIO": "picklist",
}


# The field a deal's stage is written to (the advance_stage action): a mapping's pipeline stages must be
# among its options.
STAGE_FIELD: Final = {"opportunities": "pipelineStageId"}


def custom_field(raw: Mapping[str, Any]) -> SchemaField:
    key = str(raw.get("fieldKey") or "")
    vendor = str(raw.get("dataType") or "")
    return SchemaField(
        name=key.partition(".")[2] or key or str(raw.get("name") or ""),
        label=str(raw.get("name") or ""),
        kind=_KINDS.get(vendor, "other"),
        vendor_type=vendor,
        options=tuple(PicklistOption(str(o), str(o)) for o in raw.get("picklistOptions") or []),
        custom=True,
    )


async def read_schema(adapter: CRMAdapter, objects: Sequence[str]) -> tuple[SchemaObject, ...]:
    from callsync.crm.gohighlevel.adapter import GoHighLevelAdapter, object_type_of
    from callsync.crm.http.transport import parse_json

    if not isinstance(adapter, GoHighLevelAdapter):
        raise TypeError(
            f"the GoHighLevel schema reader needs a GoHighLevel adapter, not {type(adapter).__name__}"
        )
    found: list[SchemaObject] = []
    for name in dict.fromkeys(objects):
        object_type = object_type_of(name)
        model = _MODELS.get(object_type)
        if model is None:
            continue
        response = await adapter.http.request(
            "GET", f"/locations/{adapter.location_id}/customFields", params={"model": model}
        )
        rows = (parse_json(response) or {}).get("customFields") or []
        custom = tuple(
            custom_field(r) for r in rows if isinstance(r, dict) and r.get("model", model) == model
        )
        fields = (*_STANDARD[object_type], *custom)
        found.append(SchemaObject(name, object_type, fields, True, STAGE_FIELD.get(object_type, "")))
    return tuple(found)
