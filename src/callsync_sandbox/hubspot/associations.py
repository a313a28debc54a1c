"""v4 associations: HubSpot-defined type ids in both directions and their defaults."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from callsync_sandbox.hubspot.bodies import is_int
from callsync_sandbox.hubspot.errors import validation_error


@dataclass(frozen=True)
class _AssociationType:
    from_type: str
    to_type: str
    reverse_id: int
    label: str | None


def _association_types() -> dict[int, _AssociationType]:
    """HUBSPOT_DEFINED association type ids in both directions; the unlabelled one is a pair's default."""
    pairs = (
        ("contacts", "companies", 279, 280, None),
        ("contacts", "companies", 1, 2, "Primary"),
        ("deals", "contacts", 3, 4, None),
        ("deals", "companies", 341, 342, None),
        ("deals", "companies", 5, 6, "Primary"),
        ("calls", "contacts", 194, 193, None),
        ("calls", "companies", 182, 181, None),
        ("calls", "deals", 206, 205, None),
        ("notes", "contacts", 202, 201, None),
        ("notes", "companies", 190, 189, None),
        ("notes", "deals", 214, 213, None),
        ("tasks", "contacts", 204, 203, None),
        ("tasks", "companies", 192, 191, None),
        ("tasks", "deals", 216, 215, None),
        ("meetings", "contacts", 200, 199, None),
        ("meetings", "companies", 188, 187, None),
        ("meetings", "deals", 212, 211, None),
        ("tickets", "contacts", 16, 15, None),
        ("tickets", "companies", 339, 340, None),
        ("tickets", "deals", 28, 27, None),
    )
    types: dict[int, _AssociationType] = {}
    for from_type, to_type, forward, reverse, label in pairs:
        types[forward] = _AssociationType(from_type, to_type, reverse, label)
        types[reverse] = _AssociationType(to_type, from_type, forward, label)
    return types


ASSOCIATION_TYPES: Final = _association_types()
DEFAULT_ASSOCIATION: Final = {
    (spec.from_type, spec.to_type): type_id
    for type_id, spec in ASSOCIATION_TYPES.items()
    if spec.label is None
}


def association_type(spec: Mapping[str, Any]) -> tuple[int, _AssociationType]:
    """The HubSpot-defined association type an inline `types` entry names (labels are not emulated)."""
    type_id = spec.get("associationTypeId")
    if (
        spec.get("associationCategory") == "HUBSPOT_DEFINED"
        and is_int(type_id)
        and type_id in ASSOCIATION_TYPES
    ):
        return type_id, ASSOCIATION_TYPES[type_id]
    raise validation_error(f"Unknown association type {json.dumps(spec)}.")


class Associations:
    """The portal's association links: (from type, from id, to type) -> to id -> type ids."""

    def __init__(self) -> None:
        self._links: dict[tuple[str, str, str], dict[str, set[int]]] = {}

    def link(self, from_type: str, from_id: str, to_id: str, type_id: int) -> None:
        """Associate both ways, as HubSpot does: each side lists the other under its own type id."""
        association = ASSOCIATION_TYPES[type_id]
        forward = self._links.setdefault((from_type, from_id, association.to_type), {})
        forward.setdefault(to_id, set()).add(type_id)
        reverse = self._links.setdefault((association.to_type, to_id, from_type), {})
        reverse.setdefault(from_id, set()).add(association.reverse_id)

    def targets(self, from_type: str, from_id: str, to_type: str) -> dict[str, set[int]]:
        return {to_id: set(ids) for to_id, ids in self._links.get((from_type, from_id, to_type), {}).items()}


def association_results(targets: Mapping[str, set[int]]) -> list[dict[str, Any]]:
    """The v4 list answer: each target with its HubSpot-defined association types, by id."""
    return [
        {
            "toObjectId": int(to_id),
            "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": ASSOCIATION_TYPES[type_id].label}
                for type_id in sorted(targets[to_id])
            ],
        }
        for to_id in sorted(targets, key=int)
    ]
