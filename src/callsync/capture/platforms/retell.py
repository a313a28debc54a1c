"""Retell AI: `call_ended` then `call_analyzed` webhooks, and the call object of `list-calls` (polling).

Webhook body `{"event": ..., "call": {...}}` (one Retell page says `event_type`; the deprecated `data`
held the call before `call`). Times are epoch milliseconds; word times are seconds of call audio.
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
    structured,
    text,
    turns_from_text,
)
from callsync.models import CallRecord, Direction

# call_analyzed carries everything call_ended does plus the analysis: it wins when both are stored.
CALL_EVENTS = {"call_ended": 1, "call_analyzed": 2}
OTHER_EVENTS = frozenset(
    {"call_started", "transcript_updated", "transfer_started", "transfer_bridged", "transfer_cancelled",
     "transfer_ended"}
)  # fmt: skip
ENDED_STATUSES = frozenset({"ended", "error"})
ROLES = {"agent": "agent", "user": "caller", "transfer_target": "agent"}
TEXT_ROLES = {"agent": "agent", "user": "caller"}


def _call(payload: dict[str, Any]) -> dict[str, Any]:
    if "event" in payload or "event_type" in payload:
        return obj(payload, "call") or obj(payload, "data")
    return payload  # a polled call object


class RetellAdapter(PlatformAdapter):
    name = "retell"

    def classify(self, payload: dict[str, Any]) -> EventInfo:
        call = _call(payload)
        if "event" in payload or "event_type" in payload:
            event = first(text(payload, "event"), text(payload, "event_type"))
            if event not in CALL_EVENTS:
                if event in OTHER_EVENTS:
                    raise IgnoredEvent(event, f"Retell {event} events are not finished calls")
                raise UnknownEvent(f"unknown Retell event {event!r}")
        elif text(payload, "call_id") is None:
            raise UnknownEvent("neither a Retell webhook (no `event`) nor a call object (no `call_id`)")
        elif text(payload, "call_status") not in ENDED_STATUSES:
            raise IgnoredEvent("call", f"the call is {text(payload, 'call_status')!r}, not ended")
        else:
            event = "call_analyzed" if obj(payload, "call_analysis") else "call_ended"
        outbound = text(call, "direction") == "outbound"
        return EventInfo(
            event_key=event,
            call_id=text(call, "call_id"),
            number=text(call, "from_number") if outbound else text(call, "to_number"),
            assistant_id=text(call, "agent_id"),
            rank=CALL_EVENTS[event],
        )

    def convert(self, payload: dict[str, Any], tenant: str) -> CallRecord:
        call = _call(payload)
        direction = Direction.OUTBOUND if text(call, "direction") == "outbound" else Direction.INBOUND
        turns: list[tuple[str, str, float | None, float | None]] = []
        for t in items(call, "transcript_object"):
            speaker, said = ROLES.get(text(t, "role") or ""), text(t, "content")
            if speaker and said:
                words = items(t, "words")
                start = number(words[0], "start") if words else None
                end = number(words[-1], "end") if words else None
                turns.append((speaker, said, start, end))
        if not turns:
            turns = [(s, t, None, None) for s, t in turns_from_text(text(call, "transcript"), TEXT_ROLES)]
        frm, to = e164ish(text(call, "from_number")), e164ish(text(call, "to_number"))
        analysis = obj(call, "call_analysis")
        return call_record(
            tenant=tenant,
            platform=self.name,
            call_id=text(call, "call_id"),
            direction=direction,
            customer=to if direction is Direction.OUTBOUND else frm,
            business=frm if direction is Direction.OUTBOUND else to,
            started_at=epoch_time(number(call, "start_timestamp"), "call.start_timestamp", millis=True),
            ended_at=epoch_time(number(call, "end_timestamp"), "call.end_timestamp", millis=True),
            turns=turns,
            recording_url=text(call, "recording_url"),
            analysis={
                "structured_data": structured(obj(analysis, "custom_analysis_data")),
                "summary": text(analysis, "call_summary"),
                "sentiment": text(analysis, "user_sentiment"),
                "ended_reason": text(call, "disconnection_reason"),
                "platform": analysis,
            },
            raw=payload,
            id_field="call.call_id" if call is not payload else "call_id",
        )
