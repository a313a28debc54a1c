"""The caller's money figure: `amount` (a number), or `amount_range` ([low, high]), and its `currency`.

The figure is the caller's own: a budget, a price they expect or can pay, a charge they dispute, a deposit, a
pay rate (dev-calls README). Prices the agent quotes are never the caller's figure: an agent amount only
counts as the read-back of one the caller said. Speech shortens money in ways only context settles ("six
fifty" for a house is 650,000; "twenty eight fifty an hour" is 28.50), so such a figure is accepted only
when a rate ("a month", "an hour", "each") fixes its size or the agent's read-back settles it. A range
("between twenty and thirty thousand") is kept as a range and always waits for review (reason `range`):
which end, or whether a midpoint, belongs in a single CRM amount is a person's call, never ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

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
    sentences,
)
from callsync.capture.extract.spoken import (
    CURRENCY_WORDS,
    SMALL_NUMBERS,
    SpokenNumber,
    Token,
    find_digit_runs,
    find_emails,
    find_numbers,
    tokenize,
    word_set,
    words,
)
from callsync.capture.extract.thresholds import status_for
from callsync.models import CallRecord, Evidence, FieldStatus, FieldValue, Speaker

EXTRACTOR = "amount@1"

EXPLICIT = (
    0.85  # a money figure in full ("four hundred and twelve dollars", "fifteen k", "twelve hundred a month")
)
SIZED_SHORTHAND = 0.80  # "two ten a month", "twenty eight fifty an hour": the rate fixes the size
SHORTHAND = 0.65  # "six fifty", "three twenty five": 650? 650,000? 6.50? Needs a read-back or a repeat
BARE = 0.60  # "about twelve" after "what's your budget?": the size is a guess

# The currency a tenant's country pays in, when the caller names none.
REGION_CURRENCY = {
    "US": "USD",
    "GB": "GBP",
    "CA": "CAD",
    "AU": "AUD",
    "NZ": "NZD",
    "IE": "EUR",
    "DE": "EUR",
    "FR": "EUR",
    "ES": "EUR",
    "IT": "EUR",
    "NL": "EUR",
    "MX": "MXN",
}

# Words right after a number that say it is a price per something.
_RATE_AFTER: tuple[tuple[str, ...], ...] = (
    ("a", "month"),
    ("per", "month"),
    ("a", "year"),
    ("per", "year"),
    ("a", "week"),
    ("per", "week"),
    ("an", "hour"),
    ("per", "hour"),
    ("a", "night"),
    ("per", "night"),
    ("a", "day"),
    ("per", "day"),
    ("a", "head"),
    ("per", "person"),
    ("per", "user"),
    ("each",),
    ("monthly",),
    ("annually",),
    ("yearly",),
    ("hourly",),
)
_RATES = frozenset(_RATE_AFTER)
_LONGEST_RATE = max(map(len, _RATE_AFTER))
# Words before a number, in the caller's own sentence, that make it money.
_CUE = re.compile(
    r"\b(budget|pay|paid|paying|charge|charged|charges|charging|cost|costs|costing|spend|spending|price|priced|"
    r"afford|owe|owed|deposit|premium|bill|billed|rate|quote|quoted|estimate|refund|salary|offered|invoice says|"
    r"hoping for|hoping to get|set aside|saved|borrow|loan|down payment|fee|fees|tuition|"
    r"under|below|less than|no more than|up to|at most|at least)\b",
    re.IGNORECASE,
)
# The business's own price repeated by the caller ("you quoted me eight hundred") is not the caller's figure.
_THEIR_PRICE = re.compile(
    r"\b(you (guys )?quoted (me|us)|you quoted|your quote (for|of|was)|you (guys )?charge)\s*$", re.IGNORECASE
)
# What the caller can pay, said with no money word: "I can do three hundred today", "I could put down two
# grand". Counts only for a sized figure (a scale word, a currency, or 100 and up): "I can do three" is a time.
_CAN_PAY = re.compile(
    r"\b(can|could|will|would|'ll) (do|send|put down|put|give|manage|swing|make|cover|pay off|scrape together)"
    r"( you)?\s*$|\bput down\s*$|\bquoted (me|us)\s*$|\bthey quoted\b",
    re.IGNORECASE,
)
# Fractions of a scale: "a quarter million", "half a million", "three quarters of a million", "a million
# and a half".
_FRACTION = re.compile(
    r"\b(?:(?P<n>a|one|three)\s+)?(?P<frac>quarter|quarters|half)(?:\s+of)?\s+(?:a\s+)?"
    r"(?P<scale>million|mil|thousand|grand|k)\b"
    r"|\b(?:a|one)\s+(?P<scale2>million|thousand|grand)\s+and\s+a\s+half\b",
    re.IGNORECASE,
)
_FRACTION_SCALE = {"million": 1e6, "mil": 1e6, "thousand": 1e3, "grand": 1e3, "k": 1e3}
# "twelve thirteen hundred": two neighbouring hundreds said as one — a range.
_HUNDREDS_RANGE = re.compile(r"\b(?P<a>[a-z]+)\s+(?P<b>[a-z]+)\s+hundred\b", re.IGNORECASE)
# Words right after a number that make it money ("... max", "... tops", "... all in").
_CUE_AFTER = word_set("max tops maximum minimum")
# The agent's question asks for money.
_MONEY_QUESTION = re.compile(
    r"\b(budget|price|pricing|rate|pay|paying|salary|cost|amount|charge|charged|how much|spend|borrow|deposit|"
    r"premium|(number|figure|price|amount) in mind|estimate for)\b",
    re.IGNORECASE,
)
# A number right before one of these counts things, it is not money.
_COUNTED = word_set("""people person guys employees staff users seats vans trucks cars vehicles units bedrooms
    bedroom bed beds year years month months week weeks day days hour hours minute minutes times percent miles
    degrees kids children clinics buildings locations rooms nights boxes items of am pm oclock o clock
    feet foot inches""")
# A number right after one of these is an identifier or a time, not money.
_NOT_MONEY_BEFORE = word_set("""number invoice order account policy claim ticket confirmation reference ref case member
    id zip code extension ext unit apartment apt suite room flight model route highway interstate exit at
    the last four""")
_RANGE_JOINERS = word_set("and to or through")
_HEDGES = word_set("like about around maybe probably roughly approximately somewhere between from just only")


@dataclass(frozen=True, slots=True)
class _Money:
    value: float | None  # None for a range
    low: float | None
    high: float | None
    alternatives: tuple[float, ...]
    confidence: float
    start: int
    end: int
    currency: str | None


def _key(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _range_key(low: float, high: float) -> str:
    return f"range:{_key(low)}:{_key(high)}"


def _number_value(key: str) -> int | float:
    number = float(key)
    return int(number) if number.is_integer() else number


# -- finding the caller's money figures ----------------------------------------------------------------


def _rate_after(tokens: Sequence[Token], j: int) -> bool:
    """Do the words from token j start with a rate ("a month", "per person", "each")?"""
    # A few set lookups of the next words' tuples, not a generator per phrase.
    after = tuple([t.text for t in tokens[j : j + _LONGEST_RATE]])
    return any(after[:n] in _RATES for n in range(1, len(after) + 1))


def _excluded_spans(text: str) -> list[tuple[int, int]]:
    spans = [(r.start, r.end) for r in find_digit_runs(text) if len(r.digits) >= 7]
    spans += [(e.start, e.end) for e in find_emails(text)]
    return spans


def _money_question(call: CallRecord, i: int) -> bool:
    if i == 0 or call.turns[i - 1].speaker is not Speaker.AGENT:
        return False
    text = call.turns[i - 1].text
    return (
        "?" in text
        and any(  # no question mark, no question
            text[s:e].rstrip().endswith("?") and _MONEY_QUESTION.search(text, s, e)
            for s, e in sentences(text)
        )
    )


def _sentence_before(text: str, start: int) -> str:
    cut = max(text.rfind(". ", 0, start), text.rfind("? ", 0, start), text.rfind("! ", 0, start))
    return text[cut + 1 : start][-70:]


def money_in_turn(text: str, asked: bool | Callable[[], bool], currency_default: str | None) -> list[_Money]:
    """The money figures one caller turn states, in order; ranges joined into one figure.

    `asked` (or a function computing it, called only when the turn holds a number): did the agent's
    question ask about money?"""
    found = find_numbers(text)
    # "a quarter million" holds no number the reader sees: the scale fractions are looked for either way.
    special = (
        _special_figures(text, currency_default)
        if found or not _FRACTION_WORDS.isdisjoint(words(text))
        else []
    )
    if not found and not special:
        return []
    if callable(asked):
        asked = asked()
    tokens = tokenize(text)
    excluded = _excluded_spans(text)
    excluded += [(m.start, m.end) for m in special]
    numbers = [
        n
        for n in found
        if not any(s <= n.start < e or s < n.end <= e for s, e in excluded) and 0 < n.value < 1e10
    ]
    out: list[_Money] = []
    k = 0
    while k < len(numbers):
        n = numbers[k]
        pair = _range_with(text, tokens, numbers, k)
        if pair is not None:
            low, high = pair
            if _is_money(text, tokens, high, asked, low.start):
                out.append(_as_range(low, high, currency_default))
            k += 2
            continue
        if _is_money(text, tokens, n, asked, n.start):
            out.append(_as_amount(text, tokens, n, asked, currency_default))
        k += 1
    out = sorted([*out, *special], key=lambda m: m.start)
    return _inherit_scale(text, out)


_FRACTION_WORDS = frozenset({"quarter", "quarters", "half"})


def _special_figures(text: str, currency_default: str | None) -> list[_Money]:
    """Figures the number reader cannot see: fractions of a scale, "twelve thirteen hundred"."""
    out: list[_Money] = []
    lowered = text.casefold()
    if "quarter" in lowered or "half" in lowered:
        for m in _FRACTION.finditer(text):
            if m.group("scale2"):
                value = 1.5 * _FRACTION_SCALE[m.group("scale2").casefold()]
            else:
                part = 0.5 if m.group("frac").casefold() == "half" else 0.25
                if (m.group("n") or "").casefold() == "three":
                    part = 0.75
                value = part * _FRACTION_SCALE[m.group("scale").casefold()]
            currency = _currency_after(text, m.end()) or currency_default
            out.append(_Money(value, None, None, (), EXPLICIT, m.start(), m.end(), currency))
    if "hundred" in lowered:
        for m in _HUNDREDS_RANGE.finditer(text):
            a, b = SMALL_NUMBERS.get(m.group("a").casefold()), SMALL_NUMBERS.get(m.group("b").casefold())
            if a is None or b is None or not (10 <= a < b <= 99 and b - a <= 2):
                continue
            currency = _currency_after(text, m.end()) or currency_default
            out.append(_Money(None, a * 100.0, b * 100.0, (), EXPLICIT, m.start(), m.end(), currency))
    return out


_NEXT_WORD = re.compile(r"\s+(\w+)")  # compiled once: this runs for every amount


def _currency_after(text: str, end: int) -> str | None:
    m = _NEXT_WORD.match(text[end:])
    return CURRENCY_WORDS.get(m.group(1).casefold()) if m else None


def _drop_bare(events: list[Mention | ReadBack]) -> list[Mention | ReadBack]:
    """A bare number ("usually about ninety") is only a guess at money: when the caller also stated a sized
    figure, the guess is left out rather than let it compete with what they clearly said."""
    sized = any(isinstance(e, Mention) and e.confidence > BARE for e in events)
    if not sized:
        return events
    return [e for e in events if not (isinstance(e, Mention) and e.confidence <= BARE and not e.corrects)]


def _range_with(
    text: str, tokens: Sequence[Token], numbers: Sequence[SpokenNumber], k: int
) -> tuple[SpokenNumber, SpokenNumber] | None:
    """ "between twenty and thirty thousand", "ten to twelve grand", "three to four k": (low, high)."""
    if k + 1 >= len(numbers):
        return None
    a, b = numbers[k], numbers[k + 1]
    between = [t.text for t in tokens[a.end_token : b.first_token]]
    dashed = not between and text[a.end : b.start].strip() == "-"
    if (len(between) != 1 or between[0] not in _RANGE_JOINERS) and not dashed:
        return None
    before = tokens[a.first_token - 1].text if a.first_token > 0 else ""
    if between and between[0] == "and" and before != "between":
        return None  # "two hundred and ... and": only "between A and B" is a range
    low = _scaled_low(a, b)
    if low is None or not low < b.value:
        return None
    return (_with_value(a, low), b)


def _scaled_low(low: SpokenNumber, high: SpokenNumber) -> float | None:
    """The low end as meant: "twenty" in "twenty and thirty thousand" is 20,000; "two fifty" before "three
    hundred thousand" is 250,000. A low end that is already full-sized keeps its value."""
    if high.scale > 1 and (low.bare or low.shorthand):
        for reading in low.readings:
            for candidate in (reading * high.scale, reading):
                if high.value / 10 <= candidate < high.value:
                    return candidate
        return None
    return low.value


def _with_value(n: SpokenNumber, value: float) -> SpokenNumber:
    return SpokenNumber(
        value, n.start, n.end, n.first_token, n.end_token, (value,), False, n.scale, n.digits, n.currency
    )


def _is_money(text: str, tokens: Sequence[Token], n: SpokenNumber, asked: bool, start: int) -> bool:
    j = n.end_token
    nxt = tokens[j].text if j < len(tokens) else ""
    first = n.first_token
    before = tokens[first - 1].text if first > 0 else ""
    if nxt in _COUNTED or before in _NOT_MONEY_BEFORE or n.digits:
        return False
    if _THEIR_PRICE.search(text[max(0, start - 40) : start]):
        return False
    year_like = n.shorthand and not n.currency and n.readings and 1900 <= max(n.readings) <= 2099
    if year_like and not _rate_after(tokens, j):
        return False  # "twenty nineteen accord": a year
    if n.currency is not None or (n.scale >= 1000 and (tokens[j - 1].text in ("k", "grand") or n.currency)):
        return True
    if _rate_after(tokens, j) or nxt in _CUE_AFTER:
        return True
    lead = _sentence_before(text, start)
    if _CUE.search(lead):
        return True
    if (n.scale > 1 or n.value >= 100) and _CAN_PAY.search(lead):
        return True
    return asked


def _as_amount(
    text: str, tokens: Sequence[Token], n: SpokenNumber, asked: bool, currency_default: str | None
) -> _Money:
    rate = _rate_after(tokens, n.end_token)
    if n.shorthand:
        if rate:
            # The rate fixes the size: 210 a month (not 210,000); 28.50 an hour (not 2,850).
            return _Money(
                n.value, None, None, (), SIZED_SHORTHAND, n.start, n.end, n.currency or currency_default
            )
        return _Money(
            n.value, None, None, n.readings, SHORTHAND, n.start, n.end, n.currency or currency_default
        )
    sized = n.currency is not None or n.scale > 1 or rate or n.value >= 100
    confidence = EXPLICIT if sized else BARE
    return _Money(n.value, None, None, (), confidence, n.start, n.end, n.currency or currency_default)


def _as_range(low: SpokenNumber, high: SpokenNumber, currency_default: str | None) -> _Money:
    currency = high.currency or low.currency or currency_default
    return _Money(None, low.value, high.value, (), EXPLICIT, low.start, high.end, currency)


def _inherit_scale(text: str, found: list[_Money]) -> list[_Money]:
    """ "about ten thousand actually we could go up to twelve": a bare number that corrects a sized one in the
    same turn takes its size (12,000)."""
    out: list[_Money] = []
    for m in found:
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.value is not None
            and m.value is not None
            and m.confidence == BARE
            and has_correction_marker(text, previous.end, m.start)
        ):
            for scale in (1000.0, 100.0):
                if previous.value >= scale and previous.value / 5 <= m.value * scale <= previous.value * 5:
                    m = _Money(
                        m.value * scale,
                        None,
                        None,
                        (),
                        EXPLICIT,
                        m.start,
                        m.end,
                        m.currency or previous.currency,
                    )
                    break
        out.append(m)
    return out


# -- events and resolution ----------------------------------------------------------------------------


def amount_events(call: CallRecord, region: str) -> tuple[list[Mention | ReadBack], dict[str, str | None]]:
    """Caller mentions and agent read-backs, plus the currency each value was said in."""
    currency_default = REGION_CURRENCY.get(region.upper())
    events: list[Mention | ReadBack] = []
    currencies: dict[str, str | None] = {}
    heard: set[str] = set()
    callers = set(caller_turns(call))
    for i, turn in enumerate(call.turns):
        if turn.speaker is Speaker.CALLER:
            if i not in callers:
                continue
            previous_end = 0
            for m in money_in_turn(turn.text, partial(_money_question, call, i), currency_default):
                alternatives: tuple[str, ...] = ()
                if m.value is None:
                    assert m.low is not None and m.high is not None
                    key = _range_key(m.low, m.high)
                else:
                    key = _key(m.value)
                    alternatives = tuple(_key(a) for a in m.alternatives)
                heard.update({key, *alternatives})
                currencies.setdefault(key, m.currency)
                for reading in alternatives:
                    currencies.setdefault(reading, m.currency)
                corrects = has_correction_marker(turn.text, previous_end, m.start) or (
                    _denies_previous(call, i) and previous_end == 0
                )
                events.append(
                    Mention(
                        key,
                        m.confidence,
                        (Evidence(i, m.start, m.end),),
                        i,
                        corrects=corrects,
                        alternatives=alternatives if len(alternatives) > 1 else (),
                    )
                )
                previous_end = m.end
            continue
        # The agent saying a figure counts as the read-back of one the caller said, or as its echo of the
        # caller's answer to its question for a figure ("What's your budget?" - garbled - "Got it,
        # $75,000."): never otherwise, as an amount the agent says is as often a price it quotes.
        for n in find_numbers(turn.text):
            key = _key(n.value)
            if key in heard:
                events.append(read_back(call, i, key, n.start, n.end, asked_for=_asks_for_amount))
                continue
            # The figure alone, marked as money, closing its phrase ("Got it, $75,000."): "That's $45 for
            # the visit" is a price. (Checked first: most figures an agent says are neither.)
            alone = turn.text[n.end : n.end + 1] in ("", ".", "?", "!", ",")
            symbol = _symbol_currency(turn.text, n.start)
            if not alone or symbol is None:
                continue
            echoed = read_back(call, i, key, n.start, n.end, asked_for=_asks_for_amount)
            if echoed.echoes_answer:
                currencies.setdefault(key, symbol)
                events.append(echoed)
    return events, currencies


def _asks_for_amount(question: str) -> bool:
    """Does the agent's closing sentence ask for a money figure?"""
    return _MONEY_QUESTION.search(question) is not None


_SYMBOL_CURRENCY = {"$": "USD", "£": "GBP", "€": "EUR"}


def _symbol_currency(text: str, start: int) -> str | None:
    return _SYMBOL_CURRENCY.get(text[start : start + 1])


def _denies_previous(call: CallRecord, i: int) -> bool:
    """The caller's turn opens with "no" right after the agent said something: what follows replaces it."""
    return (
        i > 0
        and call.turns[i - 1].speaker is Speaker.AGENT
        and classify_reaction(call.turns[i].text)[0] is Reaction.DENY
    )


def _never_close(_a: str, _b: str) -> bool:
    return False


def extract_amount(call: CallRecord, *, default_region: str = "US") -> dict[str, FieldValue]:
    """`amount` or `amount_range`, and `currency`; absent when the caller named no money figure."""
    events, currencies = amount_events(call, default_region)
    resolved = resolve(_drop_bare(events), close=_never_close)
    if resolved is None:
        return {}
    superseded = tuple((_public(v), ev) for v, ev in resolved.superseded)
    fields: dict[str, FieldValue] = {}
    if resolved.value.startswith("range:"):
        _, low, high = resolved.value.split(":")
        fields["amount_range"] = FieldValue(
            value=[_number_value(low), _number_value(high)],
            confidence=resolved.confidence,
            evidence=resolved.evidence,
            extractor=EXTRACTOR,
            status=FieldStatus.NEEDS_REVIEW,
            reason="range",
            superseded=superseded,
        )
    else:
        status = status_for("amount", resolved.confidence)
        reason = review_reason(resolved) if status is FieldStatus.NEEDS_REVIEW else None
        fields["amount"] = FieldValue(
            value=_number_value(resolved.value),
            confidence=resolved.confidence,
            evidence=resolved.evidence,
            extractor=EXTRACTOR,
            status=status,
            reason=reason,
            superseded=superseded,
        )
    currency = currencies.get(resolved.value)
    if currency is not None:
        status = status_for("currency", resolved.confidence)
        fields["currency"] = FieldValue(
            value=currency,
            confidence=resolved.confidence,
            evidence=resolved.evidence[:1],
            extractor=EXTRACTOR,
            status=status,
            reason=None if status is FieldStatus.ACCEPTED else "low_confidence",
        )
    return fields


def _public(key: str) -> int | float | list[int | float]:
    if key.startswith("range:"):
        _, low, high = key.split(":")
        return [_number_value(low), _number_value(high)]
    return _number_value(key)
