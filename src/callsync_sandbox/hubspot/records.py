"""Records and the versions of them that the search index sees (after the search lag)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Version:
    """What the search index holds for a record from `visible_at` (monotonic seconds) on."""

    visible_at: float
    properties: dict[str, str]
    updated_at: str


@dataclass
class Record:
    id: str
    object_type: str
    properties: dict[str, str]
    created_at: str
    updated_at: str
    archived: bool = False
    versions: list[Version] = field(default_factory=list)

    def publish(self, visible_at: float, now: float) -> None:
        """Queue the current state for the search index and forget versions nobody can see any more."""
        self.versions.append(Version(visible_at, dict(self.properties), self.updated_at))
        visible = [index for index, version in enumerate(self.versions) if version.visible_at <= now]
        if visible:
            self.versions = self.versions[visible[-1] :]

    def indexed(self, now: float) -> Version | None:
        visible = [version for version in self.versions if version.visible_at <= now]
        return visible[-1] if visible else None


def record_json(record: Record, wanted: Iterable[str], version: Version | None = None) -> dict[str, Any]:
    """A record as HubSpot returns it; with `version`, as the search index saw it."""
    source = record.properties if version is None else version.properties
    return {
        "id": record.id,
        "properties": {name: source.get(name) for name in sorted(set(wanted))},
        "createdAt": record.created_at,
        "updatedAt": record.updated_at if version is None else version.updated_at,
        "archived": record.archived,
    }


def merge(properties: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    merged = dict(properties)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged
