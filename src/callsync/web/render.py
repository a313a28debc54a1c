"""Jinja2 filters of the dashboard: values, times, durations, percentages (autoescaped by Jinja2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment


def value(v: Any, width: int = 120) -> str:
    """A field value as a person reads it: strings as they are, anything else as compact JSON."""
    if v is None:
        return "—"
    text = v if isinstance(v, str) else json.dumps(v, default=str, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def percent(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def seconds(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.1f} s" if x < 120 else f"{x / 60:.1f} min"


def pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)[:200_000]
    except ValueError:
        return text[:200_000]


def install(env: Environment) -> None:
    env.filters.update(value=value, when=when, percent=percent, seconds=seconds, pretty_json=pretty_json)
    env.globals["zip"] = zip
    env.autoescape = True
