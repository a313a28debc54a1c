"""Vapi: the `end-of-call-report` server message, and the call object of `GET /call` (polling).

Webhook body `{"message": {"type": ..., "call": {...}, "artifact": {...}, "analysis": {...}}}`; the polled
call object carries the same facts at its top level. Both are read by one converter (voice-webhooks.md §1).
"""

from __future__ import annotations

from typing import Any

from callsync.capture.platforms.base import (
    EventInfo,
    IgnoredEvent,
    PlatformAdapter,
    UnknownEvent,
    call_record,
    e164ish,
    first,
    iso_time,
    items,
    number,
    obj,
    structured,
    text,
    turns_from_text,
)
from callsync.models import CallRecord, Direction

END_OF_CALL = "end-of-call-report"
# Server messages that are not a finished call: acknowledged, never stored. Request/response types
# (assistant-request, tool-calls, ...) are answered at once so a shared URL never blocks Vapi.
OTHER_MESSAGES = frozenset(
    {
        "status-update", "transcript", "conversation-update", "speech-update", "hang", "transfer-update",
        "user-interrupted", "model-output", "assistant-request", "tool-calls", "function-call",
        "transfer-destination-request", "knowledge-base-request", "voice-input", "voice-request",
        "phone-call-control", "assistant.started", "language-change-detected", "call.endpointing.request",
        "chat.created", "chat.deleted", "session.created", "session.updated", "session.deleted",
    }
)  # fmt: skip
ROLES = {"bot": "agent", "assistant": "agent", "user": "caller", "customer": "caller"}
TEXT_ROLES = {"ai": "agent", "assistant": "agent", "bot": "agent", "user": "caller", "customer": "caller"}


def _parts(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(message, call): the webhook's message and its call, or the polled call object twice."""
    if "message" in payload:
        message = obj(payload, "message")
        return message, obj(message, "call")
    return payload, payload


class VapiAdapter(PlatformAdapter):
    name = "vapi"

    def classify(self, payload: dict[str, Any]) -> EventInfo:
        message, call = _parts(payload)
        if "message" in payload:
            kind = text(message, "type")
            if kind != END_OF_CALL:
                if kind in OTHER_MESSAGES:
                    raise IgnoredEvent(kind, f"Vapi {kind} messages are not finished calls")
                raise UnknownEvent(f"unknown Vapi message type {kind!r}")
        elif text(payload, "id") is None:
            raise UnknownEvent("neither a Vapi server message (no `message`) nor a call object (no `id`)")
        elif text(payload, "status") != "ended":
            raise IgnoredEvent("call", f"the call is {text(payload, 'status')!r}, not ended")
        return EventInfo(
            event_key=END_OF_CALL,
            call_id=text(call, "id"),
            number=first(text(message, "phoneNumber", "number"), text(call, "phoneNumber", "number")),
            assistant_id=first(text(call, "assistantId"), text(message, "assistant", "id")),
        )

    def convert(self, payload: dict[str, Any], tenant: str) -> CallRecord:
        message, call = _parts(payload)
        kind = text(call, "type") or ""
        direction = Direction.OUTBOUND if kind == "outboundPhoneCall" else Direction.INBOUND
        artifact = obj(message, "artifact") or obj(call, "artifact")
        turns: list[tuple[str, str, float | None, float | None]] = []
        for m in items(artifact, "messages"):
            speaker, said = ROLES.get(text(m, "role") or ""), text(m, "message")
            if speaker and said:
                start = number(m, "secondsFromStart")
                begin_ms, end_ms = number(m, "time"), number(m, "endTime")
                end = None
                if start is not None and begin_ms is not None and end_ms is not None:
                    end = start + (end_ms - begin_ms) / 1000
                turns.append((speaker, said, start, end))
        if not turns:
            turns = [(s, t, None, None) for s, t in turns_from_text(text(artifact, "transcript"), TEXT_ROLES)]
        analysis = obj(message, "analysis") or obj(call, "analysis")
        outputs = [obj(o, "result") for o in obj(artifact, "structuredOutputs").values()]
        return call_record(
            tenant=tenant,
            platform=self.name,
            call_id=text(call, "id"),
            direction=direction,
            customer=e164ish(first(text(message, "customer", "number"), text(call, "customer", "number"))),
            business=e164ish(
                first(text(message, "phoneNumber", "number"), text(call, "phoneNumber", "number"))
            ),
            started_at=iso_time(first(text(message, "startedAt"), text(call, "startedAt")), "startedAt"),
            ended_at=iso_time(first(text(message, "endedAt"), text(call, "endedAt")), "endedAt"),
            turns=turns,
            recording_url=first(
                text(artifact, "recording", "mono", "combinedUrl"),
                text(artifact, "recording", "stereoUrl"),
                text(artifact, "recordingUrl"),
                text(message, "recordingUrl"),
            ),
            analysis={
                "structured_data": structured(obj(analysis, "structuredData"), *outputs),
                "summary": text(analysis, "summary"),
                "ended_reason": first(text(message, "endedReason"), text(call, "endedReason")),
                "platform": analysis,
            },
            raw=payload,
            id_field="message.call.id" if "message" in payload else "id",
        )
