"""The written field-mapping document a customer signs off before go-live (`callsync mapping doc`).

Pure: a mapping document in, Markdown or HTML out. For every spoken thing it says which CRM object and
field it goes to, its type and how the value is coerced, what happens when a required field has no value
(a default, or the record waits in review: never a half-filled record), the field's conflict policy in
one sentence, and its source of truth; then the workflow actions and their rules, and the integration
version every ledger row written under this mapping carries.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Final, Literal

from callsync import __version__
from callsync.actions import explain_rule
from callsync.reconcile.policy import POLICY_RULES, PROTECTED_RULE, ConflictPolicy
from callsync.structure.mapping import FieldType, MappingDocument, ObjectMapping

__all__ = [
    "COERCION",
    "SOURCE_OF_TRUTH",
    "ActionLine",
    "DocFormat",
    "FieldLine",
    "MappingDoc",
    "build_mapping_doc",
    "integration_version",
    "render",
]

DocFormat = Literal["md", "html"]

# How the call's value is turned into what the field takes (structure/payload.py `coerce`).
COERCION: Final[dict[FieldType, str]] = {
    "string": "text, trimmed; empty text is not written",
    "email": "an email address, lower-cased and checked; anything else is not written",
    "phone": "an E.164 number (+ country code) in the tenant's default country; anything else is not written",
    "number": "a number (a whole number when it has no fraction); anything else is not written",
    "date": "a date as extracted (YYYY-MM-DD)",
    "time": "a time of day as extracted (HH:MM)",
    "datetime": "a moment as extracted (ISO 8601)",
}
# Who holds the truth of a field under each policy, in the words of the contract's source-of-truth line.
SOURCE_OF_TRUTH: Final[dict[ConflictPolicy, str]] = {
    ConflictPolicy.CALL_WINS: "the latest call (a value a person set in the CRM wins over it)",
    ConflictPolicy.NEWEST_WINS: "the most recent call (a value a person set in the CRM wins over it)",
    ConflictPolicy.HIGHER_CONFIDENCE_WINS: "the most confident call (a value a person set wins over it)",
    ConflictPolicy.CRM_WINS: "the CRM (a call sets it only on a record it creates)",
    ConflictPolicy.FILL_IF_EMPTY: "the CRM once it holds a value (a call only fills an empty field)",
    ConflictPolicy.APPEND_UNIQUE: "both: calls append their values, nothing is removed",
}


def integration_version(doc: MappingDocument) -> str:
    """What every ledger row written under this mapping carries (pipeline/engine.py's Runtime)."""
    return f"callsync {__version__}+map.{doc.digest[:12]}"


@dataclass(frozen=True, slots=True)
class FieldLine:
    object_name: str
    crm_object: str
    crm_field: str
    spoken: str  # the canonical field, or the template
    type: FieldType
    coercion: str
    required: str  # "" when the CRM field is not declared required
    policy: str
    policy_sentence: str
    source_of_truth: str


@dataclass(frozen=True, slots=True)
class ActionLine:
    """One workflow action rule (src/callsync/actions), in one sentence."""

    name: str
    does: str
    sentence: str


@dataclass(frozen=True, slots=True)
class ObjectSection:
    name: str
    crm_object: str
    how: tuple[str, ...]  # sentences: lookup, creation, links, stamps
    required: tuple[str, ...]  # sentences: each required field's handling


@dataclass(frozen=True, slots=True)
class MappingDoc:
    title: str
    mapping: str
    crm: str
    version: int
    integration_version: str
    caller_id: str
    objects: tuple[ObjectSection, ...]
    fields: tuple[FieldLine, ...]
    actions: tuple[ActionLine, ...]


def _required(obj: ObjectMapping, crm_field: str) -> str:
    rule = obj.required.get(crm_field)
    if rule is None:
        return ""
    if rule.review:
        return "required: without a value the whole record waits in review"
    return f'required: without a value it is set to "{rule.default}"'


def _policy_sentence(policy: ConflictPolicy, origin: str) -> str:
    protection = (
        "a value already in the CRM is kept, so nothing goes to review"
        if policy in (ConflictPolicy.FILL_IF_EMPTY, ConflictPolicy.CRM_WINS)
        else PROTECTED_RULE
    )
    return f"From the call's {origin}, {POLICY_RULES[policy]}; and {protection}."


def _how(doc: MappingDocument, name: str, obj: ObjectMapping) -> tuple[str, ...]:
    if name == "contact":
        lookup = ", ".join(obj.match_objects or [obj.crm_object])
        keys = ", then ".join(k for k in obj.match_on if k != "name") or "nothing"
        lines = [f"Callers are looked up in {lookup} by {keys}; a name alone never matches a person."]
        if doc.uses_caller_id(name) and "phone" in obj.match_on:
            lines.append(
                "The caller's own line is an identity key, and the phone value when no number was said."
            )
    else:
        exact = ", or by its exact name" if "name" in obj.match_on else ""
        lines = [f"An existing {obj.crm_object} record is found by this call's stamp{exact}."]
    if obj.create_when is None:
        lines.append(
            f"A call creates or updates one {obj.crm_object} record whenever its fields have values."
        )
    else:
        why = (
            [f"the call's intent is {' or '.join(obj.create_when.intent)}"] if obj.create_when.intent else []
        )
        why += (
            [f"the caller gave {' or '.join(obj.create_when.any_field)}"] if obj.create_when.any_field else []
        )
        lines.append(f"A {obj.crm_object} record is created only when {' or '.join(why) or 'never'}.")
    if obj.links:
        lines.append(
            f"It is linked to the call's {' and '.join(obj.links)}; without a resolvable link it waits in "
            "review instead of being created orphaned."
        )
    stamps = f"`{obj.stamp_field}` (the call that created it)"
    if name == "contact":
        stamps += f" and `{obj.last_call_field}` (the last call that wrote it)"
    lines.append(f"Each record callsync creates is stamped with {stamps}, so a retry never doubles it.")
    return tuple(lines)


def _actions(doc: MappingDocument) -> tuple[ActionLine, ...]:
    """The mapping's workflow action rules, each in the sentence `callsync actions explain` prints."""
    block = doc.model.actions
    return tuple(ActionLine(r.name, r.do.value, explain_rule(block, r)) for r in block.rules)


def build_mapping_doc(doc: MappingDocument, title: str = "") -> MappingDoc:
    fields: list[FieldLine] = []
    sections: list[ObjectSection] = []
    for name, obj in doc.model.objects.items():
        for crm_field, rule in obj.fields.items():
            fields.append(
                FieldLine(
                    object_name=name,
                    crm_object=obj.crm_object,
                    crm_field=crm_field,
                    spoken=rule.source or f"template {rule.template!r}",
                    type=rule.type,
                    coercion=COERCION[rule.type]
                    if rule.template is None
                    else "text; written only when every placeholder has an accepted value",
                    required=_required(obj, crm_field),
                    policy=rule.policy.value,
                    policy_sentence=_policy_sentence(rule.policy, rule.origin),
                    source_of_truth=SOURCE_OF_TRUTH[rule.policy],
                )
            )
        required = tuple(
            f"{obj.crm_object}.{f}: {_required(obj, f)}." for f in obj.required if f not in obj.fields
        ) + tuple(f"{obj.crm_object}.{f}: {_required(obj, f)}." for f in obj.required if f in obj.fields)
        sections.append(ObjectSection(name, obj.crm_object, _how(doc, name, obj), required))
    caller_id = (
        "The caller ID (the caller's own line) is used as an identity key and as the phone value when no "
        "number was said; withheld numbers and the tenant's own numbers never are."
        if doc.model.caller_id
        else "The caller ID is not used (caller_id: false)."
    )
    return MappingDoc(
        title=title or f"Field mapping: calls → {doc.crm}",
        mapping=doc.source,
        crm=doc.crm,
        version=doc.model.version,
        integration_version=integration_version(doc),
        caller_id=caller_id,
        objects=tuple(sections),
        fields=tuple(fields),
        actions=_actions(doc),
    )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(d: MappingDoc) -> str:
    out = [
        f"# {d.title}",
        "",
        f"- Mapping document: `{d.mapping}`",
        f"- CRM: {d.crm}",
        f"- Mapping version: {d.version}",
        f"- Integration version (carried by every ledger row written under this mapping): `{d.integration_version}`",
        f"- {d.caller_id}",
        "",
        "## Fields",
        "",
        "| spoken thing | CRM object.field | type and coercion | required-field handling | conflict policy "
        "| source of truth |",
        "|---|---|---|---|---|---|",
    ]
    for f in d.fields:
        cells = (
            f.spoken,
            f"{f.crm_object}.{f.crm_field}",
            f"{f.type}: {f.coercion}",
            f.required or "not required",
            f"`{f.policy}`: {f.policy_sentence}",
            f.source_of_truth,
        )
        out.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    out += ["", "## Objects", ""]
    for s in d.objects:
        out += [f"### {s.name} → {s.crm_object}", ""]
        out += [f"- {line}" for line in s.how]
        if s.required:
            out += ["- Required fields (never a half-filled record):"]
            out += [f"  - {line}" for line in s.required]
        out.append("")
    out += ["## Actions", ""]
    if not d.actions:
        out.append("No workflow actions are declared (the mapping has no `actions:` rules).")
    else:
        out += [f"- {a.sentence}" for a in d.actions]
    out.append("")
    return "\n".join(out)


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def render_html(d: MappingDoc) -> str:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{_h(c)}</td>"
            for c in (
                f.spoken,
                f"{f.crm_object}.{f.crm_field}",
                f"{f.type}: {f.coercion}",
                f.required or "not required",
                f"{f.policy}: {f.policy_sentence}",
                f.source_of_truth,
            )
        )
        + "</tr>"
        for f in d.fields
    )
    objects = "".join(
        f"<h3>{_h(s.name)} → {_h(s.crm_object)}</h3><ul>"
        + "".join(f"<li>{_h(line)}</li>" for line in (*s.how, *s.required))
        + "</ul>"
        for s in d.objects
    )
    if not d.actions:
        actions = "<p>No workflow actions are declared (the mapping has no <code>actions:</code> rules).</p>"
    else:
        actions = "<ul>" + "".join(f"<li>{_h(a.sentence)}</li>" for a in d.actions) + "</ul>"
    head = (
        "<th>spoken thing</th><th>CRM object.field</th><th>type and coercion</th>"
        "<th>required-field handling</th><th>conflict policy</th><th>source of truth</th>"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_h(d.title)}</title></head><body>'
        f"<h1>{_h(d.title)}</h1><ul>"
        f"<li>Mapping document: <code>{_h(d.mapping)}</code></li><li>CRM: {_h(d.crm)}</li>"
        f"<li>Mapping version: {d.version}</li>"
        f"<li>Integration version (carried by every ledger row written under this mapping): "
        f"<code>{_h(d.integration_version)}</code></li><li>{_h(d.caller_id)}</li></ul>"
        f"<h2>Fields</h2><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        f"<h2>Objects</h2>{objects}<h2>Actions</h2>{actions}</body></html>\n"
    )


def render(doc: MappingDocument, fmt: DocFormat = "md", title: str = "") -> str:
    built = build_mapping_doc(doc, title)
    return render_html(built) if fmt == "html" else render_markdown(built)
