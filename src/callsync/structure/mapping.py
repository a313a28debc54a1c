"""The mapping document: which canonical field goes to which CRM field, under which conflict policy.

Loaded from YAML with line numbers kept, so every refusal names the field and the line to fix. A key given
twice in one mapping is refused naming both lines (plain YAML loaders silently keep the last one).
There is no global default policy: a mapped field without one is a configuration error.

The caller ID (the caller's own line, extracted as the `caller_id` field) is used by default: as an identity
key of objects that match on phone, and as the value of fields mapped `from: phone` when the caller spoke no
number. `caller_id: false` at the top level turns that off for every object; on an object, for that object.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callsync.actions.rules import ActionsBlock, check_rule
from callsync.errors import ConfigError
from callsync.models import CANONICAL_FIELDS
from callsync.reconcile.policy import ConflictPolicy

MatchKey = Literal["email", "phone", "name"]
FieldType = Literal["string", "email", "phone", "number", "date", "time", "datetime"]

_POLICIES = ", ".join(p.value for p in ConflictPolicy)


class FieldMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str | None = Field(default=None, alias="from")
    # A text built from canonical fields, e.g. "{full_name} - {company}" (a deal name): written only when
    # every placeholder has an accepted value.
    template: str | None = None
    policy: ConflictPolicy
    type: FieldType = "string"

    @field_validator("source")
    @classmethod
    def _canonical(cls, value: str | None) -> str | None:
        if value is not None and value not in CANONICAL_FIELDS:
            raise ValueError(f"unknown canonical field {value!r}; known: {', '.join(CANONICAL_FIELDS)}")
        return value

    @field_validator("template")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        if value is not None:
            unknown = [name for name in template_fields(value) if name not in CANONICAL_FIELDS]
            if unknown:
                raise ValueError(f"unknown canonical field(s) in template: {', '.join(unknown)}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> FieldMapping:
        if (self.source is None) == (self.template is None):
            raise ValueError("give exactly one of `from: FIELD` or `template: TEXT`")
        return self

    @property
    def origin(self) -> str:
        """What the value comes from, for explanations and the ledger."""
        return self.source or f"template {self.template!r}"


def template_fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


class CreateWhen(BaseModel):
    """When a call creates this object (a deal): any listed intent, or any listed field accepted."""

    model_config = ConfigDict(extra="forbid")

    intent: list[str] = Field(default_factory=list)
    any_field: list[str] = Field(default_factory=list)

    @field_validator("any_field")
    @classmethod
    def _canonical(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in CANONICAL_FIELDS]
        if unknown:
            raise ValueError(f"unknown canonical field(s): {', '.join(unknown)}")
        return value


class RequiredField(BaseModel):
    """What to do when a required CRM field has no value: use a default, or send the record to review."""

    model_config = ConfigDict(extra="forbid")

    default: str | None = None
    review: bool = False


class ObjectMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    crm_object: str
    # The objects a caller is looked up in (Salesforce/Zoho: Lead and Contact); new callers become
    # `crm_object`, which must be one of them. Empty means [crm_object].
    match_objects: list[str] = Field(default_factory=list)
    match_on: list[MatchKey] = Field(default_factory=lambda: list[MatchKey](["email", "phone"]))
    stamp_field: str = "callsync_origin_call_id"
    last_call_field: str = "callsync_last_call_id"
    fields: dict[str, FieldMapping]
    required: dict[str, RequiredField] = Field(default_factory=dict)
    # Objects other than the contact: when the call creates one (absent: whenever its fields have values)
    # and which objects it must be linked to. A record whose required link cannot be resolved waits in
    # review instead of being created orphaned.
    create_when: CreateWhen | None = None
    links: list[str] = Field(default_factory=list)
    # Use the caller ID as a phone value and identity key for this object; None: the document's setting.
    caller_id: bool | None = None


class MappingModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Which CRM the mapping is written for: checked against the registered kinds and the tenant's CRM when
    # a tenant loads it (config.py); structure itself knows no CRM.
    crm: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    version: int = 1
    # Use the caller ID (see the module docstring); an object's own `caller_id` overrides this.
    caller_id: bool = True
    objects: dict[str, ObjectMapping]
    # Workflow actions (docs/actions.md): what the call decided, done in the CRM.
    actions: ActionsBlock = Field(default_factory=ActionsBlock)

    @model_validator(mode="after")
    def _objects(self) -> MappingModel:
        if "contact" not in self.objects:
            raise ValueError("a mapping needs a `contact` object: the person who called")
        for name, obj in self.objects.items():
            unknown = [link for link in obj.links if link not in self.objects or link == name]
            if unknown:
                raise ValueError(f"objects.{name}.links: no object named {', '.join(unknown)} to link to")
        return self


@dataclass(frozen=True)
class MappingDocument:
    model: MappingModel
    source: str
    digest: str  # sha256 of the document's bytes: part of the integration version in the ledger
    # Line of each key path, for refusals made after parsing (an action the tenant's CRM cannot do).
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict, compare=False)

    def line_of(self, *path: Any) -> int | None:
        return _line_for(path, self.lines)

    @property
    def crm(self) -> str:
        return self.model.crm

    def object(self, name: str) -> ObjectMapping:
        return self.model.objects[name]

    def uses_caller_id(self, name: str) -> bool:
        """Whether object `name` may take the caller ID as a phone value and identity key."""
        own = self.model.objects[name].caller_id
        return self.model.caller_id if own is None else own


def _refuse_duplicate_keys(node: yaml.Node, path: tuple[Any, ...], source: str) -> None:
    """A key twice in one YAML mapping: the loader would keep the last silently, so the first is lost."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key is not None and key in seen:
                where = ".".join(str(p) for p in (*path, key))
                raise ConfigError(
                    f"duplicate key {key!r} on lines {seen[key]} and {line}: YAML would keep only the "
                    "last one; remove or rename one of them",
                    source,
                    line,
                    where,
                )
            if key is not None:
                seen[key] = line
            _refuse_duplicate_keys(value_node, (*path, key), source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(item, (*path, i), source)


def _line_index(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            _line_index(value_node, (*path, key), out)
            # The key's own line is where a reader looks for the field, not its value's.
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), out)


def _line_for(loc: Sequence[Any], lines: dict[tuple[Any, ...], int]) -> int | None:
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _explain(error: dict[str, Any]) -> tuple[str, str]:
    """A pydantic error as (field path, message) in the document's own terms."""
    loc = [str(p) for p in error["loc"]]
    if error["type"] == "missing" and loc and loc[-1] == "policy":
        return ".".join(loc[:-1]), f"no conflict policy declared; choose one of {_POLICIES}"
    if error["type"] == "enum" and loc and loc[-1] == "policy":
        return ".".join(loc[:-1]), f"unknown policy {error['input']!r}; choose one of {_POLICIES}"
    if error["type"] == "missing" and loc and loc[-1] == "from":
        return ".".join(loc[:-1]), "no canonical field given (`from:`)"
    if error["type"] == "extra_forbidden":
        return ".".join(loc), "unknown key"
    return ".".join(loc), str(error["msg"]).removeprefix("Value error, ")


def parse_mapping(text: str, source: str = "<mapping>") -> MappingDocument:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {exc}", source, mark.line + 1 if mark else None) from exc
    if node is None or not isinstance(data, dict):
        raise ConfigError("a mapping document must be a YAML mapping with `crm` and `objects`", source, 1)
    _refuse_duplicate_keys(node, (), source)
    lines: dict[tuple[Any, ...], int] = {}
    _line_index(node, (), lines)
    try:
        model = MappingModel.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where, message = _explain(dict(first))
        raise ConfigError(message, source, _line_for(first["loc"], lines), where or None) from exc
    for obj_name, obj in model.objects.items():
        if obj.match_objects and obj.crm_object not in obj.match_objects:
            raise ConfigError(
                f"match_objects must include crm_object {obj.crm_object!r}, or existing records of it "
                "would never be found",
                source,
                _line_for(("objects", obj_name, "match_objects"), lines),
                f"objects.{obj_name}.match_objects",
            )
        for crm_field, rule in obj.required.items():
            if (rule.default is None) == (not rule.review):
                raise ConfigError(
                    "a required field needs exactly one of `default: VALUE` or `review: true`",
                    source,
                    _line_for(("objects", obj_name, "required", crm_field), lines),
                    f"objects.{obj_name}.required.{crm_field}",
                )
    for i, action_rule in enumerate(model.actions.rules):
        fault = check_rule(model.actions, action_rule)
        if fault is not None:
            key, reason = fault
            path = ("actions", "rules", i, *key.split("."))
            raise ConfigError(reason, source, _line_for(path, lines), f"actions.rules.{action_rule.name}.{key}")
    digest = hashlib.sha256(text.encode()).hexdigest()
    return MappingDocument(model=model, source=source, digest=digest, lines=lines)


def load_mapping(path: str | Path) -> MappingDocument:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read mapping document: {exc.strerror}", str(p)) from exc
    return parse_mapping(text, str(p))
