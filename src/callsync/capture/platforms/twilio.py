"""Twilio: call status callbacks, recording status callbacks and Conversational Intelligence transcript
webhooks, merged into one call by CallSid (voice-webhooks.md §4).

Voice callbacks are `application/x-www-form-urlencoded`; the Intelligence webhook may be JSON or a form.
Each event is stored verbatim; the call is the union of its events' parameters. Transcript turns are read
from `sentences` (Intelligence `…/Transcripts/{GT}/Sentences` items) when the event carries them; the
speaker of a media channel comes from `channel.participants[].role` when present, else channel 1 is the
customer and channel 2 the agent (Twilio's channel order depends on the call leg: unconfirmed).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from callsync.capture.platforms.base import (
    EventInfo,
    IgnoredEvent,
    MalformedPayload,
    PlatformAdapter,
    UnknownEvent,
    call_record,
    decode_json_object,
    e164ish,
    first,
    items,
    number,
    obj,
    rfc2822_time,
    text,
)
from callsync.errors import InputError
from callsync.models import CallRecord, Direction

CALL_STATUSES = frozenset(
    {"queued", "initiated", "ringing", "in-progress", "answered", "busy", "failed", "no-answer", "canceled"}
)
RECORDING_STATUSES = frozenset({"in-progress", "absent", "failed"})
TRANSCRIPT_AVAILABLE = "voice_intelligence_transcript_available"
DEFAULT_CHANNELS = {1: "caller", 2: "agent"}


def _kind(payload: dict[str, Any]) -> str:
    if "transcript_sid" in payload or "event_type" in payload:
        return "transcript"
    if "RecordingStatus" in payload:
        return "recording"
    if "CallStatus" in payload:
        return "status"
    raise UnknownEvent("not a Twilio call status, recording status or transcript callback")


class TwilioAdapter(PlatformAdapter):
    name = "twilio"
    content_types = ("application/x-www-form-urlencoded", "application/json")

    def decode(self, body: str) -> dict[str, Any]:
        if body.lstrip().startswith("{"):
            return decode_json_object(body)
        try:
            pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body), errors="strict")
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedPayload(f"malformed form body: {exc}") from exc
        return dict(pairs)

    def classify(self, payload: dict[str, Any]) -> EventInfo:
        kind = _kind(payload)
        account = first(text(payload, "AccountSid"), text(payload, "account_sid"))
        if kind == "status":
            status = text(payload, "CallStatus")
            if status != "completed":
                if status in CALL_STATUSES:
                    raise IgnoredEvent(f"status:{status}", f"a {status} call status is not a finished call")
                raise UnknownEvent(f"unknown Twilio CallStatus {status!r}")
            outbound = (text(payload, "Direction") or "").startswith("outbound")
            return EventInfo(
                event_key="status:completed",
                call_id=text(payload, "CallSid"),
                number=text(payload, "From") if outbound else text(payload, "To"),
                assistant_id=account,
            )
        if kind == "recording":
            status = text(payload, "RecordingStatus")
            if status != "completed":
                if status in RECORDING_STATUSES:
                    raise IgnoredEvent(f"recording:{status}", f"a {status} recording is not a finished one")
                raise UnknownEvent(f"unknown Twilio RecordingStatus {status!r}")
            return EventInfo(
                event_key=f"recording:{text(payload, 'RecordingSid') or ''}",
                call_id=text(payload, "CallSid"),
                assistant_id=account,
            )
        event = text(payload, "event_type")
        if event not in (None, TRANSCRIPT_AVAILABLE):
            raise UnknownEvent(f"unknown Twilio Intelligence event_type {event!r}")
        return EventInfo(
            event_key=f"transcript:{text(payload, 'transcript_sid') or ''}",
            call_id=first(text(payload, "call_sid"), text(payload, "CallSid"), text(payload, "customer_key")),
            assistant_id=account,
        )

    def merge(self, payloads: list[dict[str, Any]]) -> dict[str, Any]:
        """A call is assembled from all its callbacks: later parameters add to earlier ones."""
        merged: dict[str, Any] = {}
        for payload in payloads:
            merged.update({k: v for k, v in payload.items() if v not in (None, "")})
        return merged

    def convert(self, payload: dict[str, Any], tenant: str) -> CallRecord:
        call_id = first(text(payload, "CallSid"), text(payload, "call_sid"), text(payload, "customer_key"))
        outbound = (text(payload, "Direction") or "").startswith("outbound")
        frm, to = e164ish(text(payload, "From")), e164ish(text(payload, "To"))
        ended = rfc2822_time(text(payload, "Timestamp"), "Timestamp") if "CallStatus" in payload else None
        duration = number(payload, "CallDuration")
        started = None
        if ended is not None and duration is not None and 0 <= duration < 86400:
            started = ended - timedelta(seconds=duration)
        roles = dict(DEFAULT_CHANNELS)
        for p in items(obj(payload, "channel"), "participants"):
            channel, role = number(p, "channel_participant"), (text(p, "role") or "").lower()
            if channel is not None and channel.is_integer() and role:
                roles[int(channel)] = "agent" if role in ("agent", "assistant", "bot") else "caller"
        turns: list[tuple[str, str, float | None, float | None]] = []
        sentences = sorted(items(payload, "sentences"), key=lambda s: number(s, "sentence_index") or 0)
        for s in sentences:
            channel, said = number(s, "media_channel"), text(s, "transcript")
            speaker = roles.get(int(channel)) if channel is not None and channel.is_integer() else None
            if speaker and said:
                turns.append((speaker, said, number(s, "start_time"), number(s, "end_time")))
        if "sentences" in payload and not isinstance(payload["sentences"], list):
            raise InputError("expected a list of Intelligence sentences", field="sentences")
        return call_record(
            tenant=tenant,
            platform=self.name,
            call_id=call_id,
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
            customer=to if outbound else frm,
            business=frm if outbound else to,
            started_at=started,
            ended_at=ended,
            turns=turns,
            recording_url=text(payload, "RecordingUrl"),
            analysis={"platform": {k: payload[k] for k in ("AnsweredBy", "CallStatus") if k in payload}},
            raw=payload,
            id_field="CallSid",
        )
