"""The caller's contact number in E.164, and its extension.

Sources, in the caller's words only: digits spoken or written in a caller turn; "this number is fine" /
"the number I'm calling from" (the caller's own line, `call.caller_line`); a "yes" to the agent asking
"should we call you at this number?". The agent's own numbers ("call our office at ...") are never caller
data, and an agent read-back counts only when the caller confirms it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers

from callsync.capture.extract.dialogue import (
    Mention,
    Reaction,
    ReadBack,
    agent_owns,
    agent_turn_before,
    answers_number_request,
    caller_turns,
    classify_reaction,
    has_correction_marker,
    last_sentence,
    question_before,
    reaction_to,
    read_back,
    resolve,
    review_reason,
    sentences,
)
from callsync.capture.extract.spoken import (
    NUMBER_WORDS,
    DigitRun,
    find_digit_runs,
    may_hold_digit,
    memo,
    tokenize,
    word_set,
    words,
)
from callsync.capture.extract.thresholds import status_for
from callsync.models import CallRecord, Direction, Evidence, FieldStatus, FieldValue, Speaker

EXTRACTOR = "phone@1"

SPOKEN_BASE = 0.85  # a full, valid number in the caller's words, asked for or introduced as a number
UNPROMPTED_BASE = 0.70  # digits nobody called a phone number: a valid-looking number, an unknown purpose
TRIMMED_BASE = 0.60  # valid only after dropping a stray digit at one end: probably right, not certain
CALLER_LINE_STATED = 0.88  # the caller said "this number" / "the number I'm calling from"
CALLER_LINE_AFFIRMED = 0.85  # the caller said "yes" to "should we call you at this number?"
CALLER_LINE_HEARD = 0.85  # asked for a number, the caller said their line's digits, some of them lost
# A number of the right length that fails the validity check (an unassigned area code, a misheard digit):
# kept for a person to look at, never accepted, never silently dropped.
INVALID_BASE = 0.50

_EXTENSION_WORDS = frozenset({"extension", "ext", "extn"})
_MAX_EXTENSION_DIGITS = 6


@dataclass(frozen=True, slots=True)
class PhoneMatch:
    e164: str
    start: int
    end: int
    trimmed: bool
    extension: str | None = None
    extension_span: tuple[int, int] | None = None
    valid: bool = True


def to_e164(digits: str, *, plus: bool, region: str) -> str | None:
    """E.164 for a digit string, or None when it is not a valid number (wrong length, unassigned range)."""
    return memo("e164", f"{digits}|{region}", int(plus), lambda: _to_e164(digits, plus=plus, region=region))


def _to_e164(digits: str, *, plus: bool, region: str) -> str | None:
    try:
        number = phonenumbers.parse(("+" + digits) if plus else digits, None if plus else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def find_phones(text: str, default_region: str = "US") -> tuple[PhoneMatch, ...]:
    """Phone numbers in one turn's text, spoken ("six one seven ... double four") or written, in order."""
    runs = find_digit_runs(text)
    tokens = tokenize(text)
    out: list[PhoneMatch] = []
    skip: set[int] = set()
    for n, run in enumerate(runs):
        if n in skip:
            continue
        parsed = _parse_run(run, default_region)
        valid = parsed is not None
        if parsed is None:
            possible = possible_e164(run.digits, plus=run.plus, region=default_region)
            if possible is None:
                # No number by itself: perhaps the start of one the caller broke off and took up again.
                restarted = _restarted(text, runs, n, default_region)
                if restarted is not None:
                    out.append(restarted)
                    skip.add(n + 1)
                continue
            parsed = (possible, False)
        e164, trimmed = parsed
        extension: str | None = None
        extension_span: tuple[int, int] | None = None
        if n + 1 < len(runs):
            nxt = runs[n + 1]
            between = {t.text for t in tokens[run.end_token : nxt.first_token]}
            said_extension = between & _EXTENSION_WORDS and between <= _EXTENSION_WORDS | {
                "and",
                "at",
                "number",
            }
            if said_extension and len(nxt.digits) <= _MAX_EXTENSION_DIGITS:
                extension = nxt.digits
                extension_span = (tokens[run.end_token].start, nxt.end)
                skip.add(n + 1)
        out.append(PhoneMatch(e164, run.start, run.end, trimmed, extension, extension_span, valid))
    return tuple(out)


# What a caller says when they break off a number and start part of it again: "four one five, five two,
# sorry, hold on, five two nine, ...".
_RESTART = re.compile(
    r"\b(sorry|hold on|hang on|wait|one sec(ond)?|one moment|let me (start|say it|try) (again|over)|"
    r"start(ing)? (again|over)|scratch that|i mean|no)\b",
    re.IGNORECASE,
)


def _restarted(text: str, runs: Sequence[DigitRun], n: int, region: str) -> PhoneMatch | None:
    """A number broken off and taken up again: run `n` (no number by itself: the caller checked), a restart
    word, then run `n + 1` starting over the last digits of run `n` (or going on after them), no number by
    itself either; of the ways to join them (repeat the last k digits, or none), exactly one must be a valid
    number. It counts as a repaired number (`trimmed`): its confidence stays under what a number said in one
    go gets."""
    if n + 1 >= len(runs):
        return None
    head, tail = runs[n], runs[n + 1]
    between = text[head.end : tail.start]
    if len(between) > 40 or not _RESTART.search(between):
        return None
    if (
        head.plus
        or tail.plus
        or _parse_run(tail, region)
        or possible_e164(tail.digits, plus=False, region=region)
    ):
        return None  # a whole number after the break: two numbers, or a correction, not a restart
    joins = {
        head.digits[: len(head.digits) - k] + tail.digits
        for k in range(min(len(head.digits), len(tail.digits)) + 1)
        if head.digits.endswith(tail.digits[:k])
    }
    valid = {e for e in (to_e164(d, plus=False, region=region) for d in joins) if e is not None}
    if len(valid) != 1:
        return None
    return PhoneMatch(valid.pop(), head.start, tail.end, trimmed=True)


def possible_e164(digits: str, *, plus: bool, region: str) -> str | None:
    """E.164 for a digit string of a phone number's length that is not a valid number, else None."""
    return memo(
        "possible", f"{digits}|{region}", int(plus), lambda: _possible(digits, plus=plus, region=region)
    )


def _possible(digits: str, *, plus: bool, region: str) -> str | None:
    if len(digits) < 10 or len(digits) > 15:
        return None  # shorter strings are local numbers, codes, amounts: not worth a reviewer's time
    try:
        number = phonenumbers.parse(("+" + digits) if plus else digits, None if plus else region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number) or not phonenumbers.is_possible_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _parse_run(run: DigitRun, region: str) -> tuple[str, bool] | None:
    digits = run.digits
    if len(digits) < 7 or len(digits) > 15:
        return None
    e164 = to_e164(digits, plus=run.plus, region=region)
    if e164 is not None:
        return e164, False
    # "oh, six one seven ...": an interjection read as a leading zero.
    if run.words and run.words[0] in ("oh", "o"):
        e164 = to_e164(digits[1:], plus=run.plus, region=region)
        if e164 is not None:
            return e164, False
    # One stray digit at either end ("after nine six one seven ..."): keep only an unambiguous repair.
    candidates = {to_e164(d, plus=run.plus, region=region) for d in (digits[1:], digits[:-1])} - {None}
    if len(candidates) == 1:
        return str(candidates.pop()), True
    return None


# Digits said as some other identifier are not a phone even when they parse as one. Words that name an
# identifier on their own, and words that do so only with "number" after them ("in case we need" is not one).
_OTHER_NUMBER = re.compile(
    r"\b(account|card|policy|member|membership|claim|confirmation|routing|social security|ssn|zip|vin|invoice|"
    r"tracking|serial|pin|(case|order|reference|ticket|reservation|booking|check|model|license|loan|po|id)"
    r" (number|no|id|code))\b",
    re.IGNORECASE,
)
# Words that make what follows the holder of a number, not its kind: "the phone number ON the account".
_HOLDER = re.compile(
    r"\b(on|for|with|to|under|in|from|of|associated with|linked to|attached to|tied to)\s+"
    r"(the|your|my|this|that|our|his|her|their)\s+$",
    re.IGNORECASE,
)
_PHONE_CONTEXT = re.compile(
    r"\b(phone|number|call|calling|reach|cell|mobile|contact|text|line|dial)\b", re.IGNORECASE
)
_PHONE_WORD = re.compile(r"\b(phone|cell|mobile|reach|call|text|contact|line)\b", re.IGNORECASE)


def _asks_for_phone(question: str) -> bool:
    """Does the agent's closing sentence ask for the caller's number, or read one back to check it?"""
    if _OTHER_NUMBER.search(question) is not None:
        return False
    return (
        _PHONE_WORD.search(question) is not None
        or "number" in question.casefold()
        or bool(find_digit_runs(question))
    )


_CONTEXT_CHARS = 160  # the caller's lead-in: "please call me back at 720 ... sorry it's actually 720 ..."


def _context(call: CallRecord, i: int, start: int) -> str:
    """What frames digits said at `start` in caller turn i: the agent's question before, the caller's lead-in."""
    before = call.turns[i].text[max(0, start - _CONTEXT_CHARS) : start]
    asked = agent_turn_before(call, i)
    if asked is not None:
        question = call.turns[asked].text
        spans = sentences(question)
        if spans:
            before = question[spans[-1][0] : spans[-1][1]] + " " + before
    return before


def _mention_base(call: CallRecord, i: int, match: PhoneMatch) -> float | None:
    """Base confidence for a number the caller said; None when it is plainly some other identifier."""
    context = _context(call, i, match.start)
    phone = list(_PHONE_WORD.finditer(context))
    other = [
        m
        for m in _OTHER_NUMBER.finditer(context)
        # "the phone number on the account", "the number for your order": the account holds the phone.
        if not (phone and phone[0].start() < m.start() and _HOLDER.search(context, 0, m.start()))
    ]
    if other and (not phone or phone[-1].start() < other[-1].start()):
        return None  # the last thing named before the digits was an account, card, policy ... number
    asked = _PHONE_CONTEXT.search(context) is not None or _after_phone_read_back(call, i)
    if not match.valid:
        return INVALID_BASE if asked else None  # unprompted digits that are no number: not a phone at all
    base = SPOKEN_BASE if asked else UNPROMPTED_BASE
    return min(base, TRIMMED_BASE) if match.trimmed else base


def _after_phone_read_back(call: CallRecord, i: int) -> bool:
    """The agent just read a phone number back ("That's 310-555-0141?"): digits in the reply correct it."""
    if i == 0 or call.turns[i - 1].speaker is not Speaker.AGENT:
        return False
    question = call.turns[i - 1].text
    return question.rstrip().endswith("?") and bool(find_phones(question))


def business_line(call: CallRecord, region: str) -> str | None:
    """The business's own number (`to` on inbound calls, `from` on outbound): never the caller's contact."""
    line = call.to_number if call.direction is Direction.INBOUND else call.from_number
    return to_e164(line.lstrip("+"), plus=line.startswith("+"), region=region) if line else None


# -- "this number" ------------------------------------------------------------------------------------

_CALLER_LINE_SAID = re.compile(
    r"\b(?:"
    r"(?:this|that|same) (?:number|line|phone|cell)(?: (?:is|s|works|would be|will be))?"
    r" (?:fine|good|great|ok|okay|best|perfect|works)"
    # "that" said, or a filler a recognizer put in ("the number of i'm calling from" for "...number I'm...").
    r"|(?:the )?(?:number|line|phone)(?: (?:that|which|of|uh|um|er))? (?:i'?m|i am) (?:calling|calling you)"
    r" (?:from|on)"
    r"|(?:use|call me(?: back)?(?: at| on)?|reach me(?: at| on)?|text me(?: at| on)?) (?:this|the same) "
    r"(?:number|line|one|phone)"
    r"|this is my (?:cell|mobile|number|phone|cell phone|direct line|best number)"
    r")\b",
    re.IGNORECASE,
)
_LINE_WORDS = word_set("number line phone cell one calling mobile")
# A short answer to "what's the best number?" that points at the line the caller is on: "yes this number",
# "um just use this one", "the same one". Only at the start of the caller's answer to a number question.
_THIS_ONE_ANSWER = re.compile(
    r"^\W*(?:(?:um|uh|er|so|yes|yeah|yep|yup|sure|ok|okay|just|you can|please)\W+)*(?:use\W+|call\W+|try\W+)?"
    r"(?:this|that|the same)\W+(?:number|one|line|phone|cell)\b",
    re.IGNORECASE,
)
_ASKS_FOR_NUMBER = re.compile(r"\b(number|phone|reach you|call you|contact you|cell)\b", re.IGNORECASE)
# "don't use this number" (but "no, this number is fine" answers "do you have another one?").
_NEGATED = re.compile(r"\b(not|dont|don't|never)\W+(\w+\W+)?$", re.IGNORECASE)
_AGENT_THIS_NUMBER = re.compile(
    r"\b(this number|this line|this phone|number you'?re calling (from|on)|calling from|this the best number|"
    r"number (we|i) have on file|number on file)\b",
    re.IGNORECASE,
)


def _caller_line(call: CallRecord, region: str) -> str | None:
    """The line the caller calls from, in E.164 (None: withheld or not a number)."""
    line = call.caller_line
    return to_e164(line.lstrip("+"), plus=line.startswith("+"), region=region) if line else None


def _caller_line_mentions(call: CallRecord, callers: set[int], region: str) -> list[Mention]:
    e164 = _caller_line(call, region)
    if e164 is None:
        return []
    out: list[Mention] = []
    for i, turn in enumerate(call.turns):
        if i not in callers:
            continue
        said = words(turn.text)
        for m in _CALLER_LINE_SAID.finditer(turn.text) if not _LINE_WORDS.isdisjoint(said) else ():
            if _NEGATED.search(turn.text[: m.start()]):
                continue
            evidence = (Evidence(i, m.start(), m.end()),)
            corrects = has_correction_marker(turn.text, 0, m.start())
            out.append(Mention(e164, CALLER_LINE_STATED, evidence, i, corrects=corrects))
        if i == 0 or _LINE_WORDS.isdisjoint(words(call.turns[i - 1].text)):
            continue
        answer = _THIS_ONE_ANSWER.match(turn.text)
        previous = call.turns[i - 1]
        closing = last_sentence(previous.text)
        if (
            answer is not None
            and previous.speaker is Speaker.AGENT
            and _ASKS_FOR_NUMBER.search(closing) is not None
            # "The number is 408-984-8888." - "That one sounds good.": the agent gave a number, it asked for none
            and not any(c.isdigit() for c in closing)
            and not any(e.turn == i for m in out for e in m.evidence)
        ):
            out.append(Mention(e164, CALLER_LINE_STATED, (Evidence(i, 0, answer.end()),), i))
            continue
        asked = question_before(call, i)
        if asked is None:
            continue
        question, last = asked
        if _AGENT_THIS_NUMBER.search(question, last[0], last[1]) is None:
            continue
        reaction, reaction_ev = reaction_to(call, i - 1)
        if reaction is Reaction.CONFIRM and reaction_ev is not None:
            affirmed = (Evidence(i - 1, last[0], last[1]), reaction_ev)
            out.append(Mention(e164, CALLER_LINE_AFFIRMED, affirmed, i))
    return out


# -- events and resolution ----------------------------------------------------------------------------


def phone_events(call: CallRecord, default_region: str = "US") -> list[Mention | ReadBack]:
    """Phone numbers said in the call, in order (shared by `phone` and `callback_phone` within one extraction)."""
    return list(
        memo(
            f"phone_events|{default_region}",
            call.call_id,
            id(call),
            lambda: tuple(_phone_events(call, default_region)),
        )
    )


_BACKCHANNEL_WORDS = 4  # "mhm", "ok go on", "got it, and?": the agent letting the caller finish a number
_MIN_PIECE = 3  # digits a first piece needs before a broken-off number is worth joining
_FULL_NUMBER = 10  # a piece this long is a number on its own, not half of one
_TRAILING_FILLERS = frozenset({"um", "uh", "er", "and", "then"})


def _ends_in_digit(text: str) -> bool:
    """Does the turn end on a digit, spoken or written (fillers aside)?"""
    if not may_hold_digit(text):
        return False  # no numeral and no number word anywhere in the turn (most turns)
    for word in reversed(text[-48:].split()):
        word = word.strip(",.;:!?-").casefold()
        if not word or word in _TRAILING_FILLERS:
            continue
        return word[-1:].isdigit() or word in NUMBER_WORDS
    return False


_TAIL = re.compile(r"[\s,.;:!?-]*(?:(?:um|uh|er|and|then)[\s,.;:!?-]*)*$", re.IGNORECASE)


def _joined_across_turns(call: CallRecord, callers: set[int], region: str) -> list[Mention]:
    """A number the caller broke over two turns ("six one seven five five five" - "mhm" - "oh one four
    eight"): the digits ending one caller turn and those opening the caller's next turn, joined, when
    neither half is a number on its own and the whole is a valid one."""
    out: list[Mention] = []
    for i in sorted(callers):
        if not _ends_in_digit(call.turns[i].text):
            continue  # cheap test first: most turns do not end on a digit
        runs = find_digit_runs(call.turns[i].text)
        if not runs or not _TAIL.fullmatch(call.turns[i].text[runs[-1].end :]):
            continue
        head = runs[-1]
        if not _MIN_PIECE <= len(head.digits) < _FULL_NUMBER:
            continue
        j = i + 1
        if j < len(call.turns) and call.turns[j].speaker is Speaker.AGENT:
            if len(call.turns[j].text.split()) > _BACKCHANNEL_WORDS:
                continue
            j += 1
        if j not in callers:
            continue
        nxt = find_digit_runs(call.turns[j].text)
        if not nxt or call.turns[j].text[: nxt[0].start].strip(" ,.-").casefold() not in (
            "",
            "and",
            "um",
            "uh",
        ):
            continue
        tail = nxt[0]
        e164 = to_e164(head.digits + tail.digits, plus=head.plus, region=region)
        if e164 is None or len(tail.digits) >= _FULL_NUMBER:
            continue
        match = PhoneMatch(e164, head.start, head.end, trimmed=False)
        base = _mention_base(call, i, match)
        if base is None:
            continue
        evidence = (Evidence(i, head.start, head.end), Evidence(j, tail.start, tail.end))
        out.append(Mention(e164, base, evidence, j))
    return out


_LAST_DIGITS = re.compile(
    r"\b(?:the )?(?:last|final) (?P<k>two|three|four|five|2|3|4|5)(?: digits| numbers| numerals)?"
    r"(?: (?:are|is|should be|would be|it's|its|are actually|is actually))?\b|\bit ends (?:in|with)\b",
    re.IGNORECASE,
)
_COUNT = {"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5}


def _partial_corrections(
    call: CallRecord, callers: set[int], events: list[Mention | ReadBack], region: str
) -> list[Mention]:
    """ "No, the last four are two two one oh": the number said or read back before, with its end replaced.
    Only after a phone number came up, and never when the turn or the agent's question is about a card,
    an account or another identifier."""
    out: list[Mention] = []
    for i in sorted(callers):
        text = call.turns[i].text
        lowered = text.casefold()
        if "last" not in lowered and "final" not in lowered and "ends" not in lowered:
            continue
        m = _LAST_DIGITS.search(text)
        if m is None:
            continue
        earlier = [e for e in (*events, *out) if e.turn < i or (e.turn == i and e in out)]
        if not earlier or _OTHER_NUMBER.search(_context(call, i, m.start()) + " " + text) is not None:
            continue
        runs = [r for r in find_digit_runs(text) if r.start >= m.end()]
        if not runs:
            continue
        digits = runs[0].digits
        want = _COUNT.get((m.group("k") or "").casefold(), len(digits))
        previous = max(earlier, key=lambda e: e.turn).value
        if len(digits) != want or len(previous) <= want + 1:
            continue
        e164 = previous[:-want] + digits
        if to_e164(e164.lstrip("+"), plus=True, region=region) is None:
            continue
        evidence = (Evidence(i, m.start(), runs[0].end),)
        out.append(Mention(e164, SPOKEN_BASE, evidence, i, corrects=True))
    return out


def _phone_events(call: CallRecord, default_region: str) -> list[Mention | ReadBack]:
    callers = set(caller_turns(call))
    events: list[Mention | ReadBack] = list(_caller_line_mentions(call, callers, default_region))
    events.extend(_joined_across_turns(call, callers, default_region))
    business = business_line(call, default_region)
    # Numbers the agent gave out about someone else before the caller said them ("The phone number is ..."):
    # a caller repeating one ("617-555-0199, thanks") is noting it down, not giving theirs.
    given_out: set[str] = set()
    said_by_caller: set[str] = set()
    for i, turn in enumerate(call.turns):
        phones = find_phones(turn.text, default_region)
        if turn.speaker is Speaker.CALLER:
            if i not in callers or not phones:
                continue
            denies = (
                i > 0
                and call.turns[i - 1].speaker is Speaker.AGENT
                and classify_reaction(turn.text)[0] is Reaction.DENY
            )
            previous_end = 0
            for p in phones:
                base = _mention_base(call, i, p)
                if base is None or p.e164 == business or p.e164 in given_out:
                    continue
                said_by_caller.add(p.e164)
                detail = {}
                if not p.valid:
                    detail["invalid"] = ("invalid_number", Evidence(i, p.start, p.end))
                if p.extension and p.extension_span:
                    detail["extension"] = (p.extension, Evidence(i, *p.extension_span))
                events.append(
                    Mention(
                        p.e164,
                        base,
                        (Evidence(i, p.start, p.end),),
                        i,
                        corrects=denies or has_correction_marker(turn.text, previous_end, p.start),
                        detail=detail,
                    )
                )
                previous_end = p.end
            continue
        # The caller asked for someone else's number: whatever number the agent answers with is theirs.
        theirs = bool(phones) and answers_number_request(call, i)
        for p in phones:
            owned = theirs or agent_owns(turn.text, p.start)
            rb = read_back(call, i, p.e164, p.start, p.end, asked_for=_asks_for_phone)
            if p.e164 not in said_by_caller and not rb.echoes_answer and (owned or not rb.about_caller):
                given_out.add(p.e164)
            if not p.valid or owned or p.e164 == business:
                continue
            events.append(rb)
    events.extend(_partial_corrections(call, callers, events, default_region))
    events.extend(_denied_read_back_tails(call, callers, events, default_region))
    events.extend(_caller_line_heard_in_part(call, callers, events, default_region))
    return events


# The caller line's digits a heard answer must hold, in order: its last seven and the one before them.
_LINE_TAIL = 7


def _caller_line_heard_in_part(
    call: CallRecord, callers: set[int], events: list[Mention | ReadBack], region: str
) -> list[Mention]:
    """Asked for a phone (the agent's closing question, with no digits in it), the caller answers with
    digits that hold the last seven of the line they call from and, right before them, the end of its area
    code ("... five five five five oh one three two" for 215-555-0132: the recognizer lost "two one"): that
    line. No whole number was heard in the answer (the rules above read one), so the digits alone are no
    number; that they agree with the caller's own line in eight or more places is what makes them one.
    Seven alone is a local number, not taken (the caller may mean another line in the same exchange)."""
    e164 = _caller_line(call, region)
    if e164 is None or len(e164) <= _LINE_TAIL + 2:
        return []
    tail, head = e164[-_LINE_TAIL:], e164[1:-_LINE_TAIL]
    said = {e.turn for e in events if isinstance(e, Mention)}
    out: list[Mention] = []
    for i in sorted(callers - said):
        runs = find_digit_runs(call.turns[i].text)
        if not any(tail in run.digits for run in runs):
            continue  # checked first: most answers hold no seven digits of the line
        asked = question_before(call, i)
        if asked is None or find_digit_runs(asked[0]):
            continue  # no question, or the agent said digits (a read-back): the caller may be repeating them
        question = asked[0][asked[1][0] : asked[1][1]]
        phone = [m.start() for m in _PHONE_WORD.finditer(question)]
        if not phone or any(m.start() > phone[-1] for m in _OTHER_NUMBER.finditer(question)):
            continue  # not a phone the agent asked for ("the account number?")
        for run in runs:
            at = run.digits.find(tail)  # within one run: digits with words between them are not one number
            if at >= 1 and run.digits[at - 1] == head[-1]:
                out.append(Mention(e164, CALLER_LINE_HEARD, (Evidence(i, run.start, run.end),), i))
                break
    return out


# The last digits a caller's denial is compared on, and how many of them must agree with the read-back.
_DENIED_TAIL, _DENIED_TAIL_AGREES = 4, 3


def _denied_read_back_tails(
    call: CallRecord, callers: set[int], events: list[Mention | ReadBack], region: str
) -> list[Mention]:
    """ "Let me read that back: 404-555-0175?" "No, ... five five zero one seven two": the read-back with
    the caller's last four digits, when they differ from its last four in exactly one. Said without "the
    last four are" (a recognizer loses such words: "the last did you get"), so the rule leans on the number
    instead: a denial right after the read-back, no whole number in the answer, and a tail that is the
    read-back's but for one digit (one digit misheard is what a correction of a read-back fixes)."""
    out: list[Mention] = []
    said = {e.turn for e in events if isinstance(e, Mention)}
    for event in events:
        if (
            not isinstance(event, ReadBack)
            or event.reaction is not Reaction.DENY
            or event.derived is not None
        ):
            continue
        i = event.turn + 1
        if i not in callers or i in said:
            continue  # the caller said a number of their own (or its end): the rules above read it
        text = call.turns[i].text
        runs = find_digit_runs(text)
        digits = "".join(r.digits for r in runs)
        tail, previous = digits[-_DENIED_TAIL:], event.value
        if len(tail) < _DENIED_TAIL or len(previous) <= _DENIED_TAIL + 1:
            continue
        if sum(a == b for a, b in zip(tail, previous[-_DENIED_TAIL:], strict=True)) != _DENIED_TAIL_AGREES:
            continue
        e164 = previous[:-_DENIED_TAIL] + tail
        if to_e164(e164.lstrip("+"), plus=True, region=region) is None:
            continue
        evidence = (Evidence(i, runs[0].start, runs[-1].end),)
        out.append(Mention(e164, SPOKEN_BASE, evidence, i, corrects=True))
    return out


def extract_phone(call: CallRecord, *, default_region: str = "US") -> dict[str, FieldValue]:
    """`phone` (E.164) and, when the caller gave one with it, `phone_extension` (digits)."""
    resolved = resolve(phone_events(call, default_region))
    if resolved is None:
        return {}
    invalid = "invalid" in resolved.detail
    confidence = min(resolved.confidence, INVALID_BASE) if invalid else resolved.confidence
    status = status_for("phone", confidence)
    reason = "invalid_number" if invalid else review_reason(resolved)
    fields = {
        "phone": FieldValue(
            value=resolved.value,
            confidence=confidence,
            evidence=resolved.evidence,
            extractor=EXTRACTOR,
            status=status,
            reason=None if status is FieldStatus.ACCEPTED else reason,
            superseded=resolved.superseded,
        )
    }
    if "extension" in resolved.detail:
        digits, evidence = resolved.detail["extension"]
        ext_status = status_for("phone_extension", resolved.confidence)
        fields["phone_extension"] = FieldValue(
            value=digits,
            confidence=resolved.confidence,
            evidence=(evidence,),
            extractor=EXTRACTOR,
            status=ext_status,
            reason=None if ext_status is FieldStatus.ACCEPTED else "low_confidence",
        )
    return fields
