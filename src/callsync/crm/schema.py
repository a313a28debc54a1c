"""A CRM's own schema, as callsync reads it through the CRM's API: objects, their fields, each field's type,
picklist options, maximum length and whether a create must carry it.

Each CRM folder has a reader (`crm/<name>/schema.py`: HubSpot properties, Salesforce describe, Zoho
settings/fields, Pipedrive personFields/organizationFields/dealFields, GoHighLevel custom fields) that turns
its vendor's answer into this one model; `CRMSpec.schema_reader` registers it. `callsync schema check`
compares a mapping with it (trust/schema_check.py), `callsync schema export` writes it to a file, and the
emulators can be seeded from that file (`callsync sandbox NAME --schema FILE`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from callsync.errors import ConfigError

if TYPE_CHECKING:
    from callsync.crm.protocol import CRMAdapter

__all__ = [
    "FORMAT",
    "CRMSchema",
    "FieldKind",
    "PicklistOption",
    "SchemaField",
    "SchemaObject",
    "SchemaReader",
    "load_schema",
    "parse_schema",
]

# What a field holds, in callsync's words; each reader says which vendor type is which (`vendor_type`
# keeps the CRM's own name for the reader of a report).
FieldKind = Literal[
    "text",  # one line of text
    "textarea",  # long text
    "email",
    "phone",
    "number",  # integer, decimal, currency, percent
    "date",
    "datetime",
    "time",
    "boolean",
    "picklist",  # one of `options`
    "multipicklist",  # several of `options`
    "reference",  # the id of another record (a lookup)
    "other",
]
_KINDS: frozenset[str] = frozenset(get_args(FieldKind))
FORMAT = "callsync-crm-schema/1"  # written in every exported file, checked when one is read


@dataclass(frozen=True, slots=True)
class PicklistOption:
    value: str  # what the API takes (HubSpot's internal value, Pipedrive's option id, ...)
    label: str = ""  # what a person sees


@dataclass(frozen=True, slots=True)
class SchemaField:
    name: str  # the API name callsync writes (a mapping's field name)
    label: str = ""
    kind: FieldKind = "text"
    vendor_type: str = ""  # the CRM's own type name ("enumeration", "picklist", "varchar", ...)
    options: tuple[PicklistOption, ...] = ()
    max_length: int | None = None  # None: the CRM sets no limit callsync knows of
    required_on_create: bool = False  # a create without a value is refused
    writable: bool = True
    unique: bool = False
    custom: bool = False
    # A required field the adapter fills itself from these mapped fields (Pipedrive's person `name` from
    # first and last name): it is covered when the mapping maps any of them.
    filled_from: tuple[str, ...] = ()

    def accepts_option(self, value: str) -> bool:
        """Whether a constant is one of the picklist's options (by the value the API takes, or its label)."""
        return any(value == option.value or value == option.label for option in self.options)


@dataclass(frozen=True, slots=True)
class SchemaObject:
    name: str  # the object type as the mapping names it (contacts, Lead, Leads, persons, ...)
    label: str = ""
    fields: tuple[SchemaField, ...] = ()
    # A mapping may name a field by its label too (Pipedrive: custom fields are 40-character keys, and the
    # adapter resolves a label once, exactly, else ignoring case when only one field has it).
    by_label: bool = False
    # The field holding a deal's stage on this object, where the CRM has one (the `advance_stage` action
    # writes it): the stages a mapping's `actions.pipelines` name must be among its options.
    stage_field: str = ""

    def field(self, name: str) -> SchemaField | None:
        """The field a mapping's name writes to, as the CRM's adapter resolves it."""
        exact = next((f for f in self.fields if f.name == name), None)
        if exact is not None or not self.by_label:
            return exact
        labelled = [f for f in self.fields if f.label == name]
        if labelled:
            return labelled[0]
        folded = [f for f in self.fields if f.label.casefold() == name.casefold()]
        return folded[0] if len(folded) == 1 else None


@dataclass(frozen=True, slots=True)
class CRMSchema:
    crm: str  # the registry's kind
    objects: tuple[SchemaObject, ...]
    read_at: str = ""  # ISO 8601, when it was read from the CRM
    source: str = ""  # where it was read from (the API's base URL) or the file it was loaded from
    # Objects asked for that the CRM does not have.
    missing_objects: tuple[str, ...] = field(default=())

    def object(self, name: str) -> SchemaObject | None:
        return next((o for o in self.objects if o.name == name), None)

    def digest(self) -> str:
        """A fingerprint of the objects and fields (not when or where they were read): a rehearsal made
        against one schema does not vouch for another."""
        objects = self.to_json()["objects"]
        return hashlib.sha256(json.dumps(objects, sort_keys=True).encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "crm": self.crm,
            "read_at": self.read_at,
            "source": self.source,
            "objects": [
                {
                    "name": o.name,
                    "label": o.label,
                    "by_label": o.by_label,
                    "stage_field": o.stage_field,
                    "fields": [
                        {
                            "name": f.name,
                            "label": f.label,
                            "kind": f.kind,
                            "vendor_type": f.vendor_type,
                            "options": [{"value": p.value, "label": p.label} for p in f.options],
                            "max_length": f.max_length,
                            "required_on_create": f.required_on_create,
                            "writable": f.writable,
                            "unique": f.unique,
                            "custom": f.custom,
                            "filled_from": list(f.filled_from),
                        }
                        for f in o.fields
                    ],
                }
                for o in self.objects
            ],
        }


# A CRM's reader: the named objects' schemas, read through the adapter's own transport. Objects the CRM
# does not have are left out (the caller reports them).
SchemaReader = Callable[["CRMAdapter", Sequence[str]], Awaitable[tuple[SchemaObject, ...]]]


def _text(raw: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key}: expected text, got {type(value).__name__}")
    return value


def _field(raw: Any, where: str) -> SchemaField:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected an object")
    kind = _text(raw, "kind", where, "text")
    if kind not in _KINDS:
        raise ValueError(f"{where}.kind: {kind!r} is not one of {', '.join(sorted(_KINDS))}")
    options_raw = raw.get("options") or []
    if not isinstance(options_raw, list):
        raise ValueError(f"{where}.options: expected a list")
    options = tuple(
        PicklistOption(str(o.get("value", "")), str(o.get("label", "")))
        if isinstance(o, Mapping)
        else PicklistOption(str(o), str(o))
        for o in options_raw
    )
    max_length = raw.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool)):
        raise ValueError(f"{where}.max_length: expected a whole number or null")
    filled_from = raw.get("filled_from") or []
    if not isinstance(filled_from, list):
        raise ValueError(f"{where}.filled_from: expected a list")
    return SchemaField(
        name=_text(raw, "name", where),
        label=_text(raw, "label", where, ""),
        kind=kind,  # type: ignore[arg-type]  # checked against _KINDS above
        vendor_type=_text(raw, "vendor_type", where, ""),
        options=options,
        max_length=max_length,
        required_on_create=bool(raw.get("required_on_create", False)),
        writable=bool(raw.get("writable", True)),
        unique=bool(raw.get("unique", False)),
        custom=bool(raw.get("custom", False)),
        filled_from=tuple(str(f) for f in filled_from),
    )


def parse_schema(data: Any, source: str = "<schema>") -> CRMSchema:
    """An exported schema (`CRMSchema.to_json`) back as the model; a ConfigError names what is wrong."""
    try:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(f'not a callsync schema export (expected "format": "{FORMAT}")')
        objects_raw = data.get("objects")
        if not isinstance(objects_raw, list):
            raise ValueError("objects: expected a list")
        objects = []
        for i, o in enumerate(objects_raw):
            where = f"objects[{i}]"
            if not isinstance(o, Mapping) or not isinstance(o.get("fields"), list):
                raise ValueError(f"{where}: expected an object with `name` and a `fields` list")
            fields = tuple(_field(f, f"{where}.fields[{j}]") for j, f in enumerate(o["fields"]))
            objects.append(
                SchemaObject(
                    _text(o, "name", where),
                    _text(o, "label", where, ""),
                    fields,
                    bool(o.get("by_label")),
                    _text(o, "stage_field", where, ""),
                )
            )
        return CRMSchema(
            crm=_text(data, "crm", "schema"),
            objects=tuple(objects),
            read_at=_text(data, "read_at", "schema", ""),
            source=source,
        )
    except ValueError as exc:
        raise ConfigError(str(exc), source) from exc


def load_schema(path: str | Path) -> CRMSchema:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read schema file: {exc.strerror}", str(p)) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc.msg}", str(p), exc.lineno) from exc
    return parse_schema(data, str(p))
