"""The caller's own street address (`address`: "4118 North Ashland Avenue Apt 2B") and US `zip`.

Callers say house numbers in pairs ("forty one eighteen" is 4118, "two forty seven" is 247, "eighty eight oh
one" is 8801) and ordinal streets in words ("west thirty second avenue"). An address is read only where the
caller gives theirs: after the agent asks for an address, or "my address is", "i live at", "the address is".
An address the caller says is someone else's ("my mom's place ...") is not theirs; the agent's own office
and the listing a caller asks about are never caller data. The value is the street line (number, street,
unit); the city is not kept, and a ZIP code only when it is five digits said as one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from callsync.capture.extract.dialogue import (
    Mention,
    Reaction,
    ReadBack,
    caller_turns,
    classify_reaction,
    has_correction_marker,
    read_back,
    resolve,
    review_reason,
)
from callsync.capture.extract.spoken import (
    TEENS,
    TENS,
    UNITS,
    Token,
    joined,
    render_cardinal,
    tokenize,
    word_set,
    words,
)
from callsync.capture.extract.thresholds import status_for
from callsync.models import CallRecord, Evidence, FieldStatus, FieldValue, Speaker

EXTRACTOR = "address@1"

GIVEN = 0.85  # the caller gave an address when asked for one, or announced it ("my address is ...")
UNPROMPTED = 0.60  # a street address nobody asked for: whose is it?
ZIP_GIVEN = 0.85

SUFFIXES: dict[str, str] = {
    "street": "Street",
    "st": "St",
    "avenue": "Avenue",
    "ave": "Ave",
    "road": "Road",
    "rd": "Rd",
    "lane": "Lane",
    "ln": "Ln",
    "drive": "Drive",
    "dr": "Dr",
    "boulevard": "Boulevard",
    "blvd": "Blvd",
    "court": "Court",
    "ct": "Ct",
    "way": "Way",
    "place": "Place",
    "pl": "Pl",
    "circle": "Circle",
    "terrace": "Terrace",
    "parkway": "Parkway",
    "highway": "Highway",
    "trail": "Trail",
    "grove": "Grove",
    "row": "Row",
    "crescent": "Crescent",
    "square": "Square",
    "loop": "Loop",
    "pike": "Pike",
    "plaza": "Plaza",
    "walk": "Walk",
}
DIRECTIONS = {
    "north": "North",
    "south": "South",
    "east": "East",
    "west": "West",
    "northeast": "Northeast",
    "northwest": "Northwest",
    "southeast": "Southeast",
    "southwest": "Southwest",
}
UNIT_WORDS = {"apartment": "Apt", "apt": "Apt", "unit": "Unit", "suite": "Suite", "number": "Apt"}
_ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
    "fortieth": 40,
    "fiftieth": 50,
}
_SMALL = {w: int(d) for w, d in UNITS.items() if w not in ("oh", "o", "zero")}
_SMALL.update({w: int(d) for w, d in TEENS.items()})
_TENS = {w: int(d) * 10 for w, d in TENS.items()}
# Street name words stop at these.
_NAME_STOP = word_set("""and the a an at in on of to for my our is its it was im um uh so please thanks near by from
    with apartment apt unit suite number zip code city""") | frozenset(SUFFIXES)
_ASKED = re.compile(
    r"\b(address|unit|apartment number|where (are you|do you live|is (the|your) (house|home|property))|where would (the|your) \w+ be|"
    r"where are you located|your location)\b",
    re.IGNORECASE,
)
_ANNOUNCED = re.compile(
    r"\b(my address|the address|i live at|we live at|im at|were at|located at|service address)\b",
    re.IGNORECASE,
)
# An address the caller says belongs to someone else.
_THEIRS = re.compile(
    r"\b(my )?(moms|mothers|dads|fathers|parents|sisters|brothers|friends|daughters|sons|grandmas|"
    r"grandmothers|neighbors|bosss|clients) (place|house|home|apartment|address)|\b(her|his|their) (place|house|home|address)\b",
    re.IGNORECASE,
)
_ZIP_ASKED = re.compile(r"\bzip\b|\bpostal code\b", re.IGNORECASE)
_US_STATES = word_set("""alabama alaska arizona arkansas california colorado connecticut delaware florida georgia
    hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan
    minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas
    utah vermont virginia washington wisconsin wyoming""")


_WRITTEN_ORDINAL = re.compile(r"\d{1,3}(st|nd|rd|th)")
_UNIT_ID = re.compile(r"\d+[a-z]")
_MC = re.compile(r"^Mc([a-z])")
_FIVE_DIGITS = re.compile(r"\b\d{5}\b")
_SUFFIX_WORDS = frozenset(SUFFIXES)


@dataclass(frozen=True, slots=True)
class StreetAddress:
    value: str  # "4118 North Ashland Avenue Apt 2B"
    start: int
    end: int
    end_token: int


def _house_number(text: str, tokens: Sequence[Token], i: int) -> tuple[str, int] | None:
    """House number digits from token i: "forty one eighteen" → 4118, "two forty seven" → 247, "1440"."""
    word = tokens[i].text
    if word.isdigit() and 1 <= len(word) <= 6:
        return word, i + 1
    # Digit by digit: "one oh two oh three" (every word a single digit or "oh").
    k = i
    while (
        k < len(tokens)
        and k - i < 6
        and (tokens[k].text in ("oh", "o") or _SMALL.get(tokens[k].text, 10) < 10)
    ):
        if k > i and not joined(text, tokens[k - 1], tokens[k]):
            break
        k += 1
    if k - i >= 3 and not (k < len(tokens) and (tokens[k].text in _SMALL or tokens[k].text in _TENS)):
        return "".join(
            "0" if tokens[n].text in ("oh", "o") else str(_SMALL[tokens[n].text]) for n in range(i, k)
        ), k
    groups: list[str] = []
    j = i
    while j < len(tokens) and len(groups) < 6:
        if j > i and not joined(text, tokens[j - 1], tokens[j]):
            break
        w = tokens[j].text
        if w == "hundred" and groups and len(groups[-1]) <= 2:
            groups[-1] = str(int(groups[-1]) * 100)
            j += 1
            continue
        if w in ("oh", "o") and groups:
            nxt = tokens[j + 1].text if j + 1 < len(tokens) else ""
            if nxt in _SMALL and _SMALL[nxt] < 10:
                groups.append(f"0{_SMALL[nxt]}")  # "eighty eight oh one": 88 | 01
                j += 2
            else:
                groups.append("0")  # "one oh oh oh oh": digit by digit
                j += 1
            continue
        if w in _TENS:
            value = _TENS[w]
            if j + 1 < len(tokens) and tokens[j + 1].text in _SMALL and _SMALL[tokens[j + 1].text] < 10:
                value += _SMALL[tokens[j + 1].text]
                j += 1
            groups.append(str(value))
            j += 1
            continue
        if w in _SMALL:
            groups.append(str(_SMALL[w]))
            j += 1
            continue
        break
    if not groups:
        return None
    if len(groups) > 1 and all(len(g) == 1 for g in groups):
        return "".join(groups), j  # digit by digit: "four two" → 42
    # Pairs after the first group are two digits each ("twenty two ten": 22|10).
    digits = groups[0] + "".join(g.zfill(2) if len(g) <= 2 else g for g in groups[1:])
    return digits, j


def _street_at(text: str, tokens: Sequence[Token], j: int) -> tuple[str, int] | None:
    """ "east palm lane", "west thirty second avenue", "president street" from token j: (street, next index)."""
    parts: list[str] = []
    k = j
    if k < len(tokens) and tokens[k].text in DIRECTIONS:
        parts.append(DIRECTIONS[tokens[k].text])
        k += 1
    name: list[str] = []
    while k < len(tokens) and len(name) < 4:
        w = tokens[k].text
        if w in SUFFIXES and name:
            return " ".join([*parts, *name, SUFFIXES[w]]), k + 1
        ordinal = _ordinal_street(tokens, k)
        if ordinal is not None and not name:
            name.append(ordinal[0])
            k = ordinal[1]
            continue
        if w in _NAME_STOP or not w.isalpha() or w in _SMALL or w in _TENS:
            return None
        name.append(_title(tokens[k], text))
        k += 1
    return None


def _ordinal_street(tokens: Sequence[Token], k: int) -> tuple[str, int] | None:
    """ "thirty second" → 32nd, "ninety first" → 91st, "seventh" → 7th, "32nd" as written."""
    w = tokens[k].text
    if _WRITTEN_ORDINAL.fullmatch(w):
        return w, k + 1
    value, end = None, k
    if w in _TENS and k + 1 < len(tokens) and tokens[k + 1].text in _ORDINAL_WORDS:
        value, end = _TENS[w] + _ORDINAL_WORDS[tokens[k + 1].text], k + 2
    elif w in _ORDINAL_WORDS:
        value, end = _ORDINAL_WORDS[w], k + 1
    if value is None:
        return None
    suffix = "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}", end


def _title(token: Token, text: str) -> str:
    raw = text[token.start : token.end]
    word = raw if not raw.islower() else raw.capitalize()
    return _MC.sub(lambda m: "Mc" + m.group(1).upper(), word)


def _unit_at(tokens: Sequence[Token], k: int) -> tuple[str, int] | None:
    """ "apartment two b" → Apt 2B, "unit four c" → Unit 4C, "suite 300"."""
    if k >= len(tokens) or tokens[k].text not in UNIT_WORDS:
        return None
    designator = UNIT_WORDS[tokens[k].text]
    j = k + 1
    ident = ""
    while j < len(tokens) and len(ident) < 5:
        w = tokens[j].text
        if w.isdigit() or _UNIT_ID.fullmatch(w):
            ident += w.upper()
        elif w in _SMALL and _SMALL[w] < 10:
            ident += str(_SMALL[w])
        elif w in ("oh", "o") and ident:
            ident += "0"
        elif len(w) == 1 and w.isalpha() and ident:
            ident += w.upper()
        else:
            break
        j += 1
    if not ident:
        return None
    return f"{designator} {ident}", j


def find_street_addresses(text: str) -> list[StreetAddress]:
    tokens = tokenize(text)
    out: list[StreetAddress] = []
    i = 0
    while i < len(tokens):
        word = tokens[i].text
        if not (word.isdigit() or word in _SMALL or word in _TENS):
            i += 1
            continue
        number = _house_number(text, tokens, i)
        street = _street_at(text, tokens, number[1]) if number else None
        if number is None or street is None:
            i += 1
            continue
        value, end = f"{int(number[0])} {street[0]}", street[1]
        # A unit after the street ("..., apartment 2B"), possibly after a comma.
        unit = _unit_at(tokens, end)
        if unit is None:
            unit = _unit_before(tokens, i)
            unit_end = end
        else:
            unit_end = unit[1]
        if unit is not None:
            value = f"{value} {unit[0]}"
        start = tokens[i].start
        out.append(StreetAddress(value, start, tokens[unit_end - 1].end, unit_end))
        i = unit_end
    return out


def _unit_before(tokens: Sequence[Token], i: int) -> tuple[str, int] | None:
    """ "unit four c at two ten riverside drive": the unit said before the address."""
    if i < 2 or tokens[i - 1].text != "at":
        return None
    for k in range(max(0, i - 5), i - 1):
        unit = _unit_at(tokens, k)
        if unit is not None and unit[1] == i - 1:
            return unit
    return None


def _zip_after(text: str, tokens: Sequence[Token], k: int, *, asked: bool) -> tuple[str, int, int] | None:
    """A five-digit ZIP from token k, after an optional city and state ("tempe eight five two eight two")."""
    j = k
    skipped = 0
    while (
        j < len(tokens)
        and skipped < 3
        and tokens[j].text.isalpha()
        and tokens[j].text not in _SMALL
        and tokens[j].text not in ("oh", "o", "zero")
    ):
        if tokens[j].text in ("and", "my", "its", "the", "is", "zip", "code"):
            j += 1
            skipped += 1
            continue
        j += 1
        skipped += 1
    if j >= len(tokens):
        return None
    digits = ""
    start = tokens[j].start
    end = j
    while end < len(tokens) and len(digits) < 6:
        w = tokens[end].text
        if w.isdigit():
            digits += w
        elif (w in _SMALL and _SMALL[w] < 10) or w == "zero":
            digits += str(_SMALL.get(w, 0))
        elif w in ("oh", "o"):
            digits += "0"
        else:
            break
        end += 1
    if len(digits) != 5:
        return None
    return digits, start, tokens[end - 1].end


def _asked(call: CallRecord, i: int, pattern: re.Pattern[str]) -> bool:
    return (
        i > 0
        and call.turns[i - 1].speaker is Speaker.AGENT
        and pattern.search(call.turns[i - 1].text) is not None
    )


def _never_close(_a: str, _b: str) -> bool:
    return False


def address_events(call: CallRecord) -> tuple[list[Mention | ReadBack], list[Mention | ReadBack]]:
    """(address events, zip events) in call order."""
    addresses: list[Mention | ReadBack] = []
    zips: list[Mention | ReadBack] = []
    heard: dict[str, str] = {}  # casefolded → as the caller's words gave it
    heard_zips: set[str] = set()
    callers = set(caller_turns(call))
    voicemail = (
        call.turns
        and call.turns[0].speaker is Speaker.AGENT
        and _ASKED.search(call.turns[0].text) is not None
    )
    for i, turn in enumerate(call.turns):
        text = turn.text
        has_street = not _SUFFIX_WORDS.isdisjoint(words(text))
        if turn.speaker is Speaker.AGENT:
            for a in find_street_addresses(text) if heard and has_street else ():
                if a.value.casefold() in heard:
                    addresses.append(read_back(call, i, heard[a.value.casefold()], a.start, a.end))
            for m in _FIVE_DIGITS.finditer(text) if heard_zips else ():
                if m.group() in heard_zips:
                    zips.append(read_back(call, i, m.group(), m.start(), m.end()))
            continue
        if i not in callers:
            continue
        zip_asked = i > 0 and "zip" in call.turns[i - 1].text.lower() and _asked(call, i, _ZIP_ASKED)
        if not has_street and not zip_asked:
            continue
        asked = _asked(call, i, _ASKED) or bool(voicemail)
        denies = (
            i > 0
            and call.turns[i - 1].speaker is Speaker.AGENT
            and classify_reaction(text)[0] is Reaction.DENY
        )
        tokens = tokenize(text)
        for a in find_street_addresses(text) if has_street else ():
            before = text[max(0, a.start - 40) : a.start]
            if _THEIRS.search(before):
                continue
            announced = _ANNOUNCED.search(before) is not None
            confidence = GIVEN if asked or announced else UNPROMPTED
            heard.setdefault(a.value.casefold(), a.value)
            corrects = denies or has_correction_marker(text, 0, a.start)
            addresses.append(
                Mention(a.value, confidence, (Evidence(i, a.start, a.end),), i, corrects=corrects)
            )
            z = _zip_after(text, tokens, a.end_token, asked=asked)
            if z is not None:
                heard_zips.add(z[0])
                zips.append(Mention(z[0], confidence, (Evidence(i, z[1], z[2]),), i))
        if zip_asked:
            z = _zip_after(text, tokens, 0, asked=True)
            if z is not None:
                heard_zips.add(z[0])
                zips.append(Mention(z[0], ZIP_GIVEN, (Evidence(i, z[1], z[2]),), i))
    return addresses, zips


def _field(name: str, events: list[Mention | ReadBack]) -> FieldValue | None:
    resolved = resolve(events, close=_never_close)
    if resolved is None:
        return None
    status = status_for(name, resolved.confidence)
    return FieldValue(
        value=resolved.value,
        confidence=resolved.confidence,
        evidence=resolved.evidence,
        extractor=EXTRACTOR,
        status=status,
        reason=None if status is FieldStatus.ACCEPTED else review_reason(resolved),
        superseded=resolved.superseded,
    )


def extract_address(call: CallRecord) -> dict[str, FieldValue]:
    addresses, zips = address_events(call)
    out: dict[str, FieldValue] = {}
    address = _field("address", addresses)
    if address is not None:
        out["address"] = address
    zip_code = _field("zip", zips)
    if zip_code is not None:
        out["zip"] = zip_code
    return out


def render_house_number(number: int) -> str:
    """Say a house number the way people do: 4118 → "forty one eighteen", 247 → "two forty seven", 8801 →
    "eighty eight oh one", 1500 → "fifteen hundred", 42 → "forty two", 10203 → "one oh two oh three" (for
    property tests: reading the rendering back gives the number)."""
    if number < 100:
        return render_cardinal(number)
    if number >= 10000:
        return " ".join("oh" if d == "0" else render_cardinal(int(d)) for d in str(number))
    if number % 100 == 0:
        return f"{render_cardinal(number // 100)} hundred"
    head, tail = divmod(number, 100)
    return f"{render_cardinal(head)} {'oh ' + render_cardinal(tail) if tail < 10 else render_cardinal(tail)}"
