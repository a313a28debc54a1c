"""Emulators seeded with a customer's CRM schema (`callsync schema export` → file →
`callsync sandbox NAME --schema FILE`, and `callsync rehearse`).

What a seed changes, per emulator, so that the emulator refuses what the customer's CRM would:

- HubSpot: every property of a seeded object is the seed's (types, options, uniqueness); a property the
  seed does not have does not exist (a renamed property is refused with PROPERTY_DOESNT_EXIST). The
  read-only system properties (hs_object_id, createdate, ...) stay.
- Salesforce and Zoho: the seed's custom fields are the org's custom fields of each seeded object (a stamp
  field the customer has not created is absent), and the seed's picklist values replace the standard
  picklists' values. Standard fields stay the emulator's.
- Pipedrive: the seed's custom fields (with their keys, types and options) are the company's.
- GoHighLevel: the seed's custom fields are the location's.
- A webhook receiver keeps no schema: it is built as it is, and refuses a seed.

Objects the seed does not name keep the emulator's defaults.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from callsync.crm.schema import CRMSchema, SchemaField, SchemaObject
from callsync_sandbox.faults import FaultPlan

__all__ = ["SEEDABLE", "build_sandbox", "seeded_app"]

SEEDABLE: Final = ("hubspot", "salesforce", "zoho", "pipedrive", "gohighlevel")
# Targets without a schema of their own: the emulator is built, a schema is never applied.
UNSEEDED: Final = ("webhook",)
_HUBSPOT_TYPES: Final = {
    "text": ("string", "text"),
    "textarea": ("string", "textarea"),
    "email": ("string", "text"),
    "phone": ("phone_number", "phonenumber"),
    "number": ("number", "number"),
    "date": ("date", "date"),
    "datetime": ("datetime", "date"),
    "boolean": ("bool", "booleancheckbox"),
    "picklist": ("enumeration", "select"),
    "multipicklist": ("enumeration", "checkbox"),
}


def build_sandbox(
    crm: str,
    token: str,
    plan: FaultPlan | None,
    schema: CRMSchema | None = None,
    *,
    location: str | None = None,
    quick: bool = False,
) -> Any:
    """The CRM's emulator (its sandbox object: `app()`, `records()`), seeded with `schema` when given.
    `quick`: short rate windows, so throttling waits in a rehearsal take seconds, not the vendor's ten."""
    if schema is not None and crm in UNSEEDED:
        raise ValueError(f"a {crm} target keeps no schema to seed")
    if schema is not None and schema.crm != crm:
        raise ValueError(f"the schema file is {schema.crm}'s, not {crm}'s")
    objects = {o.name: o for o in schema.objects} if schema else {}
    if crm == "hubspot":
        from callsync_sandbox.hubspot import HubSpotSandbox

        hub = HubSpotSandbox(
            token=token,
            faults=plan,
            ten_second_max=40 if quick else 190,
            interval_ms=2_000 if quick else 10_000,
        )
        for obj in objects.values():
            _seed_hubspot(hub, obj)
        return hub
    if crm == "salesforce":
        from callsync_sandbox.salesforce import SalesforceSandbox

        custom = _custom_specs(objects, lambda f: {"name": f.name, "type": f.vendor_type or "string",
                                                   "length": f.max_length or 255, "unique": f.unique,
                                                   "externalId": f.unique})  # fmt: skip
        sf = SalesforceSandbox(token=token, faults=plan, custom_fields=custom)
        for obj in objects.values():
            _seed_picklists(sf.org.schema.get(obj.name), obj, "picklist")
        return sf
    if crm == "zoho":
        from callsync_sandbox.zoho import ZohoSandbox

        custom = _custom_specs(objects, lambda f: {"api_name": f.name, "data_type": f.vendor_type or "text",
                                                   "length": f.max_length or 255, "unique": f.unique,
                                                   "field_label": f.label or f.name})  # fmt: skip
        zoho = ZohoSandbox(token=token, faults=plan, custom_fields=custom)
        for obj in objects.values():
            _seed_picklists(zoho.org.fields.get(obj.name), obj, "options")
        return zoho
    if crm == "pipedrive":
        from callsync_sandbox.pipedrive import PipedriveSandbox

        pipedrive = PipedriveSandbox(token=token, faults=plan)
        for obj in objects.values():
            for f in obj.fields:
                if f.custom and obj.name in pipedrive.company.fields:
                    pipedrive.company.seed_field(
                        obj.name, f.name, f.label or f.name, f.vendor_type or "varchar",
                        [{"id": _int(o.value), "label": o.label} for o in f.options],
                    )  # fmt: skip
        return pipedrive
    if crm == "gohighlevel":
        from callsync_sandbox.gohighlevel import GoHighLevelSandbox

        ghl = GoHighLevelSandbox(
            token=token,
            locations=(location or "location-1",),
            faults=plan,
            interval_s=1.0 if quick else 10.0,
        )
        place = ghl.location(location)
        models = {"contacts": "contact", "opportunities": "opportunity"}
        for obj in objects.values():
            model = models.get(obj.label or obj.name) or models.get(obj.name)
            for f in obj.fields:
                if f.custom and model:
                    place.add_custom_field({"name": f.label or f.name, "dataType": f.vendor_type or "TEXT",
                                            "model": model})  # fmt: skip
        return ghl
    if crm == "webhook":
        from callsync_sandbox.webhook import WebhookReceiver

        return WebhookReceiver(token=token, faults=plan)
    raise ValueError(f"no emulator for {crm!r}; one of: {', '.join((*SEEDABLE, *UNSEEDED))}")


def seeded_app(crm: str, token: str, plan: FaultPlan | None, schema: CRMSchema) -> Any:
    """The ASGI app of a seeded emulator (`callsync sandbox NAME --schema FILE`)."""
    return build_sandbox(crm, token, plan, schema).app()


def _int(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _custom_specs(objects: dict[str, SchemaObject], spec: Any) -> dict[str, list[dict[str, Any]]] | None:
    if not objects:
        return None
    return {name: [spec(f) for f in obj.fields if f.custom] for name, obj in objects.items()}


def _seed_picklists(fields: dict[str, Any] | None, obj: SchemaObject, attribute: str) -> None:
    """A standard picklist's values become the seed's (a frozen field definition is replaced)."""
    if fields is None:
        return
    for f in obj.fields:
        current = fields.get(f.name)
        if current is not None and f.options:
            values = tuple(o.value for o in f.options)
            fields[f.name] = dataclasses.replace(current, **{attribute: values})


def _seed_hubspot(hub: Any, obj: SchemaObject) -> None:
    from callsync_sandbox.hubspot.properties import PropertyDef, option

    definitions: list[PropertyDef] = []
    for f in obj.fields:
        hub_type, field_type = _hubspot_type(f)
        definitions.append(
            PropertyDef(
                f.name,
                f.label or f.name,
                hub_type,
                field_type,
                "",
                has_unique_value=f.unique,
                hubspot_defined=not f.custom,
                read_only=not f.writable,
                options=tuple(
                    option(o.value, i) | {"label": o.label or o.value} for i, o in enumerate(f.options)
                ),
            )
        )
    hub.seed_properties(obj.name, definitions)


def _hubspot_type(f: SchemaField) -> tuple[str, str]:
    vendor = f.vendor_type.split("/")
    if len(vendor) == 2 and all(vendor):
        return vendor[0], vendor[1]
    return _HUBSPOT_TYPES.get(f.kind, ("string", "text"))
