"""The caller's account, order, claim, policy, ticket or confirmation number: `reference_id`.

Read as letters and digits ("b c seven seven four one nine two" → BC774192, "r m c dash three three oh eight
one" → RMC33081): upper case, separators dropped. "oh" is a zero among digits and the letter O next to
letters ("h o four four ..." → HO44...). Only where the agent asked for such a number or the caller named it
("my order number is ..."); never card numbers, social security numbers, PINs or a card's last four digits,
which callsync does not capture at all; and never a number the agent made up ("I've opened ticket 48213").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from callsync.capture.extract.dialogue import (
    Mention,
    Reaction,
    ReadBack,
    agent_turn_before,
    caller_turns,
    classify_reaction,
    has_correction_marker,
    read_back,
    resolve,
    review_reason,
    sentences,
)
from callsync.capture.extract.spoken import (
    SEPARATOR_WORDS,
    UNITS,
    Token,
    find_emails,
    joined,
    may_hold_digit,
    memo,
    tokenize,
    word_set,
    words,
)
from callsync.capture.extract.thresholds import status_for
from callsync.models import CallRecord, Evidence, FieldStatus, FieldValue, Speaker

EXTRACTOR = "reference@1"

GIVEN = 0.85  # asked for, or named by the caller ("the claim number is ...")
SHORT = 0.70  # three or four characters: easily a mishearing or some other number

_KIND = (
    r"(order|account|claim|policy|confirmation|reference|ref|ticket|case|member(ship)?|invoice|tracking|"
    r"reservation|booking|prescription|rx|work order|customer|client|loan|permit|po)"
)
_ASKED = re.compile(rf"\b{_KIND}\b.*\b(number|no|id|code|#)\b|\b{_KIND} (number|no|id|code)\b", re.IGNORECASE)
_NAMED = re.compile(rf"\b{_KIND}( (number|no|id|code|#))?( is| was|:)?\s*(it'?s\s*)?$", re.IGNORECASE)
# Never captured: payment cards, social security numbers, PINs, passwords, a card's last digits, birth dates.
_SENSITIVE = re.compile(
    r"\b(card|social security|ssn|pin|password|passcode|routing|cvv|security code|last four|last 4|"
    r"date of birth|birthday|born)\b",
    re.IGNORECASE,
)
_DIGITS = {w: d for w, d in UNITS.items() if w not in ("oh", "o")}
_KIND_WORDS = word_set("""order account claim policy confirmation reference ref ticket case member membership invoice
    tracking reservation booking prescription rx customer client loan permit po""")
_WRITTEN_ID = re.compile(r"\b[A-Za-z]{0,4}-?\d[\dA-Za-z-]{1,18}\b")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_LEAD_INS = word_set("its it is yes yeah sure um uh ok okay the number my thats")


def _read_id(text: str, tokens: Sequence[Token], i: int) -> tuple[str, int] | None:
    """Letters and digits from token i, said one by one or written ("BC774192", "4481", "w o dash 5 5")."""
    out = ""
    j = i
    while j < len(tokens) and len(out) < 20:
        if (
            j > i
            and not joined(text, tokens[j - 1], tokens[j], letters=True)
            and not joined(text, tokens[j - 1], tokens[j])
        ):
            break
        w = tokens[j].text
        if w in SEPARATOR_WORDS and out and SEPARATOR_WORDS[w] in ("-", "."):
            j += 1
            continue
        if w in ("oh", "o"):
            # "o" next to letters is the letter ("h o four ..." → HO4..., "o k one ..." → OK1...); "oh", and
            # "o" among digits, is a zero.
            k = j + 1
            while k < len(tokens) and tokens[k].text == "o":
                k += 1  # "o o a ...": the letters after a run of o's decide for the whole run
            nxt = tokens[k].text if k < len(tokens) else ""
            next_letter = len(nxt) == 1 and nxt.isalpha()
            out += "O" if w == "o" and (out[-1:].isalpha() or next_letter) else "0"
        elif w in _DIGITS:
            out += _DIGITS[w]
        elif (
            w.isdigit()
            or (w.isalnum() and any(c.isdigit() for c in w) and w.isascii())
            or (len(w) == 1 and w.isalpha())
        ):
            out += w.upper()
        elif (
            w in ("double", "triple")
            and j + 1 < len(tokens)
            and (tokens[j + 1].text in _DIGITS or len(tokens[j + 1].text) == 1)
        ):
            unit = _DIGITS.get(tokens[j + 1].text, tokens[j + 1].text.upper())
            out += unit * (2 if w == "double" else 3)
            j += 2
            continue
        else:
            break
        j += 1
    # Trailing separators were skipped; an id has a digit and at least three characters.
    if len(out) < 3 or not any(c.isdigit() for c in out):
        return None
    return out, j


def ids_in(text: str, start: int = 0) -> list[tuple[str, int, int]]:
    """(id, start, end) for every id-like run in text[start:]."""
    if not may_hold_digit(text):
        return []  # every id holds a digit
    tokens = tokenize(text)
    out: list[tuple[str, int, int]] = []
    k = 0
    while k < len(tokens):
        if tokens[k].start < start:
            k += 1
            continue
        read = _read_id(text, tokens, k)
        if read is None:
            k += 1
            continue
        value, end = read
        out.append((value, tokens[k].start, tokens[end - 1].end))
        k = end
    return out


def _asked(call: CallRecord, i: int) -> bool:
    """The agent's question just before asks for an id, and not for anything sensitive."""
    k = agent_turn_before(call, i)
    if k is None:
        return False
    text = call.turns[k].text
    for s, e in sentences(text):
        sentence = text[s:e]
        if sentence.rstrip().endswith("?") and _ASKED.search(sentence) and not _SENSITIVE.search(sentence):
            return True
    return False


def reference_events(call: CallRecord) -> list[Mention | ReadBack]:
    events: list[Mention | ReadBack] = []
    heard: set[str] = set()
    callers = set(caller_turns(call))
    for i, turn in enumerate(call.turns):
        text = turn.text
        if turn.speaker is Speaker.AGENT:
            if not heard:
                continue
            for m in _WRITTEN_ID.finditer(text):
                value = _NOT_ALNUM.sub("", m.group().upper())
                if value in heard:
                    events.append(read_back(call, i, value, m.start(), m.end()))
            continue
        if i not in callers:
            continue
        k = agent_turn_before(call, i)
        previous_words = words(call.turns[k].text) if k is not None else frozenset()
        if _KIND_WORDS.isdisjoint(words(text)) and _KIND_WORDS.isdisjoint(previous_words):
            continue
        ids = ids_in(text)
        if not ids:
            continue  # read first: most turns hold no id, and nothing below matters without one
        asked = _asked(call, i)
        previous = call.turns[k].text if k is not None else ""
        if _SENSITIVE.search(previous[-120:]) and not asked:
            continue
        denies = k == i - 1 and classify_reaction(text)[0] is Reaction.DENY
        # "Your username, email and order ID?": an answer with letters may be the username, not the id.
        username_too = asked and _USERNAME.search(previous) is not None
        for value, start, end in ids:
            lead = text[max(0, start - 40) : start]
            named = _NAMED.search(lead) is not None
            if _SENSITIVE.search(lead) or not (named or (asked and _answer_start(text, start))):
                continue
            if not named and ((username_too and not value.isdigit()) or value in _email_local_parts(call)):
                continue
            confidence = GIVEN if len(value) >= 5 else SHORT
            heard.add(value)
            corrects = denies or has_correction_marker(text, 0, start)
            events.append(Mention(value, confidence, (Evidence(i, start, end),), i, corrects=corrects))
    return events


_USERNAME = re.compile(r"\b(user ?names?|user ?ids?|logins?|handles?|screen names?)\b", re.IGNORECASE)


def _email_local_parts(call: CallRecord) -> frozenset[str]:
    """The local parts of the emails said in the call, as ids read them: "cminh730" is a username."""
    return memo("email_locals", call.call_id, id(call), lambda: _local_parts(call))


def _local_parts(call: CallRecord) -> frozenset[str]:
    return frozenset(
        _NOT_ALNUM.sub("", e.value.split("@", 1)[0].upper()) for t in call.turns for e in find_emails(t.text)
    )


def _answer_start(text: str, start: int) -> bool:
    """The id opens the caller's answer (after lead-ins such as "yeah it's"), or is named right before it."""
    before = [t.text for t in tokenize(text[:start])]
    return all(w in _LEAD_INS for w in before[-4:]) and len(before) <= 6


def _never_close(_a: str, _b: str) -> bool:
    return False


def extract_reference(call: CallRecord) -> FieldValue | None:
    resolved = resolve(reference_events(call), close=_never_close)
    if resolved is None:
        return None
    status = status_for("reference_id", resolved.confidence)
    return FieldValue(
        value=resolved.value,
        confidence=resolved.confidence,
        evidence=resolved.evidence,
        extractor=EXTRACTOR,
        status=status,
        reason=None if status is FieldStatus.ACCEPTED else review_reason(resolved),
        superseded=resolved.superseded,
    )


def render_spoken_id(value: str, *, zero: str = "oh") -> str:
    """Say an id the way callers do: "BC774192" → "b c seven seven four one nine two" (property tests)."""
    said: list[str] = []
    for ch in value.upper():
        if ch.isdigit():
            said.append(zero if ch == "0" else _DIGIT_NAMES[ch])
        elif ch.isalpha():
            said.append(ch.lower())
    return " ".join(said)


_DIGIT_NAMES = {d: w for w, d in _DIGITS.items() if w != "zero"}
