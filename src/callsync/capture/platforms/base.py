"""What every platform adapter shares: the event description, the errors, and tolerant JSON accessors.

Vendors change payloads often (shared notes: voice-webhooks.md), so adapters read every path with these
accessors: a missing or mistyped value is None, never an exception. Only the conversion to a CallRecord
may refuse a payload, with an `InputError` naming the field (the webhook quarantines it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from callsync.errors import InputError
from callsync.models import CallRecord, Direction, Speaker, Turn


class MalformedPayload(ValueError):
    """The body is not the shape any event of this platform can have (not JSON, not an object): 400."""


class UnknownEvent(ValueError):
    """An event type this adapter does not know: 422, nothing stored."""


class IgnoredEvent(Exception):
    """A known event that is not a finished call (a status update, a live transcript): acknowledged, not stored."""

    def __init__(self, event: str, reason: str) -> None:
        super().__init__(reason)
        self.event = event
        self.reason = reason


@dataclass(frozen=True)
class EventInfo:
    """What the ingest path must know about an event before converting it: its idempotency key, the call it
    belongs to (None when the payload has none: it is quarantined), and the keys that route it to a tenant."""

    event_key: str
    call_id: str | None
    number: str | None = None  # the business line the call reached or came from
    assistant_id: str | None = None  # the platform's assistant / agent id (Twilio: the account sid)
    rank: int = 1  # when several events of one call are stored, the highest rank (then the latest) wins


def decode_json_object(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise MalformedPayload(f"malformed JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedPayload(f"expected a JSON object, got {type(payload).__name__}")
    return payload


def obj(data: Any, *path: str) -> dict[str, Any]:
    """The object at `path`, or {} when any step is missing or not an object."""
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def text(data: Any, *path: str) -> str | None:
    """A non-empty string (numbers are accepted and rendered) at `path`, or None."""
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    if isinstance(data, bool) or data is None:
        return None
    if isinstance(data, int | float):
        return str(data)
    return data if isinstance(data, str) and data.strip() else None


def number(data: Any, *path: str) -> float | None:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    if isinstance(data, bool):
        return None
    if isinstance(data, int | float):
        return float(data)
    if isinstance(data, str):
        try:
            return float(data)
        except ValueError:
            return None
    return None


def items(data: Any, *path: str) -> list[dict[str, Any]]:
    """The objects of the list at `path` (non-objects skipped)."""
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return [x for x in data if isinstance(x, dict)] if isinstance(data, list) else []


def first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def iso_time(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 time; naive times are UTC. A present but unreadable value refuses the payload."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"not an ISO 8601 time: {value!r}", field=field) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch_time(value: float | None, field: str, *, millis: bool) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value / 1000 if millis else value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InputError(f"not a usable epoch time: {value!r}", field=field) from exc


def rfc2822_time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"not an RFC 2822 time: {value!r}", field=field) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plus_seconds(start: datetime | None, seconds: float | None) -> datetime | None:
    if start is None or seconds is None or not 0 <= seconds < 10 * 86400:
        return None
    return start + timedelta(seconds=seconds)


_PREFIXED_LINE = re.compile(r"^\s*([A-Za-z_ -]{1,20}):\s*(.*\S)\s*$")


def turns_from_text(transcript: str | None, roles: dict[str, str]) -> list[tuple[str, str]]:
    """(speaker, text) pairs from a transcript written as `Role: words` lines; unknown roles are skipped."""
    out: list[tuple[str, str]] = []
    for line in (transcript or "").splitlines():
        m = _PREFIXED_LINE.match(line)
        if m and (speaker := roles.get(m.group(1).strip().lower())):
            out.append((speaker, m.group(2)))
    return out


def structured(*sources: Any) -> dict[str, Any]:
    """Merge the platform's structured-extraction objects into one `structured_data` for the grounding
    check (capture/extract/grounding.py): values are checked against the transcript, never trusted."""
    out: dict[str, Any] = {}
    for source in sources:
        if isinstance(source, dict):
            out.update({str(k): v for k, v in source.items()})
    return out


def e164ish(value: str | None) -> str | None:
    """A phone number as the platform sent it, stripped; SIP URIs and client names are not numbers."""
    if value is None:
        return None
    value = value.strip()
    if value.lower().startswith(("sip:", "client:")):
        return None
    return value or None


class PlatformAdapter:
    """One platform's payloads: decode the body, describe the event, convert it to a CallRecord."""

    name: str = ""
    # Content types the webhook accepts (the media type only, parameters such as charset are ignored).
    content_types: tuple[str, ...] = ("application/json",)

    def decode(self, body: str) -> dict[str, Any]:
        return decode_json_object(body)

    def classify(self, payload: dict[str, Any]) -> EventInfo:
        """Describe the event; raises UnknownEvent or IgnoredEvent. Must accept any JSON object."""
        raise NotImplementedError

    def convert(self, payload: dict[str, Any], tenant: str) -> CallRecord:
        """The CallRecord of a stored payload; raises InputError (naming the field) when it cannot."""
        raise NotImplementedError

    def merge(self, payloads: list[dict[str, Any]]) -> dict[str, Any]:
        """The payload a call's record is built from, given every stored event in receipt order: by
        default the highest-ranked one, the latest on a tie (a later delivery of a richer event wins)."""
        best, best_rank = payloads[0], -1
        for payload in payloads:
            try:
                rank = self.classify(payload).rank
            except (UnknownEvent, IgnoredEvent):
                rank = 0
            if rank >= best_rank:
                best, best_rank = payload, rank
        return best


def check_numbers(*numbers: tuple[str | None, str]) -> None:
    """(value, field) pairs: a "number" longer than 40 characters is not one (and would not fit the column)."""
    for value, field in numbers:
        if value is not None and len(value) > 40:
            raise InputError("not a phone number (longer than 40 characters)", field=field)


def call_record(
    *,
    tenant: str,
    platform: str,
    call_id: str | None,
    direction: Direction,
    customer: str | None,
    business: str | None,
    started_at: datetime | None,
    ended_at: datetime | None,
    turns: list[tuple[str, str, float | None, float | None]],
    recording_url: str | None,
    analysis: dict[str, Any],
    raw: dict[str, Any],
    id_field: str,
) -> CallRecord:
    """Assemble a CallRecord: customer/business numbers are placed in from/to by direction."""
    if not call_id:
        raise InputError("the call id is missing", field=id_field)
    if len(call_id) > 200:
        raise InputError("the call id is longer than 200 characters", field=id_field)
    check_numbers((customer, "customer number"), (business, "business number"))
    frm, to = (customer, business) if direction is Direction.INBOUND else (business, customer)
    return CallRecord(
        tenant=tenant,
        platform=platform,
        call_id=call_id,
        direction=direction,
        from_number=frm,
        to_number=to,
        started_at=started_at,
        ended_at=ended_at,
        turns=tuple(Turn(Speaker(s), t, start, end) for s, t, start, end in turns),
        recording_url=recording_url,
        analysis=analysis,
        raw=raw,
    )
