"""Does the CRM's schema take what the mapping writes? A pure comparison of a mapping document with the
schema read from the customer's CRM (crm/schema.py), before any write can fail on it.

Each problem names the mapping's object and field, the line of the mapping document, and what the CRM
says: an object or field that is not there (a renamed property), a type the call's value does not fit (a
number into a text field, free text into a picklist), a constant (a required field's default) outside the
picklist or longer than the field, a field the CRM requires on create that the mapping leaves uncovered,
and callsync's own stamp fields absent.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import yaml

from callsync.crm.schema import CRMSchema, FieldKind, SchemaField, SchemaObject
from callsync.structure.mapping import FieldMapping, MappingDocument, ObjectMapping, template_fields

__all__ = ["ProblemKind", "SchemaCheck", "SchemaProblem", "check_schema", "mapping_lines"]

ProblemKind = Literal[
    "missing_object",
    "missing_field",
    "wrong_type",
    "not_in_picklist",
    "too_long",
    "not_writable",
    "required_not_covered",
    "stamp_missing",
]
CONTACT: Final = "contact"

# Which kinds of CRM field take a value of each mapping type; a kind the reader calls "other" is not judged.
_FITS: Final[dict[str, frozenset[FieldKind]]] = {
    "string": frozenset({"text", "textarea", "email", "phone"}),
    "email": frozenset({"email", "text", "textarea"}),
    "phone": frozenset({"phone", "text", "textarea"}),
    "number": frozenset({"number"}),
    "date": frozenset({"date", "datetime"}),
    "time": frozenset({"time", "text"}),
    "datetime": frozenset({"datetime"}),
}


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    kind: ProblemKind
    object_name: str  # the mapping's object (contact, company, deal)
    crm_object: str
    field: str  # the CRM field ("" for a missing object)
    detail: str  # what is wrong and what to do, in one sentence
    line: int | None = None  # the mapping document's line

    @property
    def where(self) -> str:
        return f"{self.crm_object}.{self.field}" if self.field else self.crm_object


@dataclass(frozen=True, slots=True)
class SchemaCheck:
    crm: str
    mapping: str  # the mapping document's path
    schema_source: str
    fields_checked: int
    problems: tuple[SchemaProblem, ...]
    # False for a target that keeps no schema (a webhook receiver takes the document as sent).
    applicable: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def stamps_missing(self) -> tuple[SchemaProblem, ...]:
        return tuple(p for p in self.problems if p.kind == "stamp_missing")

    def summary(self) -> str:
        if not self.applicable:
            return f"{self.crm} keeps no schema to check: it takes callsync's document as sent"
        if self.ok:
            return f"{self.fields_checked} mapped field(s) match the {self.crm} schema"
        kinds = sorted({p.kind.replace("_", " ") for p in self.problems})
        return f"{len(self.problems)} problem(s) in {self.fields_checked} field(s): {', '.join(kinds)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "crm": self.crm,
            "mapping": self.mapping,
            "schema_source": self.schema_source,
            "fields_checked": self.fields_checked,
            "applicable": self.applicable,
            "ok": self.ok,
            "problems": [
                {
                    "kind": p.kind,
                    "object": p.object_name,
                    "crm_object": p.crm_object,
                    "field": p.field,
                    "detail": p.detail,
                    "line": p.line,
                }
                for p in self.problems
            ],
        }


def mapping_lines(text: str) -> dict[tuple[str, ...], int]:
    """(objects, name, section, field) -> the line of that key in a mapping document's text."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[str, ...], int] = {}

    def walk(current: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                key = (*path, str(key_node.value))
                lines[key] = key_node.start_mark.line + 1
                walk(value_node, key)

    if node is not None:
        walk(node, ())
    return lines


class _Checker:
    def __init__(self, doc: MappingDocument, schema: CRMSchema, lines: Mapping[tuple[str, ...], int]) -> None:
        self.doc = doc
        self.schema = schema
        self.lines = lines
        self.problems: list[SchemaProblem] = []
        self.checked = 0

    def line(self, *path: str) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def add(self, kind: ProblemKind, name: str, crm_object: str, field: str, detail: str, *path: str) -> None:
        self.problems.append(SchemaProblem(kind, name, crm_object, field, detail, self.line(*path)))

    def run(self) -> SchemaCheck:
        for name, obj in self.doc.model.objects.items():
            self.check_object(name, obj)
        self.check_stages()
        return SchemaCheck(
            self.schema.crm, self.doc.source, self.schema.source, self.checked, tuple(self.problems)
        )

    def check_object(self, name: str, obj: ObjectMapping) -> None:
        target = self.schema.object(obj.crm_object)
        if target is None:
            known = ", ".join(o.name for o in self.schema.objects) or "none read"
            self.add(
                "missing_object",
                name,
                obj.crm_object,
                "",
                f"the CRM has no object {obj.crm_object!r} (objects read: {known})",
                "objects",
                name,
                "crm_object",
            )
            return
        for crm_field, rule in obj.fields.items():
            self.checked += 1
            self.check_field(name, target, crm_field, rule)
        for crm_field, required in obj.required.items():
            found = self.present(name, target, crm_field, ("objects", name, "required", crm_field))
            if found is not None and required.default is not None:
                self.check_constant(name, target, found, required.default, "required", crm_field)
        self.check_required(name, obj, target)
        stamps = [obj.stamp_field, obj.last_call_field] if name == CONTACT else [obj.stamp_field]
        for other in dict.fromkeys([obj.crm_object, *obj.match_objects]):
            where = self.schema.object(other)
            if where is None:
                if other != obj.crm_object:
                    self.add(
                        "missing_object",
                        name,
                        other,
                        "",
                        f"the CRM has no object {other!r} to look callers up in",
                        "objects",
                        name,
                        "match_objects",
                    )
                continue
            for stamp in stamps:
                if where.field(stamp) is None:
                    self.add(
                        "stamp_missing",
                        name,
                        other,
                        stamp,
                        "callsync's stamp field is absent (create it: `callsync schema check --create-stamps`, "
                        "or by an admin where the CRM's API cannot)",
                        "objects",
                        name,
                        "stamp_field" if stamp == obj.stamp_field else "last_call_field",
                    )

    def present(
        self, name: str, target: SchemaObject, crm_field: str, path: tuple[str, ...]
    ) -> SchemaField | None:
        found = target.field(crm_field)
        if found is None:
            close = difflib.get_close_matches(crm_field, [f.name for f in target.fields], n=1, cutoff=0.6)
            hint = f"; did it become {close[0]!r}?" if close else ""
            self.add(
                "missing_field",
                name,
                target.name,
                crm_field,
                f"{target.name} has no field {crm_field!r} (renamed or deleted?){hint}",
                *path,
            )
            return None
        if not found.writable:
            self.add(
                "not_writable", name, target.name, crm_field, f"{crm_field} is read-only in the CRM", *path
            )
        return found

    def check_field(self, name: str, target: SchemaObject, crm_field: str, rule: FieldMapping) -> None:
        path = ("objects", name, "fields", crm_field)
        found = self.present(name, target, crm_field, path)
        if found is None or found.kind in ("other",):
            return
        if found.kind in ("picklist", "multipicklist"):
            shown = ", ".join(o.value for o in found.options[:8]) + (" ..." if len(found.options) > 8 else "")
            self.add(
                "wrong_type",
                name,
                target.name,
                crm_field,
                f"{crm_field} is a picklist ({found.vendor_type}; options: {shown or 'none'}) but the call's "
                f"{rule.origin} is free text: most values would be refused",
                *path,
            )
            return
        if found.kind not in _FITS[rule.type]:
            self.add(
                "wrong_type",
                name,
                target.name,
                crm_field,
                f"the mapping sends a {rule.type} (from the call's {rule.origin}) to a {found.kind} field "
                f"({found.vendor_type})",
                *path,
            )
            return
        if rule.template is not None and found.max_length is not None:
            fixed = rule.template
            for placeholder in template_fields(rule.template):
                fixed = fixed.replace("{" + placeholder + "}", "")
            if len(fixed) > found.max_length:
                self.add(
                    "too_long",
                    name,
                    target.name,
                    crm_field,
                    f"the template's own text is {len(fixed)} characters; {crm_field} holds {found.max_length}",
                    *path,
                )

    def check_constant(
        self, name: str, target: SchemaObject, found: SchemaField, value: str, section: str, crm_field: str
    ) -> None:
        path = ("objects", name, section, crm_field)
        if found.kind in ("picklist", "multipicklist") and found.options and not found.accepts_option(value):
            shown = ", ".join(o.value for o in found.options[:12])
            self.add(
                "not_in_picklist",
                name,
                target.name,
                crm_field,
                f"default {value!r} is not one of {crm_field}'s picklist values ({shown})",
                *path,
            )
        if found.max_length is not None and len(value) > found.max_length:
            self.add(
                "too_long",
                name,
                target.name,
                crm_field,
                f"default {value!r} is {len(value)} characters; {crm_field} holds {found.max_length}",
                *path,
            )
        if found.kind == "number":
            try:
                float(value)
            except ValueError:
                self.add(
                    "wrong_type",
                    name,
                    target.name,
                    crm_field,
                    f"default {value!r} is not a number; {crm_field} is a {found.vendor_type} field",
                    *path,
                )

    def check_stages(self) -> None:
        """The stages the workflow actions move deals through must be values of the CRM's stage field."""
        pipelines = self.doc.model.actions.pipelines
        if not pipelines:
            return
        for name, obj in self.doc.model.objects.items():
            target = self.schema.object(obj.crm_object)
            stage = target.field(target.stage_field) if target and target.stage_field else None
            if target is None or stage is None or not stage.options:
                continue  # no stage field, or its stages are ids the CRM lists elsewhere: nothing to compare
            for pipeline_name, pipeline in pipelines.items():
                for value in pipeline.stages:
                    if not stage.accepts_option(value):
                        shown = ", ".join(o.value for o in stage.options[:12])
                        self.add(
                            "not_in_picklist",
                            name,
                            target.name,
                            stage.name,
                            f"actions.pipelines.{pipeline_name} names stage {value!r}, not one of "
                            f"{stage.name}'s values ({shown})",
                            "actions",
                            "pipelines",
                            pipeline_name,
                            "stages",
                        )

    def check_required(self, name: str, obj: ObjectMapping, target: SchemaObject) -> None:
        covered = {*obj.fields, *obj.required, obj.stamp_field}
        if name == CONTACT:
            covered.add(obj.last_call_field)
        resolved = {f.name for c in covered if (f := target.field(c)) is not None}
        for f in target.fields:
            if not f.required_on_create or f.name in resolved:
                continue
            if f.filled_from and any(
                target.field(src) is not None and src in covered for src in f.filled_from
            ):
                continue
            self.add(
                "required_not_covered",
                name,
                target.name,
                f.name,
                f"the CRM requires {f.name} on a new {target.name} record and the mapping neither maps it "
                f"nor declares it under `required:` (a default or review)",
                "objects",
                name,
                "required" if obj.required else "fields",
            )


def check_schema(
    doc: MappingDocument, schema: CRMSchema, lines: Mapping[tuple[str, ...], int] | None = None
) -> SchemaCheck:
    """Every problem the CRM's schema would cause the mapping's writes; `lines` from `mapping_lines`."""
    return _Checker(doc, schema, lines or {}).run()
