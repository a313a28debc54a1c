"""Plain renderings shared by the commands: no Python `None`, no dict or list reprs reach a user."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

MISSING = "—"


def plain(value: Any, width: int | None = None) -> str:
    """A value as a person reads it: "—" for nothing, lists joined by commas, mappings as `key value`
    pairs (empty parts left out), everything else as its text; cut to `width` with "…"."""
    text = _plain(value)
    if width is not None and len(text) > width:
        return text[: width - 1] + "…"
    return text


def _plain(value: Any) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        parts = [f"{k} {_plain(v)}" for k, v in value.items() if v not in (None, "", [], {})]
        return ", ".join(parts) or MISSING
    if isinstance(value, list | tuple | set):
        return ", ".join(_plain(v) for v in value) or MISSING
    if isinstance(value, datetime):
        return when(value)
    return str(value)


def when(moment: datetime | None) -> str:
    """A moment in UTC to the second, "—" when unknown."""
    if moment is None:
        return MISSING
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
