"""Bland AI: the post-call webhook, whose body is the call-details object (voice-webhooks.md §3).

There is no event type: one POST per call. `call_length` is in minutes; turns have only a wall-clock
`created_at`, so their offsets are taken from `started_at`.
"""

from __future__ import annotations

from typing import Any

from callsync.capture.platforms.base import (
    EventInfo,
    IgnoredEvent,
    PlatformAdapter,
    call_record,
    e164ish,
    first,
    iso_time,
    items,
    number,
    obj,
    plus_seconds,
    structured,
    text,
    turns_from_text,
)
from callsync.errors import InputError
from callsync.models import CallRecord, Direction

POST_CALL = "post-call"
ROLES = {"user": "caller", "assistant": "agent", "robot": "agent", "agent": "agent"}


class BlandAdapter(PlatformAdapter):
    name = "bland"

    def classify(self, payload: dict[str, Any]) -> EventInfo:
        if payload.get("completed") is False:
            raise IgnoredEvent(POST_CALL, "the call did not complete (no conversation to record)")
        if "category" in payload and "call_id" not in payload and "c_id" not in payload:
            raise IgnoredEvent("live", "Bland live events are not finished calls")
        inbound = payload.get("inbound") is True
        return EventInfo(
            event_key=POST_CALL,
            call_id=first(text(payload, "call_id"), text(payload, "c_id")),
            number=text(payload, "to") if inbound else text(payload, "from"),
            assistant_id=text(payload, "pathway_id"),
        )

    def convert(self, payload: dict[str, Any], tenant: str) -> CallRecord:
        inbound = payload.get("inbound") is True
        started = iso_time(text(payload, "started_at"), "started_at")
        turns: list[tuple[str, str, float | None, float | None]] = []
        for t in items(payload, "transcripts"):
            speaker, said = ROLES.get(text(t, "user") or ""), text(t, "text")
            if speaker and said:
                try:
                    at = iso_time(text(t, "created_at"), "transcripts.created_at")
                except InputError:
                    at = None
                offset = (at - started).total_seconds() if at and started else None
                turns.append((speaker, said, offset if offset is None or offset >= 0 else None, None))
        if not turns:
            turns = [
                (s, t, None, None)
                for s, t in turns_from_text(text(payload, "concatenated_transcript"), ROLES)
            ]
        frm, to = e164ish(text(payload, "from")), e164ish(text(payload, "to"))
        minutes = number(payload, "call_length")
        return call_record(
            tenant=tenant,
            platform=self.name,
            call_id=first(text(payload, "call_id"), text(payload, "c_id")),
            direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
            customer=frm if inbound else to,
            business=to if inbound else frm,
            started_at=started,
            ended_at=plus_seconds(started, minutes * 60 if minutes is not None else None),
            turns=turns,
            recording_url=text(payload, "recording_url"),
            analysis={
                "structured_data": structured(obj(payload, "analysis")),
                "summary": text(payload, "summary"),
                "platform": obj(payload, "analysis"),
            },
            raw=payload,
            id_field="call_id",
        )
