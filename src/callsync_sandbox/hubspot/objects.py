"""Object types, their aliases in paths, timestamps and ids: facts every other module shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

OBJECT_TYPES: Final = ("contacts", "companies", "deals", "calls", "notes", "tasks", "meetings", "tickets")

FIRST_ID: Final = 1001
PORTAL_ID: Final = 12345678
CORRELATION_KEY: Final = "callsync.hubspot.correlation_id"
SINGULAR: Final = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "calls": "call",
    "notes": "note",
    "tasks": "task",
    "meetings": "meeting",
    "tickets": "ticket",
}
# HubSpot also accepts the singular name and the numeric object type id in paths.
OBJECT_TYPE_IDS: Final = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "calls": "0-48",
    "notes": "0-46",
    "tasks": "0-27",
    "meetings": "0-47",
    "tickets": "0-5",
}
TYPE_ALIASES: Final = {
    alias: name for name in OBJECT_TYPES for alias in (name, SINGULAR[name], OBJECT_TYPE_IDS[name])
}
# HubSpot is inconsistent here, and clients must be too: contacts use `lastmodifieddate`, companies and
# deals `hs_lastmodifieddate`, and engagements prefix both timestamps with `hs_`.
TIMESTAMP_PROPERTIES: Final = {
    "contacts": ("createdate", "lastmodifieddate"),
    "companies": ("createdate", "hs_lastmodifieddate"),
    "deals": ("createdate", "hs_lastmodifieddate"),
    "calls": ("hs_createdate", "hs_lastmodifieddate"),
    "notes": ("hs_createdate", "hs_lastmodifieddate"),
    "tasks": ("hs_createdate", "hs_lastmodifieddate"),
    "meetings": ("hs_createdate", "hs_lastmodifieddate"),
    "tickets": ("createdate", "hs_lastmodifieddate"),
}


def now_iso() -> str:
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_datetime(text: str) -> datetime | None:
    """HubSpot takes datetimes as epoch milliseconds or ISO 8601; naive ISO values are UTC."""
    try:
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
