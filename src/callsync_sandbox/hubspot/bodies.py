"""Request body helpers: HubSpot's 400s for malformed inputs, ids and batch inputs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from callsync_sandbox.hubspot.errors import validation_error


def list_of_objects(raw: object, name: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise validation_error(f"`{name}` must be a list of objects")
    return raw


def string_list(raw: object, name: str) -> list[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise validation_error(f"`{name}` must be a list of strings")
    return raw


def int_field(body: Mapping[str, Any], name: str, default: int, *, minimum: int) -> int:
    raw = body.get(name, default)
    # `after` is a string cursor in HubSpot's responses, but clients echo it back as either type.
    text = str(raw) if is_int(raw) or isinstance(raw, str) else ""
    if not text.isdigit() or int(text) < minimum:
        raise validation_error(f"`{name}` must be a whole number, got {json.dumps(raw)}")
    return int(text)


def properties_field(body: Mapping[str, Any]) -> dict[str, Any]:
    raw = body.get("properties", {})
    if not isinstance(raw, dict):
        raise validation_error("`properties` must be an object mapping property names to values")
    return raw


def is_int(raw: object) -> TypeGuard[int]:
    return isinstance(raw, int) and not isinstance(raw, bool)


def input_id(item: Mapping[str, Any]) -> str:
    raw = item.get("id")
    if (is_int(raw) or isinstance(raw, str)) and str(raw):
        return str(raw)
    raise validation_error("Each input needs an `id`.")


def reject_duplicate_ids(inputs: Sequence[Mapping[str, Any]]) -> None:
    counts = Counter(input_id(item) for item in inputs)
    duplicates = sorted(record_id for record_id, count in counts.items() if count > 1)
    if duplicates:
        raise validation_error(f"Duplicate IDs found in batch input: [{', '.join(duplicates)}]")


def unique_trace_ids(inputs: Sequence[Mapping[str, Any]]) -> list[str] | None:
    """Trace ids when every input has a distinct one: only then does batch create answer per item."""
    traces = [item.get("objectWriteTraceId") for item in inputs]
    strings = [trace for trace in traces if isinstance(trace, str) and trace]
    return strings if inputs and len(set(strings)) == len(inputs) else None


def required_changes(body: Mapping[str, Any]) -> dict[str, Any]:
    properties = properties_field(body)
    if not properties:
        raise validation_error(
            "No properties found to update, please provide at least one.", context={"properties": ["{}"]}
        )
    return properties
