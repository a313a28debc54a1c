"""ElevenLabs Agents: the `post_call_transcription` webhook (voice-webhooks.md §6).

Envelope `{"type": ..., "event_timestamp": <s>, "data": {...}}`; `data` has the shape of
`GET /v1/convai/conversations/{id}`. Data-collection results are the platform's own extraction.
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
    epoch_time,
    first,
    items,
    number,
    obj,
    plus_seconds,
    structured,
    text,
)
from callsync.models import CallRecord, Direction

TRANSCRIPTION = "post_call_transcription"
OTHER_EVENTS = frozenset({"post_call_audio", "call_initiation_failure"})
ROLES = {"user": "caller", "agent": "agent"}


class ElevenLabsAdapter(PlatformAdapter):
    name = "elevenlabs"

    def classify(self, payload: dict[str, Any]) -> EventInfo:
        event = text(payload, "type")
        if event != TRANSCRIPTION:
            if event in OTHER_EVENTS:
                raise IgnoredEvent(event, f"ElevenLabs {event} events are not call transcripts")
            raise UnknownEvent(f"unknown ElevenLabs event type {event!r}")
        data = obj(payload, "data")
        return EventInfo(
            event_key=TRANSCRIPTION,
            call_id=text(data, "conversation_id"),
            number=text(data, "metadata", "phone_call", "agent_number"),
            assistant_id=text(data, "agent_id"),
        )

    def convert(self, payload: dict[str, Any], tenant: str) -> CallRecord:
        data = obj(payload, "data")
        meta, phone = obj(data, "metadata"), obj(data, "metadata", "phone_call")
        variables = obj(data, "conversation_initiation_client_data", "dynamic_variables")
        outbound = text(phone, "direction") == "outbound"
        turns: list[tuple[str, str, float | None, float | None]] = []
        for t in items(data, "transcript"):
            speaker, said = ROLES.get(text(t, "role") or ""), text(t, "message")
            if speaker and said:
                turns.append((speaker, said, number(t, "time_in_call_secs"), None))
        started = epoch_time(
            number(meta, "start_time_unix_secs"), "data.metadata.start_time_unix_secs", millis=False
        )
        analysis = obj(data, "analysis")
        collected = {
            k: v.get("value")
            for k, v in obj(analysis, "data_collection_results").items()
            if isinstance(v, dict)
        }
        return call_record(
            tenant=tenant,
            platform=self.name,
            call_id=text(data, "conversation_id"),
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
            customer=e164ish(first(text(phone, "external_number"), text(variables, "system__caller_id"))),
            business=e164ish(first(text(phone, "agent_number"), text(variables, "system__called_number"))),
            started_at=started,
            ended_at=plus_seconds(started, number(meta, "call_duration_secs")),
            turns=turns,
            recording_url=None,
            analysis={
                "structured_data": structured(collected),
                "summary": text(analysis, "transcript_summary"),
                "platform": analysis,
            },
            raw=payload,
            id_field="data.conversation_id",
        )
