"""`callback_phone`: the number the caller asks to be called back on.

It is a phone number (see phone.py for how numbers are read and whose they are) given for a call back:
"call me back at ...", "you can reach me at ...", "call me back on this number" (the caller's own line); a
number the caller gives when the agent asks for one after someone was promised to call them ("A loan officer
can call you tomorrow. What's the best number?", "Should the tech call you at this number?"); or the number
left in a voicemail whose caller asks to be called back. A number given only as contact details ("what's the
best number to reach you?") is `phone`, not `callback_phone`.
"""

from __future__ import annotations

import re

from callsync.capture.extract.dialogue import Mention, ReadBack, machine_turns, resolve
from callsync.capture.extract.phone import phone_events
from callsync.capture.extract.spoken import may_say
from callsync.capture.extract.thresholds import status_for
from callsync.models import CallRecord, FieldStatus, FieldValue, Speaker

EXTRACTOR = "callback@1"

_CALLER_ASKS = re.compile(
    r"\b((call|ring|text|phone) me( back)?|(reach|get) me|call back|get back to me)\b", re.IGNORECASE
)
_AGENT_WILL_CALL = re.compile(
    r"\b(call(ing)? (you|this number|that number)( back)?|callback|call back|give you a call|ring you|"
    r"(reach out|get back) to you|"
    r"expect a call)\b",
    re.IGNORECASE,
)
# Every phrase of each pattern above contains one of these (see `spoken.may_say`): most turns hold none.
_CALLER_ASKS_NEEDS = (" me", "call back")
_AGENT_WILL_CALL_NEEDS = ("call", "ring you", "to you")
_VOICEMAIL_GREETING = re.compile(
    r"\b(leave (a|your) message|after the tone|after the beep|voicemail)\b", re.IGNORECASE
)


def callback_turns(call: CallRecord) -> set[int]:
    """Caller turns whose number is given for a call back."""
    out: set[int] = set()
    promised = False
    voicemail = bool(machine_turns(call)) or any(
        t.speaker is Speaker.AGENT and _VOICEMAIL_GREETING.search(t.text) for t in call.turns[:1]
    )
    asks_in_message = voicemail and any(
        t.speaker is Speaker.CALLER and _caller_asks(t.text) for t in call.turns
    )
    for i, turn in enumerate(call.turns):
        if turn.speaker is Speaker.AGENT:
            promised = promised or (
                may_say(turn.text, _AGENT_WILL_CALL_NEEDS) and _AGENT_WILL_CALL.search(turn.text) is not None
            )
            continue
        if (
            _caller_asks(turn.text)
            or asks_in_message
            or (promised and i > 0 and call.turns[i - 1].speaker is Speaker.AGENT)
        ):
            out.add(i)
    return out


def _caller_asks(text: str) -> bool:
    return may_say(text, _CALLER_ASKS_NEEDS) and _CALLER_ASKS.search(text) is not None


def extract_callback(call: CallRecord, *, default_region: str = "US") -> FieldValue | None:
    turns = callback_turns(call)
    if not turns:
        return None
    events: list[Mention | ReadBack] = [
        e for e in phone_events(call, default_region) if isinstance(e, ReadBack) or e.turn in turns
    ]
    if not any(isinstance(e, Mention) for e in events):
        return None
    resolved = resolve(events)
    if resolved is None:
        return None
    status = status_for("callback_phone", resolved.confidence)
    return FieldValue(
        value=resolved.value,
        confidence=resolved.confidence,
        evidence=resolved.evidence,
        extractor=EXTRACTOR,
        status=status,
        reason=None if status is FieldStatus.ACCEPTED else "low_confidence",
        superseded=resolved.superseded,
    )
