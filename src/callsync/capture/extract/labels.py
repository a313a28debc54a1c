"""Call-level labels: intent, outcome, sentiment. Keyword/rule baselines, each with the turns that support it.

These are soft labels (dev-calls README: score them with a confusion matrix), so the rules stay few and
readable, and every label carries the turn indexes a reviewer can check. Confidence says how direct the cue
was: an agent saying "You're booked for ..." is direct; "nothing else matched" is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from callsync.capture.extract.dialogue import caller_turns, machine_turns
from callsync.models import CallRecord, Direction, Label, Speaker

INTENTS = ("support", "booking", "inquiry", "complaint", "sales", "other")
OUTCOMES = ("appointment_booked", "transferred", "callback_scheduled", "resolved", "voicemail", "no_outcome")
SENTIMENTS = ("positive", "neutral", "frustrated")

DIRECT = 0.80  # an explicit cue for exactly this label
INDIRECT = 0.60  # a cue that usually means this label
FALLBACK = 0.40  # nothing matched; the default for the kind of call


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(alternatives) + r")\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Hits:
    turns: tuple[int, ...]

    def __bool__(self) -> bool:
        return bool(self.turns)


def _hits(call: CallRecord, turns: Iterable[int], pattern: re.Pattern[str]) -> _Hits:
    return _Hits(tuple(i for i in turns if pattern.search(call.turns[i].text)))


def _agent_turns(call: CallRecord) -> list[int]:
    return [i for i, t in enumerate(call.turns) if t.speaker is Speaker.AGENT]


# -- intent -------------------------------------------------------------------------------------------

# Dissatisfied with something that already happened, and wanting it put right.
_COMPLAINT = _rx(
    r"charged (me|my card|us)",
    r"double charged",
    r"overcharged",
    r"refund",
    r"money back",
    r"(is|came|come|coming) back on",
    r"same (problem|issue|light|thing) (again|is back)",
    r"still (not|isnt|hasnt|broken|leaking)",
    r"(didnt|did not|never) (fix|fixed|show|showed|come|came)",
    r"went up",
    r"keeps going up",
    r"complaint",
    r"complain",
    r"about my claim again",
    r"nobody has told me",
    r"its been \w+ (weeks|months)",
)
_BOOKING = _rx(
    r"book",
    r"booking",
    r"appointment",
    r"reschedule",
    r"schedule",
    r"come (in|out|by|look|take a look)",
    r"go (look|see)",
    r"take a look",
    r"consultation",
    r"estimate",
    r"showing",
    r"see the (house|place|unit|apartment)",
    r"cleaning",
    r"check ?up",
    r"exam",
    r"service (call|appointment)",
    r"get (someone|somebody) out",
    r"interview",
    r"leaking",
    r"(is|are|its) (broken|not working)",
)
_SALES = _rx(
    r"quote",
    r"pricing",
    r"demo",
    r"shopping around",
    r"sign up",
    r"open (a|an|up a) (\w+ ){0,2}(account|policy)",
    r"(buy|purchase|buying|purchasing)",
    r"plans?",
    r"software",
    r"renew(al|s)?",
    r"proposal",
    r"we need \w+ \w+ (operators|workers|staff|people)",
    r"(requested|request) (a|an)",
    r"valuation",
)
_SUPPORT = _rx(
    r"my account",
    r"locked out",
    r"password",
    r"log ?in",
    r"lost my",
    r"stolen",
    r"didnt make",
    r"my (order|policy|bill|statement|card|claim)",
    r"help with",
    r"not working",
)
_INQUIRY = _rx(
    r"do you (guys )?(take|accept|have|offer|do|handle)",
    r"how much",
    r"what are your",
    r"looking for",
    r"wondering",
    r"question",
    r"want(ed)? to know",
    r"is there",
    r"are you open",
)
_OTHER = _rx(r"wrong number", r"no \w+ here", r"dont know (a|any) \w+", r"not interested")


def classify_intent(call: CallRecord) -> Label:
    callers = caller_turns(call)
    # The reason for the call is stated early: in the caller's first turns (a voicemail message may take
    # three), or in the agent's opening on an outbound call (the business called about something).
    opening = callers[:3]
    agents = _agent_turns(call)
    # On an outbound call the business states the purpose; its words may say sales or booking, but an
    # agent's "do you have a minute?" is not the caller inquiring.
    agent_opening = agents[:2] if call.direction is Direction.OUTBOUND else []
    other = _hits(call, callers, _OTHER)
    if other:
        return Label("other", DIRECT, other.turns)
    complaint = _hits(call, callers, _COMPLAINT)
    if complaint and not _hits(call, callers[:1], _BOOKING):
        return Label("complaint", DIRECT if len(complaint.turns) > 1 else INDIRECT, complaint.turns)
    for name, pattern in (
        ("sales", _SALES),
        ("booking", _BOOKING),
        ("support", _SUPPORT),
        ("inquiry", _INQUIRY),
    ):
        turns = sorted({*opening, *agent_opening}) if name in ("sales", "booking") else opening
        hits = _hits(call, turns, pattern)
        if hits:
            return Label(name, INDIRECT, hits.turns)
    booked = _hits(call, agents, _BOOKED)
    if booked:
        return Label("booking", INDIRECT, booked.turns)
    if complaint:
        return Label("complaint", INDIRECT, complaint.turns)
    return Label("inquiry" if callers else "other", FALLBACK, tuple(opening or agent_opening))


# -- outcome ------------------------------------------------------------------------------------------

_VOICEMAIL_AGENT = _rx(
    r"leave (a|your) message",
    r"after the tone",
    r"message (has been|was) (recorded|saved)",
    r"this message is for",
    r"our office is (now )?closed",
)
_TRANSFER = _rx(r"transferring you", r"transfer you", r"connect(ing)? you (with|to)", r"putting you through")
_BOOKED = _rx(
    r"you'?re (all )?(booked|confirmed|scheduled|set) for",
    r"you'?re rescheduled",
    r"rescheduled (you )?to",
    r"booked you",
    r"i'?ve (booked|scheduled)",
    r"you'?re all set",
)
_CALLBACK = _rx(
    r"(will|'ll) (call|reach out to) you",
    r"(will|'ll) (give you a )?call (you )?back",
    r"call you back",
    r"(have|get) (someone|somebody|\w+ \w+ team|our \w+ team|the \w+) (to )?call you",
    r"talk to you (on )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|soon|then)",
    r"(will|'ll) (be )?reach(ing)? out",
    r"(will|'ll) follow up",
    r"(will|'ll) get back to you",
)
_NO_OUTCOME = _rx(
    r"forget it",
    r"never ?mind",
    r"not interested",
    r"wrong number",
    r"dont (call|want)",
    r"hang(ing)? up",
    r"no \w+ here",
)
_RESOLVED = _rx(
    r"i'?ve (unlocked|frozen|reset|sent|updated|cancelled|canceled|opened|processed|applied|fixed)",
    r"i'?ll send",
    r"anything else",
    r"you won'?t be",
    r"you'?re (good|all good)",
    r"that should",
)


def classify_outcome(call: CallRecord) -> Label:
    agents = _agent_turns(call)
    callers = caller_turns(call)
    machine = sorted(machine_turns(call))
    voicemail = _hits(call, agents, _VOICEMAIL_AGENT)
    if machine or voicemail:
        return Label("voicemail", DIRECT, tuple(sorted({*machine, *voicemail.turns})))
    for name, pattern in (
        ("transferred", _TRANSFER),
        ("appointment_booked", _BOOKED),
        ("callback_scheduled", _CALLBACK),
    ):
        hits = _hits(call, agents, pattern)
        if hits:
            return Label(name, DIRECT, hits.turns)
    refused = _hits(call, callers, _NO_OUTCOME)
    if refused:
        return Label("no_outcome", DIRECT, refused.turns)
    resolved = _hits(call, agents, _RESOLVED)
    if resolved:
        return Label("resolved", INDIRECT, resolved.turns)
    if len(callers) < 2:
        return Label("no_outcome", FALLBACK, tuple(callers))
    return Label("resolved", FALLBACK, tuple(callers[-1:]))


# -- sentiment ----------------------------------------------------------------------------------------

_FRUSTRATED_STRONG = _rx(
    r"ridiculous",
    r"unacceptable",
    r"annoying",
    r"annoyed",
    r"frustrat\w*",
    r"fed up",
    r"sick of",
    r"forget it",
    r"seriously",
    r"finally",
    r"he better",
    r"she better",
    r"you better",
    r"nobody (ever )?(picks up|called|calls|answers|told|has told)",
    r"no one (ever )?(picks up|called|calls|answers|told)",
    r"fine whatever",
    r"thats not an answer",
    r"i want my money back",
    r"worst",
    r"terrible",
    r"angry",
    r"upset",
    r"(third|fourth|fifth) time",
    r"trying to get through",
)
_FRUSTRATED_WEAK = _rx(r"keeps (going|happening)", r"again", r"still", r"fine\s*$", r"already")
_POSITIVE_STRONG = _rx(
    r"thank you so much",
    r"thanks so much",
    r"thank you very much",
    r"appreciate it",
    r"really appreciate",
    r"awesome",
    r"wonderful",
    r"amazing",
    r"excellent",
    r"fantastic",
    r"love (it|that)",
    r"you'?ve been (so )?helpful",
    r"lifesaver",
)
_POSITIVE_WEAK = _rx(r"perfect", r"great", r"cool", r"cheers", r"sounds good", r"thanks for calling back")


def classify_sentiment(call: CallRecord) -> Label:
    callers = caller_turns(call)
    strong = _hits(call, callers, _FRUSTRATED_STRONG)
    weak = _hits(call, callers, _FRUSTRATED_WEAK)
    if strong and (len(strong.turns) > 1 or weak):
        return Label("frustrated", DIRECT, tuple(sorted({*strong.turns, *weak.turns})))
    if strong:
        return Label("frustrated", INDIRECT, strong.turns)
    positive = _hits(call, callers, _POSITIVE_STRONG)
    pleasant = _hits(call, callers, _POSITIVE_WEAK)
    if positive:
        return Label(
            "positive", DIRECT if pleasant else INDIRECT, tuple(sorted({*positive.turns, *pleasant.turns}))
        )
    if len(pleasant.turns) >= 2:
        return Label("positive", INDIRECT, pleasant.turns)
    return Label("neutral", INDIRECT if callers else FALLBACK, ())
