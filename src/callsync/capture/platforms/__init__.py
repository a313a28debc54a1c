"""Platform payload converters. Each turns one platform's end-of-call payload into a CallRecord.

The registry is what the ingest path and the delivery engine share: the webhook describes and converts an
event with it, the engine rebuilds the call from the stored payloads (`calls.raw_payload` and
`call_events`) with it. Payloads are always stored verbatim; conversion happens again on every read.
"""

from __future__ import annotations

from typing import Any

from callsync.capture.platforms.base import (
    EventInfo,
    IgnoredEvent,
    MalformedPayload,
    PlatformAdapter,
    UnknownEvent,
    check_numbers,
    decode_json_object,
)
from callsync.capture.platforms.bland import BlandAdapter
from callsync.capture.platforms.elevenlabs import ElevenLabsAdapter
from callsync.capture.platforms.generic import parse_generic_call
from callsync.capture.platforms.retell import RetellAdapter
from callsync.capture.platforms.twilio import TwilioAdapter
from callsync.capture.platforms.vapi import VapiAdapter
from callsync.errors import InputError
from callsync.models import CallRecord, Direction

GENERIC = "generic"


class GenericAdapter(PlatformAdapter):
    """The generic call JSON (DESIGN.md). One event per call: a second delivery is a duplicate."""

    name = GENERIC

    def classify(self, payload: dict[str, Any]) -> EventInfo:
        call_id = payload.get("call_id")
        outbound = payload.get("direction") == "outbound"
        business = payload.get("from") if outbound else payload.get("to")
        return EventInfo(
            event_key="call",
            call_id=call_id if isinstance(call_id, str) and call_id else None,
            number=business if isinstance(business, str) else None,
        )

    def convert(self, payload: dict[str, Any], tenant: str) -> CallRecord:
        call = parse_generic_call(payload, tenant=tenant)
        check_numbers((call.from_number, "from"), (call.to_number, "to"))
        if len(call.platform) > 40:
            raise InputError("longer than 40 characters", field="platform")
        return call


ADAPTERS: dict[str, PlatformAdapter] = {
    a.name: a
    for a in (
        GenericAdapter(),
        VapiAdapter(),
        RetellAdapter(),
        TwilioAdapter(),
        BlandAdapter(),
        ElevenLabsAdapter(),
    )
}
PLATFORMS: tuple[str, ...] = tuple(ADAPTERS)


def adapter(platform: str | None) -> PlatformAdapter:
    """The adapter for a payload format; None (rows stored before ingest kept formats) is the generic JSON."""
    try:
        return ADAPTERS[platform or GENERIC]
    except KeyError:
        raise InputError(f"no adapter for platform {platform!r}; known: {', '.join(PLATFORMS)}") from None


def to_call_record(platform: str, payload: dict[str, Any], tenant: str) -> CallRecord:
    """Convert one platform payload to a CallRecord; any problem is an InputError naming the field."""
    try:
        return adapter(platform).convert(payload, tenant)
    except InputError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise InputError(f"cannot read the {platform} payload: {type(exc).__name__}: {exc}") from exc


def record_from_payloads(platform: str | None, texts: list[str], tenant: str) -> CallRecord:
    """A stored call's record: its payloads (verbatim texts, in receipt order) decoded, merged by the
    platform's rule (the richest event, or Twilio's union of callbacks) and converted."""
    a = adapter(platform)
    try:
        payloads = [a.decode(t) for t in texts]
    except MalformedPayload as exc:
        raise InputError(str(exc)) from exc
    return to_call_record(a.name, a.merge(payloads) if len(payloads) > 1 else payloads[0], tenant)


__all__ = [
    "ADAPTERS",
    "GENERIC",
    "PLATFORMS",
    "Direction",
    "EventInfo",
    "GenericAdapter",
    "IgnoredEvent",
    "MalformedPayload",
    "PlatformAdapter",
    "UnknownEvent",
    "adapter",
    "decode_json_object",
    "record_from_payloads",
    "to_call_record",
]
