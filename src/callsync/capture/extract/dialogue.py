"""Conversation mechanics shared by the field extractors: who said what, read-backs, confirmations, corrections.

The product promise is that caller data comes from the caller. The agent's words count only in one way:
an agent read-back that the caller confirms in the very next turn. This module turns a call into a
time-ordered list of `Mention`s (the caller said a value) and `ReadBack`s (the agent said one, and how the
caller reacted), and `resolve` folds them into one value with its confidence, evidence and the values the
caller corrected away.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import Enum

from callsync.capture.extract.spoken import Token, may_say, memo, per_text, tokenize, word_set
from callsync.capture.extract.thresholds import clamp
from callsync.models import CallRecord, Evidence, Speaker

# -- reactions ----------------------------------------------------------------------------------------


class Reaction(Enum):
    CONFIRM = "confirm"
    DENY = "deny"
    NEUTRAL = "neutral"


_FILLERS = word_set("um uh er ah oh well so hmm ok okay")
_CONFIRMS: tuple[tuple[str, ...], ...] = (
    ("yes",),
    ("yeah",),
    ("yep",),
    ("yup",),
    ("yea",),
    ("ya",),
    ("correct",),
    ("exactly",),
    ("right",),
    ("affirmative",),
    ("confirmed",),
    ("i", "confirm"),
    ("thats", "right"),
    ("thats", "correct"),
    ("thats", "it"),
    ("thats", "me"),
    ("that", "is", "correct"),
    ("that", "is", "right"),
    # "It's completely right, thanks.", "That's exactly right."
    ("its", "right"),
    ("its", "correct"),
    ("its", "completely", "right"),
    ("its", "exactly", "right"),
    ("thats", "exactly", "right"),
    ("thats", "completely", "right"),
    ("uh", "huh"),
    ("mhm",),
    ("mm", "hmm"),
    ("sure",),
    ("that", "works"),
    ("that", "is", "fine"),
    ("thats", "fine"),
    ("sounds", "good"),
    ("of", "course"),
    ("absolutely",),
    ("definitely",),
    ("indeed",),
    ("speaking",),
    ("this", "is", "she"),
    ("this", "is", "he"),
    ("this", "is", "him"),
    ("this", "is", "her"),
)
_DENIES: tuple[tuple[str, ...], ...] = (
    ("no",),
    ("nope",),
    ("nah",),
    ("not", "quite"),
    ("thats", "wrong"),
    ("thats", "not", "right"),
    ("wrong",),
    ("incorrect",),
    ("actually",),
    ("that", "doesnt", "work"),
    ("that", "does", "not", "work"),
    ("that", "wont", "work"),
    ("that", "will", "not", "work"),
    ("thats", "no", "good"),
    # Putting an offer off ("Shall I put in a reservation?" - "Not at this time."): a no for now.
    ("not", "now"),
    ("not", "right", "now"),
    ("not", "at", "this", "time"),
    ("not", "at", "the", "moment"),
    ("not", "yet"),
    ("maybe", "later"),
)


def phrase_index(phrases: Iterable[tuple[str, ...]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Phrases by first word, longest first, so matching at a token looks only at phrases that can match."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        index.setdefault(phrase[0], []).append(phrase)
    return {w: tuple(sorted(ps, key=len, reverse=True)) for w, ps in index.items()}


def match_phrase(tokens: Sequence[Token], i: int, index: dict[str, tuple[tuple[str, ...], ...]]) -> int:
    """Length of the longest indexed phrase that starts at token i, 0 when none does."""
    for phrase in index.get(tokens[i].text, ()):
        n = len(phrase)
        if i + n <= len(tokens) and all(tokens[i + k].text == phrase[k] for k in range(1, n)):
            return n
    return 0


_CONFIRM_INDEX = phrase_index(_CONFIRMS)
_DENY_INDEX = phrase_index(_DENIES)


def classify_reaction(text: str) -> tuple[Reaction, tuple[int, int] | None]:
    """How a caller turn answers the agent turn before it, and the span of the words that say so.

    Only the opening words count ("yes that's right", "no it's ..."): a "yes" deep inside a turn usually
    answers something else.
    """
    tokens = tokenize(text)
    i = 0
    while i < len(tokens) and i < 3 and tokens[i].text in _FILLERS:
        i += 1
    if i >= len(tokens):
        return Reaction.NEUTRAL, None
    deny = match_phrase(tokens, i, _DENY_INDEX)
    if deny:
        return Reaction.DENY, (tokens[i].start, tokens[i + deny - 1].end)
    confirm = match_phrase(tokens, i, _CONFIRM_INDEX)
    if confirm:
        # "yeah no ..." is a denial in speech.
        if i + confirm < len(tokens) and tokens[i + confirm].text in ("no", "nope"):
            return Reaction.DENY, (tokens[i].start, tokens[i + confirm].end)
        return Reaction.CONFIRM, (tokens[i].start, tokens[i + confirm - 1].end)
    return Reaction.NEUTRAL, None


# -- corrections --------------------------------------------------------------------------------------

# "instead of" names the value being replaced, after it ("charged $30 instead of $20"): no correction.
_CORRECTION = re.compile(
    r"\b(actually|sorry|no wait|wait no|wait|i mean|scratch that|correction|my mistake|my bad|oops|"
    r"make (that|it)|rather|not that|instead(?! of)|thats my old|that was my old|use this one)\b",
    re.IGNORECASE,
)


def has_correction_marker(text: str, start: int = 0, end: int | None = None) -> bool:
    """True when the words in text[start:end] announce that what follows replaces what came before."""
    return _CORRECTION.search(text, start, len(text) if end is None else end) is not None


# -- agent sentences ----------------------------------------------------------------------------------

_BACK_REFERENCE = re.compile(r"\b(that|this|it|correct|right)\b", re.IGNORECASE)
# The agent giving out its own business's details ("call our after-hours line at ...", "reach me directly at").
_AGENT_OWN = re.compile(
    r"\b((our|my) ([\w'-]+ ){0,3}(line|number|phone|email|address|office|desk|extension|cell|team|department)"
    r"|(reach|call|email|contact|text|dial) (us|me)\b|me directly|i can be reached)",
    re.IGNORECASE,
)


def sentences(text: str) -> tuple[tuple[int, int], ...]:
    """Sentence spans; an email's or number's inner dots ("jane.doe@x.com", "412.555") do not split."""
    return _sentence_spans(text)


# Compiled once: `re.finditer(pattern_string, ...)` looks the pattern up in re's cache on every turn.
_SENTENCE_STOP = re.compile(r"[.?!]+(?=\s|$)")
# A title's dot ("What about Dr. Farhad Zamani on March 12th?") ends no sentence.
_TITLE = re.compile(r"(?<![A-Za-z])(?:[Dd]r|[Mm]rs?|[Mm]s)$")


def _sentences(text: str) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_STOP.finditer(text):
        at = m.start()
        if (
            m.end() - at == 1
            and text[at] == "."
            and text[at - 1 : at] in ("r", "s")
            and _TITLE.search(text, max(0, at - 4), at)
        ):
            continue
        spans.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return tuple((s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in spans if text[s:e].strip())


_sentence_spans = per_text("sentences", _sentences)


def last_sentence(text: str) -> str:
    """The turn's closing sentence (what a short answer responds to); the text itself when it has none."""
    spans = sentences(text)
    return text[spans[-1][0] : spans[-1][1]] if spans else text


# Typed chats split one answer over several messages ("cminh730" / "cminh730@email.com" / "8823045591"): a
# caller turn answers the last agent turn when only this many caller turns came between.
ANSWER_SPREAD = 2


def agent_turn_before(call: CallRecord, turn: int) -> int | None:
    """The agent turn that caller turn `turn` answers: the one just before it, or the one before the caller's
    previous turns when the caller is answering over several turns (at most ANSWER_SPREAD in between)."""
    k = turn - 1
    while k >= 0 and turn - 1 - k <= ANSWER_SPREAD:
        if call.turns[k].speaker is Speaker.AGENT:
            return k
        k -= 1
    return None


def question_before(call: CallRecord, turn: int) -> tuple[str, tuple[int, int]] | None:
    """The agent turn just before `turn` and the span of its last sentence, when that sentence is a
    question: what a short caller answer ("yes speaking", "this number is fine") responds to."""
    if turn == 0 or call.turns[turn - 1].speaker is not Speaker.AGENT:
        return None
    question = call.turns[turn - 1].text
    spans = sentences(question)
    if not spans or not question[spans[-1][0] : spans[-1][1]].rstrip().endswith("?"):
        return None
    return question, spans[-1]


def sentence_at(text: str, position: int) -> tuple[int, int]:
    for start, end in sentences(text):
        if start <= position < end:
            return start, end
    return 0, len(text)


def agent_asks_about(text: str, start: int) -> bool:
    """Is the value at `start` put to the caller as a question?

    Yes when its own sentence is the turn's closing question ("So that's 602-555-0176?"), or the turn closes
    with a short question pointing back at it ("I have your email as x@y.com. Is that still the best one?").
    """
    spans = sentences(text)
    if not spans:
        return False
    own = sentence_at(text, start)
    last = spans[-1]
    if not text[last[0] : last[1]].rstrip().endswith("?"):
        return False
    if own == last:
        return True
    return (
        own[1] <= last[0] and _BACK_REFERENCE.search(text, last[0], last[1]) is not None and own in spans[-2:]
    )


# Whose detail the agent's sentence is about. "Their number is 01223 311911." gives out a venue's number;
# "Is your number 617 ...?" / "I have you down as ..." puts the caller's own detail to them.
_ABOUT_CALLER = re.compile(
    r"\b(your|you|you're|youre|you've|confirm|i have|i've got|i got|we have|on file|correct|right|is that|is this)\b",
    re.IGNORECASE,
)
_ABOUT_SOMEONE_ELSE = re.compile(
    r"\b(their|its|it's|our|his|her|him|them|they|they're|theyre|the (restaurant|hotel|venue|station|office|store|shop|"
    r"clinic|hospital|theater|theatre|museum|attraction|gallery|police)|(phone|number|address|post ?code|zip)"
    r" (is|are|for))\b",
    re.IGNORECASE,
)
# A number given to the caller to call: "You can call ...", "you can reach them at ...".
_GIVEN_TO_CALL = re.compile(
    r"\b((you can|you may|you could|feel free to|please) (call|reach|contact|ring|dial|text)|"
    r"(call|reach|contact|ring|dial|text) (them|him|her|us|the \w+))\b[^.!?]*$",
    re.IGNORECASE,
)
# "your", or the caller as the one to be reached ("have him call you at ..."): the caller's detail after all.
_YOUR = re.compile(r"\byour\b|\b(call|reach|text|contact|email|ring) you\b", re.IGNORECASE)


def about_caller(text: str, start: int) -> bool:
    """Does the agent's sentence holding the value at `start` put the caller's own detail to them?

    An agent informing the caller about someone else ("Their phone number is ...", "The address is ...")
    and the caller saying "ok, thanks" gives the caller nothing of theirs; only a value framed as the
    caller's ("your", "I have you down as", "is that right?") can become theirs by a "yes".
    """
    s, e = sentence_at(text, start)
    own = text[s:e]
    if _ABOUT_SOMEONE_ELSE.search(own) and not _YOUR.search(own):
        return False
    if _GIVEN_TO_CALL.search(text, s, start) is not None:
        return False  # "You can call 650-940-1909 to learn more", "you can reach them at ...": theirs to call
    if own.rstrip().endswith("?"):
        return True  # "That's 646-555-0162?": a value put to the caller to check is theirs to confirm
    closing = last_sentence(text)
    return _ABOUT_CALLER.search(own) is not None or (
        closing.rstrip().endswith("?") and _ABOUT_CALLER.search(closing) is not None
    )


def agent_owns(text: str, start: int) -> bool:
    """Is the value at `start` the business's own detail (its phone line, an agent's direct number)?"""
    s, e = sentence_at(text, start)
    return _AGENT_OWN.search(text, s, e) is not None


# The caller asking for someone else's number: "What is the phone number of your property?", "Can I get their
# contact number?", "How can I reach them?". The number the agent answers with is theirs, never the caller's.
_ASKS_THEIR_NUMBER = re.compile(
    r"\b(what('?s| is| are)|can i (have|get)|could i (have|get)|give me|do you have|may i (have|know)|tell me)\b"
    r"[^.?!]{0,30}?\b(their|the|its|his|her|your)\s+([\w'-]+\s+){0,2}?(phone|contact|telephone) ?(number|line)s?\b"
    r"|\bhow (can|do|could) i (contact|reach|call) (them|him|her|it|the)\b",
    re.IGNORECASE,
)
_ASKS_THEIR_NUMBER_NEEDS = ("number", "line", "contact", "reach", "call")


def answers_number_request(call: CallRecord, i: int) -> bool:
    """Does agent turn i answer the caller's request for someone else's number (the place's, the provider's)?"""
    if i == 0 or call.turns[i - 1].speaker is not Speaker.CALLER:
        return False
    asked = call.turns[i - 1].text
    return may_say(asked, _ASKS_THEIR_NUMBER_NEEDS) and _ASKS_THEIR_NUMBER.search(asked) is not None


_VOICEMAIL_GREETING = re.compile(
    r"\b(not available|leave (a|your) message|at the tone|after the tone|record your message|voice ?mail|"
    r"mailbox|you have reached|youve reached|you've reached|please record|is unavailable|after the beep|"
    r"come to the phone|get back to you)\b",
    re.IGNORECASE,
)


def machine_turns(call: CallRecord) -> frozenset[int]:
    """Caller-side turns that are an answering machine, not the customer.

    On an outbound call the first "caller" turns may be a voicemail greeting; a number or name it reads
    out is not something the customer told us (dev-calls README: "a voicemail greeting that reads out a
    number" is not caller data).
    """
    return memo("machine_turns", call.call_id, id(call), lambda: _machine_turns(call))


def _machine_turns(call: CallRecord) -> frozenset[int]:
    out: set[int] = set()
    for i, turn in enumerate(call.turns):
        if turn.speaker is not Speaker.CALLER:
            break
        if _VOICEMAIL_GREETING.search(turn.text):
            out.add(i)
    if out:
        # The whole opening block of caller turns belongs to the machine once one of them is a greeting.
        out.update(range(max(out) + 1))
    return frozenset(out)


def caller_turns(call: CallRecord) -> list[int]:
    """The customer's turns (the answering machine's left out), in order."""
    return list(memo("caller_turns", call.call_id, id(call), lambda: tuple(_caller_turns(call))))


def _caller_turns(call: CallRecord) -> list[int]:
    machine = machine_turns(call)
    return [i for i, t in enumerate(call.turns) if t.speaker is Speaker.CALLER and i not in machine]


def reaction_to(call: CallRecord, agent_turn: int) -> tuple[Reaction, Evidence | None]:
    """The caller's reaction in the turn right after `agent_turn` (NEUTRAL when the caller did not speak next)."""
    nxt = agent_turn + 1
    if nxt >= len(call.turns) or call.turns[nxt].speaker is not Speaker.CALLER or nxt in machine_turns(call):
        return Reaction.NEUTRAL, None
    reaction, span = classify_reaction(call.turns[nxt].text)
    return reaction, Evidence(nxt, span[0], span[1]) if span else None


def read_back(
    call: CallRecord,
    agent_turn: int,
    value: str,
    start: int,
    end: int,
    *,
    asked_for: Callable[[str], bool] | None = None,
) -> ReadBack:
    """The agent saying `value` at [start, end) of `agent_turn`, with the caller's reaction to it.

    The caller's "yes"/"no" counts for this value only if the agent asked about it, or asked nothing at all
    ("Got it, x@y.com." - "yes"). After "Got it, x@y.com. Do you want a reminder?" the "yes" is about the
    reminder. `asked_for` (does a question ask for this kind of value: "What's the best number?") lets the
    read-back be recognised as an echo of the caller's answer (`echoes_answer`).
    """
    text = call.turns[agent_turn].text
    asked = agent_asks_about(text, start)
    reaction, reaction_ev = reaction_to(call, agent_turn)
    if not asked and text.rstrip().endswith("?"):
        reaction, reaction_ev = Reaction.NEUTRAL, None
    return ReadBack(
        value,
        Evidence(agent_turn, start, end),
        agent_turn,
        asked,
        reaction,
        reaction_ev,
        about_caller=about_caller(text, start),
        echoes_answer=asked_for is not None and echoes_answer(call, agent_turn, start, asked_for),
    )


# What may come before the value in an echo's sentence: an acknowledgement and a lead-in, nothing else
# ("Got it, 646-555-0152.", "Thanks, bwalsh@gmail.com.", "Okay, so that's 602-555-0176?", "Let me read that
# back: ...", "Let me confirm: ...", "Perfect, and that's ...").
_ECHO_LEAD = re.compile(
    # the agent putting right its own misreading ("Thank you for catching that, 412-555-0135."), first: the
    # match is the first the alternatives give, and "thank you" alone would end it before "for"
    r"(?:(?:thank(?:s| you) for (?:catching|correcting|clarifying) that|sorry(?: about that)?|"
    r"my (?:mistake|apologies)|(?:just )?to confirm|"
    r"ok(?:ay)?|got it|thanks|thank you|great|perfect|alright|all right|sure|lovely|wonderful|"
    r"no problem|understood)[,.!]?\s+)*"
    r"(?:(?:and|so)\s+)?(?:that'?s|that is|is that|i have|i've got|let me (?:confirm|read (?:that|it) back)"
    r"(?: to you)?[:,]?"
    # the account it looked up with the caller's answer: "I found trey.m@protonmail.com."
    r"|i(?:'ve| have)? (?:found|see|can see)(?: (?:an |the |your )?account (?:for|under))?"
    # or the callback it arranges on that number: "He'll call you this afternoon at 630-555-0116."
    r"|(?:he|she|they|we|i|someone)(?:'ll| will) (?:call|text|ring|reach|email) you(?: back)?(?: [a-z]+){0,3}"
    r" (?:at|on))?\s*",
    re.IGNORECASE,
)


def _last_question(text: str) -> str:
    """The turn's last sentence that is a question (not necessarily its last sentence), else ""."""
    if "?" not in text:
        return ""
    spans = [(s, e) for s, e in sentences(text) if text[s:e].rstrip().endswith("?")]
    return text[spans[-1][0] : spans[-1][1]] if spans else ""


def echoes_answer(call: CallRecord, agent_turn: int, start: int, asked_for: Callable[[str], bool]) -> bool:
    """Is the value at `start` the agent echoing what the caller just answered to its question for such a
    value ("What's the best number?" - <the caller's digits> - "Got it, 646-555-0152.")?

    On an AI call the agent's words are the bot's own text, never misheard, while the caller's words in the
    transcript are a recognizer's: when they come out garbled ("i live by the line"), the bot's echo is the
    only clean record of what the caller gave. So it counts only where it is plainly that: the turn before
    is the customer's, the agent's turn before that asked for this kind of value, and the value opens the
    agent's turn behind nothing but an acknowledgement ("Got it, ...", "So that's ...?").
    """
    answer = agent_turn - 1
    if answer < 1 or call.turns[answer].speaker is not Speaker.CALLER or answer in machine_turns(call):
        return False
    if asked_for(_last_question(call.turns[answer].text)):
        return False  # "Can you tell me the phone number?" - "925-750-8888 is the phone number": an answer
    question = agent_turn_before(call, answer)
    if question is None:
        return False
    spans = sentences(call.turns[question].text)
    if not spans:
        return False
    last = call.turns[question].text[spans[-1][0] : spans[-1][1]]
    if not asked_for(last):
        return False
    text = call.turns[agent_turn].text
    lead = _ECHO_LEAD.match(text)
    return lead is not None and lead.end() == start


# -- resolving mentions and read-backs ---------------------------------------------------------------

# How much each kind of event moves confidence. Documented here once; field modules pick their bases.
REPEAT_BOOST = 0.05  # the caller said the same value again
ECHO_BOOST = 0.05  # the agent repeated the value and the caller did not object
CONFIRM_BOOST = 0.12  # the agent read it back and the caller said "yes"
READBACK_ONLY = 0.85  # the caller confirmed a value only the agent said (e.g. "I have your email as ...")
READBACK_MANGLED = 0.85  # the caller confirmed the agent's clean version of what they had said garbled
RESOLVED_BY_CALLER = 0.80  # an ambiguous reading settled by the caller's own later words
RESOLVED_BY_ECHO = 0.75  # an ambiguous reading settled only by the agent's repetition: still a guess
UNMARKED_CHANGE_CAP = 0.60  # a different value with no "sorry, actually": we cannot tell which one is meant
DENIED_CAP = 0.40  # the caller said "no" to this exact value
# The agent echoed the caller's answer ("Got it, 646-555-0152.") and the caller did not object, but the
# caller's own words held no value we could read (a recognizer garbled them): the bot's hearing, unchecked,
# so below every field's bar: kept for review (reason ECHO_REASON), never accepted on its own.
ECHO_ONLY = 0.70
ECHO_REASON = "agent_echo_unconfirmed"
# The caller said one value and the agent read back or echoed another, which the caller said yes to or let
# pass: one of the two was misheard. The agent's (the bot's own text, never garbled) waits for review in
# ours' place, ours kept as superseded.
DIFFERS_REASON = "agent_reading_differs"
MANGLED_SIMILARITY = 0.80  # how close a confirmed read-back must be to the caller's words to replace them


@dataclass(frozen=True, slots=True)
class Mention:
    """The caller said a value."""

    value: str
    confidence: float
    evidence: tuple[Evidence, ...]
    turn: int
    # Announced as a correction ("wait no sorry ... it's"), or said in reply to a denied read-back.
    corrects: bool = False
    alternatives: tuple[str, ...] = ()  # other readings of the same words (ambiguous boundary)
    # Field-specific extras that travel with the value, each with its own evidence (a phone's extension).
    detail: dict[str, tuple[str, Evidence]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReadBack:
    """The agent said a value; `reaction` is the caller's next turn."""

    value: str
    evidence: Evidence
    turn: int
    asked: bool
    reaction: Reaction
    reaction_evidence: Evidence | None
    derived: Mention | None = None  # what the caller's denial itself implies ("no, no dot")
    # The agent framed the value as the caller's own ("your ...", "I have you down as ..."), not as a
    # detail of someone else it was giving out; only then can a "yes" make a value nobody else said theirs.
    about_caller: bool = True
    # The agent echoed the caller's answer to its own question for such a value (`echoes_answer`).
    echoes_answer: bool = False


@dataclass(frozen=True, slots=True)
class Resolved:
    value: str
    confidence: float
    evidence: tuple[Evidence, ...]
    superseded: tuple[tuple[str, tuple[Evidence, ...]], ...]
    detail: dict[str, tuple[str, Evidence]]
    ambiguous: bool
    echo_only: bool = False  # the value rests on the agent's unconfirmed echo alone (ECHO_ONLY)
    differs: bool = False  # the agent's version, offered in place of a different one of ours (DIFFERS_REASON)


@dataclass(slots=True)
class _State:
    value: str
    confidence: float
    evidence: list[Evidence]
    alternatives: tuple[str, ...]
    detail: dict[str, tuple[str, Evidence]]
    echo_only: bool = False  # the value is only the agent's echo of an answer we could not read
    differs: bool = False  # the agent's version, offered in place of a different one of ours (`disagree`)

    @property
    def ambiguous(self) -> bool:
        return len(self.alternatives) > 1

    def add(self, *evidence: Evidence | None) -> None:
        for ev in evidence:
            if ev is not None and ev not in self.evidence:
                self.evidence.append(ev)

    def settle(self, value: str) -> None:
        self.value = value
        self.alternatives = ()


def review_reason(resolved: Resolved) -> str:
    """Why a resolved value below its field's bar waits for review (docs/extraction.md, "Statuses and
    reasons")."""
    if resolved.ambiguous:
        return "ambiguous_reading"
    if resolved.echo_only:
        return ECHO_REASON
    if resolved.differs:
        return DIFFERS_REASON
    return "low_confidence"


def similar(a: str, b: str) -> bool:
    return SequenceMatcher(None, a, b).ratio() >= MANGLED_SIMILARITY


def resolve(
    events: Iterable[Mention | ReadBack], *, close: Callable[[str, str], bool] = similar
) -> Resolved | None:
    """Fold a call's mentions and read-backs, in call order, into the value the caller ends up giving.

    Rules: the caller's latest value wins over earlier ones, and the earlier ones are kept as superseded;
    a change the caller did not mark as a correction caps confidence (two numbers, no telling which);
    a confirmed read-back raises confidence, or becomes the value when the caller never said it or said
    it garbled (`close` decides what counts as garbled: spelling for emails; never for numbers, where
    "15000" and "1500" are close as strings and far apart as amounts); a denied read-back lowers the value
    it repeats.
    """
    state: _State | None = None
    superseded: list[tuple[str, tuple[Evidence, ...]]] = []

    def mention(m: Mention) -> None:
        nonlocal state
        if state is None:
            state = _State(m.value, m.confidence, list(m.evidence), m.alternatives, dict(m.detail))
        elif m.value == state.value and not m.alternatives:
            state.settle(state.value)
            state.echo_only = state.differs = False
            state.confidence = clamp(max(state.confidence, m.confidence) + REPEAT_BOOST)
            state.add(*m.evidence)
            state.detail.update(m.detail)
        elif state.ambiguous and m.value in state.alternatives and not m.alternatives:
            state.settle(m.value)
            state.confidence = clamp(max(m.confidence, RESOLVED_BY_CALLER))
            state.add(*m.evidence)
            state.detail.update(m.detail)
        elif m.alternatives and state.value in m.alternatives:
            state.confidence = clamp(state.confidence + REPEAT_BOOST)
            state.add(*m.evidence)
        else:
            superseded.append((state.value, tuple(state.evidence)))
            confidence = m.confidence if m.corrects else min(m.confidence, UNMARKED_CHANGE_CAP)
            state = _State(m.value, confidence, list(m.evidence), m.alternatives, dict(m.detail))

    def on_read_back(rb: ReadBack) -> None:
        nonlocal state
        matches = state is not None and (
            rb.value == state.value or (state.ambiguous and rb.value in state.alternatives)
        )
        if rb.echoes_answer and rb.reaction is not Reaction.DENY and (state is None or state.echo_only):
            echo(rb)
        elif rb.reaction is Reaction.CONFIRM:
            if state is not None and matches:
                base = RESOLVED_BY_CALLER if state.ambiguous else state.confidence
                state.settle(rb.value)
                state.confidence = clamp(max(base, state.confidence) + CONFIRM_BOOST)
                state.add(rb.evidence, rb.reaction_evidence)
            elif state is None:
                if not rb.about_caller:
                    return  # "Their number is ...?" - "ok": the caller acknowledged, it is not theirs
                state = _State(rb.value, READBACK_ONLY, [rb.evidence], (), {})
                state.add(rb.reaction_evidence)
            elif not rb.about_caller:
                # A yes to someone else's detail ("Their number is ...?") next to the caller's own: the
                # other detail is not the caller's to take, however like theirs it looks; the exchange is
                # confusing enough that the caller's own waits for review.
                state.confidence = min(state.confidence, UNMARKED_CHANGE_CAP)
            elif close(rb.value, state.value):
                superseded.append((state.value, tuple(state.evidence)))
                evidence = [*state.evidence, rb.evidence]
                state = _State(rb.value, READBACK_MANGLED, evidence, (), state.detail)
                state.add(rb.reaction_evidence)
            else:
                # The caller said yes to something unlike what they told us: one of the two is wrong. What
                # the caller said yes to is offered for review (the agent's words are the bot's own text;
                # ours may be a recognizer's garble), with ours kept as what it replaced.
                state = disagree(state, rb)
        elif rb.reaction is Reaction.DENY:
            if state is not None and rb.value == state.value:
                state.confidence = min(state.confidence, DENIED_CAP)
            if rb.derived is not None:
                mention(rb.derived)
        elif state is not None and matches:
            if state.ambiguous:
                state.settle(rb.value)
                state.confidence = max(state.confidence, RESOLVED_BY_ECHO)
            else:
                state.confidence = clamp(state.confidence + ECHO_BOOST)
            state.add(rb.evidence)
        elif state is not None and rb.echoes_answer:
            state = disagree(state, rb)  # the agent echoed the answer as something else, nobody objected

    def disagree(ours: _State, rb: ReadBack) -> _State:
        """The agent's version of the caller's value differs from ours: it is offered for review in our
        reading's place (capped, whatever either side's confidence), ours kept as what it replaced."""
        superseded.append((ours.value, tuple(ours.evidence)))
        theirs = _State(
            rb.value, min(ours.confidence, UNMARKED_CHANGE_CAP), [rb.evidence], (), {}, differs=True
        )
        theirs.add(rb.reaction_evidence)
        return theirs

    def echo(rb: ReadBack) -> None:
        """The agent's echo of an answer we could not read: the value, unchecked unless the caller says yes;
        a later echo of another value is the agent's corrected hearing and replaces it."""
        nonlocal state
        if state is not None and state.value != rb.value:
            superseded.append((state.value, tuple(state.evidence)))
            state = None
        if state is None:
            state = _State(rb.value, ECHO_ONLY, [rb.evidence], (), {}, echo_only=True)
        if rb.reaction is Reaction.CONFIRM:
            state.confidence = max(state.confidence, READBACK_ONLY)
            state.echo_only = False
        state.add(rb.evidence, rb.reaction_evidence)

    ordered = sorted(events, key=lambda e: (e.turn, 1 if isinstance(e, ReadBack) else 0))
    for event in ordered:
        if isinstance(event, Mention):
            mention(event)
        else:
            on_read_back(event)
    if state is None:
        return None
    final: _State = state
    return Resolved(
        final.value,
        final.confidence,
        tuple(sorted(final.evidence, key=lambda e: (e.turn, e.start, e.end))),
        tuple(superseded),
        final.detail,
        final.ambiguous,
        final.echo_only,
        final.differs,
    )
