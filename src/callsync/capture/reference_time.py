"""A reference moment for calls that carry none: `callsync extract --today DATE --timezone ZONE`.

Task dialogues and hand-made test calls often have no `started_at`, so "tomorrow" or "Friday" cannot be
resolved (docs/extraction.md: without a start time no relative date is). Given a reference date, such a call
is read as if it started at noon that day in its own zone (its `timezone`, else the one given): noon keeps
the local date the same in every zone. Calls that carry a start time keep it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callsync.models import CallRecord

NOON = time(12, 0)


class ReferenceTimeError(ValueError):
    """A --today or --timezone value that is not a date or not an IANA zone."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReferenceTimeError(f"unknown IANA time zone {name!r} (e.g. America/New_York)") from None


def reference_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReferenceTimeError(f"--today {value!r} is not a date (YYYY-MM-DD)") from None


def with_reference_date(call: CallRecord | None, today: str | None, timezone: str) -> CallRecord | None:
    """The call with `started_at` set to noon of `today` in its zone when it has none; checks both values."""
    fallback = zone(timezone)
    day = reference_date(today) if today is not None else None
    if call is None or day is None or call.started_at is not None:
        return call
    local = zone(call.timezone) if call.timezone else fallback
    return replace(call, started_at=datetime.combine(day, NOON, tzinfo=local))
