"""A Pipedrive mapping checked against the company's fields when it loads, with the file and line.

Pipedrive drops a field it does not know without a word, and custom fields are 40-character keys a
mapping may name by label: a misspelt label would lose its values silently. `check_mapping_fields` reads
the company's field lists once (the adapter caches them) and refuses the first mapped field that is
neither a key nor a label, as a `ConfigError` naming the file, the line and the reason. callsync's own
stamp fields are left out: `ensure_schema` creates them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from callsync.crm.pipedrive.adapter import FIELD_LISTS, PipedriveAdapter
from callsync.errors import ConfigError
from callsync.structure.mapping import MappingDocument


def _key_lines(source: str) -> dict[tuple[Any, ...], int]:
    """(objects, name, section, field) -> the line of that key, when the source is a readable file."""
    try:
        node = yaml.compose(Path(source).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return {}
    lines: dict[tuple[Any, ...], int] = {}

    def walk(current: yaml.Node, path: tuple[Any, ...]) -> None:
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                key = (*path, key_node.value)
                lines[key] = key_node.start_mark.line + 1
                walk(value_node, key)

    if node is not None:
        walk(node, ())
    return lines


def mapped_fields(document: MappingDocument) -> dict[str, dict[str, tuple[str, str]]]:
    """crm object -> {field name -> (mapping object, section)} of what the mapping writes, stamps aside."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for name, obj in document.model.objects.items():
        own = {obj.stamp_field, obj.last_call_field}
        fields = out.setdefault(obj.crm_object, {})
        for section, names in (("fields", obj.fields), ("required", obj.required)):
            for field in names:
                if field not in own:
                    fields.setdefault(field, (name, section))
    return out


async def check_mapping_fields(adapter: PipedriveAdapter, document: MappingDocument) -> None:
    """Raise ConfigError (file, line, reason) for the first mapped field the company does not have."""
    wanted = mapped_fields(document)
    for crm_object, fields in wanted.items():
        if crm_object not in FIELD_LISTS:
            line = _key_lines(document.source).get(
                ("objects", next(iter(fields.values()), ("", ""))[0], "crm_object")
            )
            raise ConfigError(
                f"Pipedrive has no object {crm_object!r} callsync writes (one of: {', '.join(FIELD_LISTS)})",
                document.source,
                line,
            )
    problems = await adapter.check_mapping({o: list(f) for o, f in wanted.items()})
    if not problems:
        return
    lines = _key_lines(document.source)
    crm_object, missing = next(iter(problems.items()))
    field = missing[0]
    obj, section = wanted[crm_object][field]
    labels = sorted(f.name for f in (await adapter.fields(crm_object)).values() if f.custom)
    hint = f" (its custom fields: {', '.join(labels)})" if labels else " (it has no custom fields)"
    raise ConfigError(
        f"Pipedrive {crm_object} has no field {field!r}: neither a key nor a label in "
        f"{FIELD_LISTS[crm_object]}{hint}; Pipedrive would drop its values silently",
        document.source,
        lines.get(("objects", obj, section, field)),
        f"objects.{obj}.{section}.{field}",
    )
