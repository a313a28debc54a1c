"""Tests for stage 1 capture. `make_call` builds a CallRecord from (speaker, text) pairs for unit tests."""

from __future__ import annotations

from typing import Any

from callsync.capture.platforms.generic import parse_generic_call
from callsync.models import CallRecord, Evidence


def make_call(
    *turns: tuple[str, str],
    direction: str = "inbound",
    caller: str = "+16175550148",
    business: str = "+16175550100",
    structured: dict[str, Any] | None = None,
    started_at: str | None = None,
    timezone: str | None = None,
) -> CallRecord:
    """A generic call; `caller`/`business` are placed in from/to according to the direction. Its days can be
    read only when it has a start (`started_at`, ISO 8601, and the `timezone` it is local to)."""
    frm, to = (caller, business) if direction == "inbound" else (business, caller)
    payload: dict[str, Any] = {
        "call_id": "t-1",
        "direction": direction,
        "from": frm,
        "to": to,
        "turns": [{"speaker": s, "text": t} for s, t in turns],
    }
    if started_at is not None:
        payload["started_at"] = started_at
    if timezone is not None:
        payload["timezone"] = timezone
    if structured is not None:
        payload["analysis"] = {"structured_data": structured}
    return parse_generic_call(payload)


FRIDAY = "2024-03-01T22:00:00Z"  # 14:00 in Los Angeles, Friday 1 March 2024: the task dialogues' "today"


def friday_call(*turns: tuple[str, str]) -> CallRecord:
    """A call started on Friday 1 March 2024 in Los Angeles, so that its days can be read."""
    return make_call(*turns, started_at=FRIDAY, timezone="America/Los_Angeles")


def said(call: CallRecord, evidence: tuple[Evidence, ...]) -> list[tuple[int, str]]:
    """The words each evidence span points at, for readable assertions."""
    return [(e.turn, call.turns[e.turn].text[e.start : e.end]) for e in evidence]
