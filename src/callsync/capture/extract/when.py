"""The call's actionable `date` and `time`: the appointment, visit or callback it arranges, else the date the
caller asks for; absolute, in the call's local calendar (named `when` so it does not shadow `datetime`).

Relative words resolve against the call's start in its own time zone (`CallRecord.timezone`, else the
tenant's): an evening call in New York is already "tomorrow" in UTC, and "tomorrow" follows the local date.
Conventions (dev-calls README): a bare weekday or "this X" is the next such day after the call's date; "next
X" is unambiguous only when X is not later in the current week, otherwise it keeps both readings until a
read-back settles it; "a week from tomorrow" is tomorrow + 7. Vague dates ("next week", "the first week of
March") and vague times ("tomorrow morning", "between 1 and 3") give nothing rather than a guess.

Who arranged what matters more than what was said: the agent's booking statement ("You're booked for ...",
"He'll call you tomorrow") fixes the arrangement; an offer the caller takes ("I have 11 AM or 2 PM" -
"eleven works") does too; a cancellation ends it; dates in the past ("last Friday", "yesterday", a birth
date) and the agent's other dates (a renewal, a delivery estimate) are never the actionable date. A date
only the caller asked for, with nothing arranged, waits for review.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callsync.capture.extract.dialogue import (
    ECHO_ONLY,
    ECHO_REASON,
    Reaction,
    agent_turn_before,
    caller_turns,
    classify_reaction,
    echoes_answer,
    last_sentence,
    sentences,
)
from callsync.capture.extract.labels import reports_booking
from callsync.capture.extract.spoken import (
    TEENS,
    TENS,
    UNITS,
    Token,
    find_digit_runs,
    find_emails,
    may_say,
    memo,
    per_text,
    render_cardinal,
    tokenize,
    word_set,
    words,
)
from callsync.capture.extract.thresholds import clamp, status_for
from callsync.models import CallRecord, Evidence, FieldStatus, FieldValue, Speaker

EXTRACTOR = "when@1"

BOOKED = 0.85  # the agent states the arrangement ("You're booked for Saturday at 11 AM")
EXPLICIT_AGREES = 0.05  # ... and names the calendar date, agreeing with the relative words
AGREED = 0.05  # the caller named the same date, or took the offer, before the booking statement
OFFER_TAKEN = 0.85  # the caller took one of the agent's offered slots
REQUESTED = 0.70  # only the caller asked for it; nothing was arranged: review
AMBIGUOUS = 0.60  # "next Wednesday" on a Monday, never read back
GUESSED_HALF_DAY = 0.70  # a time whose am/pm we inferred ("at four" → 16:00) and nobody said

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_ORDINAL_UNITS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
}
ORDINALS: dict[str, int] = {
    **_ORDINAL_UNITS,
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
}
_ORDINAL_NOUNS = word_set("""week weeks time times floor one thing things day days quarter half visit appointment
    available opening person grade year years month months place step option options choice result departs
    leaves arrives departure bus train flight showing show""")
_NUMERIC_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th)$")
_YEAR = re.compile(r"(19|20)\d\d")
_HOUR_NUMERAL = re.compile(r"^(\d{1,2})(am|pm)?$")
_MINUTE_NUMERAL = re.compile(r"^(\d{2})(am|pm)?$")
_HOURS = {w: int(d) for w, d in UNITS.items() if w not in ("zero", "oh", "o") and int(d) > 0}
_HOURS.update({"ten": 10, "eleven": 11, "twelve": 12})
_SMALL = {w: int(d) for w, d in UNITS.items() if w not in ("oh", "o")}
_SMALL.update({w: int(d) for w, d in TEENS.items()})
_TENS = {w: int(d) * 10 for w, d in TENS.items()}

# -- reading dates ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DateMention:
    value: date
    alternatives: tuple[date, ...]  # other readings ("next Wednesday"), preferred first; () when certain
    start: int
    end: int
    first_token: int
    end_token: int
    past: bool  # "last Friday", "yesterday", a year already gone
    explicit: bool  # a calendar date was said ("November 21st"), not only relative words
    relative: bool  # relative words were said ("tomorrow", "Saturday")
    consistent: bool = True  # relative words and calendar date agree


def _day_at(tokens: Sequence[Token], k: int, *, cardinal: bool) -> tuple[int, int] | None:
    """A day of the month at token k: "21st", "twenty first", "third", and (after a month) "21", "fifteen"."""
    if k >= len(tokens):
        return None
    word = tokens[k].text
    m = _NUMERIC_ORDINAL.match(word)
    if m:
        day = int(m.group(1))
        return (day, k + 1) if 1 <= day <= 31 else None
    if word in ("twenty", "thirty") and k + 1 < len(tokens):
        nxt = tokens[k + 1].text
        if nxt in _ORDINAL_UNITS:
            day = _TENS[word] + _ORDINAL_UNITS[nxt]
            return (day, k + 2) if day <= 31 else None
        if cardinal and nxt in _SMALL and _SMALL[nxt] < 10:
            day = _TENS[word] + _SMALL[nxt]
            return (day, k + 2) if day <= 31 else None
    if word in ORDINALS:
        return ORDINALS[word], k + 1
    if cardinal:
        if word.isdigit() and 1 <= int(word) <= 31 and len(word) <= 2:
            return int(word), k + 1
        if word in _SMALL and 1 <= _SMALL[word] <= 19:
            return _SMALL[word], k + 1
        if word in ("twenty", "thirty"):
            return _TENS[word], k + 1
    return None


def _year_at(tokens: Sequence[Token], k: int) -> tuple[int, int] | None:
    """ "2026", "nineteen seventy eight", "twenty twenty six" after a date."""
    if k < len(tokens) and _YEAR.fullmatch(tokens[k].text):
        return int(tokens[k].text), k + 1
    if k + 1 < len(tokens) and tokens[k].text in ("nineteen", "twenty"):
        century = 1900 if tokens[k].text == "nineteen" else 2000
        word = tokens[k + 1].text
        if word in _TENS:
            unit = _SMALL.get(tokens[k + 2].text, 0) if k + 2 < len(tokens) else 0
            step = 3 if unit and unit < 10 else 2
            return century + _TENS[word] + (unit if unit < 10 else 0), k + step
        if word in _SMALL and 10 <= _SMALL[word] <= 19:
            return century + _SMALL[word], k + 2
    return None


def _next_weekday(today: date, weekday: int) -> date:
    """The next such day after today (a bare weekday, "this X")."""
    days = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=days)


def _next_day_of_month(today: date, day: int, weekday: int | None = None) -> date | None:
    """The next date (today included) with this day of the month, and this weekday when one was said."""
    year, month = today.year, today.month
    for _ in range(14):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if (
            candidate is not None
            and candidate >= today
            and (weekday is None or candidate.weekday() == weekday)
        ):
            return candidate
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return None


def _month_day(today: date, month: int, day: int, year: int | None) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        candidate = date(today.year, month, day)
        return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def _calendar_after(
    tokens: Sequence[Token], k: int, today: date, weekday: int | None
) -> tuple[date, int, bool] | None:
    """A calendar date starting at token k: "November 21st", "the 23rd", "21st of August", "June 11th 2027".

    Returns (date, next token, past) where past means an explicit year already gone."""
    j = k
    if j < len(tokens) and tokens[j].text == "the":
        j += 1
    month = MONTHS.get(tokens[j].text) if j < len(tokens) else None
    if month is not None:
        # "may" is a month only before a day said as an ordinal ("May 15th", not "may one of our agents").
        day = _day_at(tokens, j + 1, cardinal=tokens[j].text != "may")
        if day is None and j + 2 < len(tokens) and tokens[j + 1].text == "the":
            day = _day_at(tokens, j + 2, cardinal=False)
        if day is not None:
            year = _year_at(tokens, day[1])
            value = _month_day(today, month, day[0], year[0] if year else None)
            if value is not None:
                return value, (year[1] if year else day[1]), bool(year and value < today)
        return None
    day = _day_at(tokens, j, cardinal=False)
    if day is None:
        return None
    end = day[1]
    # "21st of August", "27th November"
    m = end + 1 if end < len(tokens) and tokens[end].text == "of" else end
    if m < len(tokens) and tokens[m].text in MONTHS:
        year = _year_at(tokens, m + 1)
        value = _month_day(today, MONTHS[tokens[m].text], day[0], year[0] if year else None)
        if value is None:
            return None
        return value, (year[1] if year else m + 1), bool(year and value < today)
    # "the 9th of this month", "the 2nd of next month"
    if (
        m > end
        and m + 1 < len(tokens)
        and tokens[m].text in ("this", "next")
        and tokens[m + 1].text == "month"
    ):
        in_year, in_month = today.year, today.month + (tokens[m].text == "next")
        in_year, in_month = (in_year + 1, 1) if in_month > 12 else (in_year, in_month)
        try:
            value = date(in_year, in_month, day[0])
        except ValueError:
            return None
        return value, m + 2, value < today
    # A bare ordinal is a date only after "the" or a weekday ("the twenty third", "Monday the 23rd"), and
    # not when a noun follows it ("the first week of March", "the second time").
    if j == k and weekday is None:
        return None
    if end < len(tokens) and tokens[end].text in _ORDINAL_NOUNS:
        return None
    value = _next_day_of_month(today, day[0], weekday)
    return (value, end, False) if value is not None else None


# Words without which a turn holds no date: a cheap test that spares most turns the token scan.
_DATE_WORDS = (
    frozenset(WEEKDAYS)
    | frozenset(MONTHS)
    | frozenset(ORDINALS)
    | word_set("today tonight tomorrow yesterday morning afternoon evening within minutes week")
)


_WRITTEN_ORDINAL = re.compile(r"\d(st|nd|rd|th)\b", re.IGNORECASE)
_DIGIT = re.compile(r"\d")


def _holds_date_word(text: str) -> bool:
    return not _DATE_WORDS.isdisjoint(words(text)) or _WRITTEN_ORDINAL.search(text) is not None


_may_hold_date = per_text("may_hold_date", _holds_date_word)  # asked of every turn by several readers


def find_dates(text: str, today: date) -> list[DateMention]:
    if not _may_hold_date(text):
        return []
    return list(memo("dates", text, today.toordinal(), lambda: tuple(_find_dates(text, today))))


_DATE_STARTS = _DATE_WORDS | word_set("this next last coming on a within in the")


def _find_dates(text: str, today: date) -> list[DateMention]:
    tokens = tokenize(text)
    out: list[DateMention] = []
    k = 0
    while k < len(tokens):
        word = tokens[k].text
        if word not in _DATE_STARTS and not (word[:1].isdigit() and _NUMERIC_ORDINAL.match(word)):
            k += 1
            continue
        found = _date_at(text, tokens, k, today)
        if found is None:
            k += 1
            continue
        out.append(found)
        k = found.end_token
    return out


def _date_at(text: str, tokens: Sequence[Token], k: int, today: date) -> DateMention | None:
    word = tokens[k].text
    nxt = tokens[k + 1].text if k + 1 < len(tokens) else ""

    def mention(value: date, end: int, *, past: bool = False, alts: tuple[date, ...] = (), explicit: bool = False,
                relative: bool = True, start: int = k, consistent: bool = True) -> DateMention:  # fmt: skip
        return DateMention(
            value,
            alts,
            tokens[start].start,
            tokens[end - 1].end,
            start,
            end,
            past,
            explicit,
            relative,
            consistent,
        )

    if word in ("today", "tonight"):
        return mention(today, k + 1)
    # "within the hour", "in about 40 minutes", "within 30 minutes": later today.
    if word in ("within", "in"):
        j = k + 1
        if j < len(tokens) and tokens[j].text in ("the", "an", "about", "around", "like", "under"):
            j += 1
        if j < len(tokens) and tokens[j].text == "hour" and word == "within":
            return mention(today, j + 1)
        if (
            j + 1 < len(tokens)
            and tokens[j + 1].text == "minutes"
            and (tokens[j].text.isdigit() or tokens[j].text in _TENS or tokens[j].text in _SMALL)
        ):
            return mention(today, j + 2)
    if word == "this" and nxt in ("morning", "afternoon", "evening"):
        return mention(today, k + 2)
    if word == "yesterday":
        return mention(today - timedelta(days=1), k + 1, past=True)
    if word == "tomorrow":
        base = today + timedelta(days=1)
        # "the day after tomorrow"
        if k >= 2 and tokens[k - 1].text == "after" and tokens[k - 2].text == "day":
            start = k - 3 if k >= 3 and tokens[k - 3].text == "the" else k - 2
            return mention(today + timedelta(days=2), k + 1, start=start)
        if (
            k >= 3
            and tokens[k - 1].text == "from"
            and tokens[k - 2].text == "week"
            and tokens[k - 3].text == "a"
        ):
            return mention(base + timedelta(days=7), k + 1, start=k - 3)
        return _with_calendar(tokens, k + 1, today, mention(base, k + 1))
    if word == "a" and nxt == "week" and k + 3 < len(tokens) and tokens[k + 2].text == "from":
        target = tokens[k + 3].text
        if target == "today":
            return mention(today + timedelta(days=7), k + 4)
        if target in WEEKDAYS:
            return mention(_next_weekday(today, WEEKDAYS.index(target)) + timedelta(days=7), k + 4)
        return None
    if word in WEEKDAYS or (word in ("this", "next", "last", "coming", "on") and nxt in WEEKDAYS):
        prefix = word if word not in WEEKDAYS else ""
        w = k + (1 if prefix else 0)
        weekday = WEEKDAYS.index(tokens[w].text)
        bare = _next_weekday(today, weekday)
        if prefix == "last":
            days = (today.weekday() - weekday) % 7 or 7
            return mention(today - timedelta(days=days), w + 1, past=True)
        alts: tuple[date, ...] = ()
        value = bare
        if prefix == "next" and weekday > today.weekday():
            # Later this week or the week after? Both readings stay until a read-back settles it.
            value, alts = bare + timedelta(days=7), (bare + timedelta(days=7), bare)
        # "Saturday, November 21st", "Monday the 23rd", "Friday 27th November"
        j = w + 1
        if j < len(tokens):
            calendar = _calendar_after(tokens, j, today, weekday)
            if calendar is None and j < len(tokens):
                calendar = _calendar_after(tokens, j, today, None) if tokens[j].text in MONTHS else None
            if calendar is not None:
                cal_value, end, past = calendar
                agrees = cal_value == value or cal_value in alts
                return mention(
                    cal_value,
                    end,
                    past=past,
                    explicit=True,
                    consistent=agrees or cal_value.weekday() == weekday,
                )
        return mention(value, w + 1, alts=alts)
    calendar = _calendar_after(tokens, k, today, None)
    if calendar is not None and (
        word in MONTHS or word == "the" or _NUMERIC_ORDINAL.match(word) or word in ORDINALS
    ):
        value, end, past = calendar
        return mention(value, end, past=past, explicit=True, relative=False)
    return None


def _with_calendar(tokens: Sequence[Token], j: int, today: date, rel: DateMention) -> DateMention:
    """ "tomorrow, Tuesday June 9th": the calendar date said with the relative word, checked against it."""
    k = j
    if k < len(tokens) and tokens[k].text in WEEKDAYS:
        weekday = WEEKDAYS.index(tokens[k].text)
        calendar = _calendar_after(tokens, k + 1, today, weekday) or _calendar_after(
            tokens, k + 1, today, None
        )
        end = calendar[1] if calendar else k + 1
        value = calendar[0] if calendar else None
        consistent = (value is None or value == rel.value) and rel.value.weekday() == weekday
        return DateMention(
            rel.value, (), rel.start, tokens[end - 1].end, rel.first_token, end, False, value is not None, True,
            consistent,
        )  # fmt: skip
    calendar = _calendar_after(tokens, k, today, None)
    if calendar is not None and tokens[k].text in MONTHS:
        value, end, _ = calendar
        return DateMention(
            rel.value,
            (),
            rel.start,
            tokens[end - 1].end,
            rel.first_token,
            end,
            False,
            True,
            True,
            value == rel.value,
        )
    return rel


# -- reading times ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeMention:
    hour: int  # 0-23 after am/pm is applied (or guessed)
    minute: int
    start: int
    end: int
    first_token: int
    end_token: int
    half_day_known: bool  # am/pm said (or noon, or a 24h hour)
    strong: bool  # certainly a time: am/pm, a colon, "o'clock", "noon", "half past"
    window: bool = False  # one end of "between 1 and 3", "8 AM to noon"

    @property
    def value(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"


_MORNING = word_set("morning am")
_AFTERNOON = word_set("afternoon evening night tonight pm")


def _minutes_at(tokens: Sequence[Token], k: int) -> tuple[int, int] | None:
    """Spoken minutes after an hour: "thirty", "fifteen", "forty five", "oh five"."""
    if k >= len(tokens):
        return None
    word = tokens[k].text
    if (
        word in ("oh", "o")
        and k + 1 < len(tokens)
        and tokens[k + 1].text in _SMALL
        and _SMALL[tokens[k + 1].text] < 10
    ):
        return _SMALL[tokens[k + 1].text], k + 2
    if word in TEENS:
        return int(TEENS[word]), k + 1
    if word in _TENS and word not in ("sixty", "seventy", "eighty", "ninety"):
        value = _TENS[word]
        if k + 1 < len(tokens) and tokens[k + 1].text in _SMALL and 0 < _SMALL[tokens[k + 1].text] < 10:
            return value + _SMALL[tokens[k + 1].text], k + 2
        return value, k + 1
    return None


def _half_day_after(text: str, tokens: Sequence[Token], j: int) -> tuple[str | None, int]:
    """am / pm / "a m" / "in the morning" after a time: ('am'|'pm'|None, next token)."""
    if j < len(tokens):
        word = tokens[j].text
        if word in ("am", "pm"):
            return word, j + 1
        if word in ("a", "p") and j + 1 < len(tokens) and tokens[j + 1].text == "m":
            return ("am" if word == "a" else "pm"), j + 2
        if word == "in" and j + 2 < len(tokens) and tokens[j + 1].text == "the":
            part = tokens[j + 2].text
            if part == "morning":
                return "am", j + 3
            if part in ("afternoon", "evening"):
                return "pm", j + 3
        if word == "at" and j + 1 < len(tokens) and tokens[j + 1].text == "night":
            return "pm", j + 2
        if word == "tonight":
            return "pm", j
    return None, j


def _apply_half_day(hour: int, half_day: str | None) -> tuple[int, bool]:
    """24h hour and whether am/pm was known. Unknown: 7-11 morning, 12 noon, 1-6 afternoon (business hours)."""
    if hour > 12:
        return hour, True
    if half_day == "am":
        return (0 if hour == 12 else hour), True
    if half_day == "pm":
        return (12 if hour == 12 else hour + 12), True
    if hour == 12 or 7 <= hour <= 11:
        return hour, False
    return hour + 12, False


def _time_at(text: str, tokens: Sequence[Token], k: int) -> TimeMention | None:
    word = tokens[k].text
    nxt = tokens[k + 1].text if k + 1 < len(tokens) else ""

    def make(
        hour: int, minute: int, end: int, *, strong: bool, half_day: str | None = None, start: int = k
    ) -> TimeMention:
        half, end = (half_day, end) if half_day else _half_day_after(text, tokens, end)
        if half is None and end < len(tokens) and tokens[end].text in ("oclock",):
            end += 1
            strong = True
        hour24, known = _apply_half_day(hour, half)
        return TimeMention(
            hour24, minute, tokens[start].start, tokens[end - 1].end, start, end, known, strong or known
        )

    if word in ("noon", "midday"):
        return TimeMention(12, 0, tokens[k].start, tokens[k].end, k, k + 1, True, True)
    if word == "midnight":
        return TimeMention(0, 0, tokens[k].start, tokens[k].end, k, k + 1, True, True)
    if word == "half" and nxt:
        at = _hour_at(tokens, k + 2 if nxt == "past" else k + 1)
        return make(at[0], 30, at[1], strong=True) if at is not None else None
    if word == "quarter" and nxt in ("past", "to", "after"):
        at = _hour_at(tokens, k + 2)
        if at is None:
            return None
        if nxt == "to":
            return make((at[0] - 2) % 12 + 1, 45, at[1], strong=True)
        return make(at[0], 15, at[1], strong=True)
    minutes = _minutes_at(tokens, k)
    if minutes is not None and minutes[1] < len(tokens) and tokens[minutes[1]].text in ("past", "after"):
        at = _hour_at(tokens, minutes[1] + 1)
        if at is not None and minutes[0] < 60:
            return make(at[0], minutes[0], at[1], strong=True)
    m = _HOUR_NUMERAL.match(word)
    if m:
        hour = int(m.group(1))
        if m.group(2):
            return make(hour, 0, k + 1, strong=True, half_day=m.group(2)) if 1 <= hour <= 12 else None
        if k + 1 < len(tokens) and text[tokens[k].end : tokens[k + 1].start] == ":":
            mm = _MINUTE_NUMERAL.match(tokens[k + 1].text)
            if mm and int(mm.group(1)) < 60 and hour <= 23:
                return make(hour, int(mm.group(1)), k + 2, strong=True, half_day=mm.group(2))
            return None
        if 1 <= hour <= 12 and len(word) <= 2:
            return make(hour, 0, k + 1, strong=False)
        return None
    if word in _HOURS:
        hour = _HOURS[word]
        after = _minutes_at(tokens, k + 1)
        if after is not None and after[0] < 60:
            return make(hour, after[0], after[1], strong=False)
        return make(hour, 0, k + 1, strong=False)
    return None


def _hour_at(tokens: Sequence[Token], k: int) -> tuple[int, int] | None:
    if k >= len(tokens):
        return None
    word = tokens[k].text
    if word in _HOURS:
        return _HOURS[word], k + 1
    if word.isdigit() and 1 <= int(word) <= 12:
        return int(word), k + 1
    return None


def find_times(text: str) -> tuple[TimeMention, ...]:
    return _times(text)


_TIME_STARTS = (
    frozenset(_HOURS)
    | frozenset(TEENS)
    | frozenset(_TENS)
    | {"noon", "midday", "midnight", "half", "quarter"}
)


def _find_times(text: str) -> tuple[TimeMention, ...]:
    if _TIME_STARTS.isdisjoint(words(text)) and _DIGIT.search(text) is None:
        return ()
    tokens = tokenize(text)
    out: list[TimeMention] = []
    k = 0
    while k < len(tokens):
        word = tokens[k].text
        if word not in _TIME_STARTS and not word[:1].isdigit():
            k += 1
            continue
        found = _time_at(text, tokens, k)
        if found is None:
            k += 1
            continue
        out.append(found)
        k = found.end_token
    return tuple(_mark_windows(text, tokens, out))


def _mark_windows(text: str, tokens: Sequence[Token], times: list[TimeMention]) -> list[TimeMention]:
    """ "between 1 and 3", "8 AM to noon", "from 10 to 12": both ends are a window, not an appointment time."""
    out = list(times)
    for n in range(len(out) - 1):
        a, b = out[n], out[n + 1]
        between = [t.text for t in tokens[a.end_token : b.first_token]]
        if between in (["and"], ["to"], ["till"], ["until"]) or (
            not between and "-" in text[a.end : b.start]
        ):
            before = tokens[a.first_token - 1].text if a.first_token > 0 else ""
            if between != ["and"] or before == "between":
                out[n] = _window(a)
                out[n + 1] = _window(b)
    return out


def _window(t: TimeMention) -> TimeMention:
    return TimeMention(
        t.hour, t.minute, t.start, t.end, t.first_token, t.end_token, t.half_day_known, t.strong, True
    )


_times = per_text("times", _find_times)


# -- what each sentence does with its dates ------------------------------------------------------------


class Role(Enum):
    BOOK = "book"  # the agent states an arrangement
    OFFER = "offer"  # the agent proposes a slot
    ECHO = "echo"  # the agent repeats a date without booking words ("Absolutely, Monday at 5:30 PM.")
    CANCEL = "cancel"
    REQUEST = "request"  # the caller asks for a date
    DECLINE = "decline"  # the agent turns a slot down ("Saturday at noon is no good, I'm sorry")
    END = "end"  # the end of a range the caller gives: a check-out, a return flight
    OTHER = "other"  # background: past events, the agent's renewal dates and delivery estimates


_BOOK = re.compile(
    r"\b(you'?re (now )?(all )?(booked|confirmed|scheduled|set|rescheduled|moved)|you are (booked|confirmed|"
    r"scheduled|set)|(has|have) (now )?been (successfully )?(booked|scheduled|reserved|made)|booked (you|for)|"
    r"i'?ve (booked|scheduled|moved|rescheduled|reserved)|rescheduled (you )?to|"
    r"moved (you )?to|all set for|you'?re set for|see you (then|on|at|tomorrow|today|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday)|we'?ll see you|booked to view|all booked|set for delivery|"
    r"dispatching|on (his|her|their|the) way|(will|'ll|can) (be|get (someone|somebody|\w+)) there|"
    r"(will|'ll) (call|ring|phone|contact|text) you|(will|'ll) (give you a )?call( you)?( back)?|"
    r"(will|'ll) (reach out|follow up|be in touch|get back to you)|call you back|expect a call|"
    r"talk (to you )?(then|on|monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|today)|"
    r"(can|could) (call|ring) you( back)?|(will|'ll|i'?ll) have (\w+ ){0,5}(call|contact|ring) you|"
    r"(will|'ll) (arrange|schedule|book|set up)\b)",
    re.IGNORECASE,
)
_OFFER = re.compile(
    r"\b(i have|we have|i can do|we can do|i can (get|have|book)|we can (get|have)|available|opening|"
    r"first available|how about|what about|how'?s|would|does|works?|can (you|our|one of our|he|she|they)|suggest|"
    r"what do you think|"
    r"could (you|one of our)|shall i)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"\b(help you|help with|do for you|brings you|how are you|anything else|a good time|have a (great|good))\b",
    re.IGNORECASE,
)
_CANCEL = re.compile(r"\bcancel(l?ed|l?ing|lation)?\b", re.IGNORECASE)
_CANCEL_NEEDS = ("cancel",)  # see `spoken.may_say`
# The caller calling off what is on the table, naming no date: "Actually, cancel that", "forget it then".
_CALLER_CANCEL = re.compile(
    r"\b(cancel (that|it|this|them|those|the (booking|reservation|order|tickets?|appointment|table|room|ride|"
    r"trip|whole thing))|forget (it|that|about it)|call it off)\b",
    re.IGNORECASE,
)
# The agent stating a booking made, without its date: "Booking was successful", "I've reserved it for you".
_DONE = re.compile(
    r"\b((booking|reservation|appointment|purchase|order|tickets?)( confirmation)? (was|is|has been) (successful|complete|completed|confirmed)|(successfully|have|has|i'?ve) "
    r"(booked|reserved|purchased|bought|ordered)|(has|have) been (booked|reserved|purchased|placed|confirmed|made)|"
    r"(i'?ve|i have|we'?ve|we have) (made|placed) (the|your|a) (booking|reservation|order)|"
    r"(it'?s|it is|that'?s|that is|you'?re|you are|you'?ve been|it'?s been|they'?re|they are) (now )?(all )?"
    r"(booked|reserved|confirmed|purchased)|(your|the) (booking|reservation|table|room|tickets?|seats?|order|appointment)"
    r"( is| are)? (now )?(all )?(booked|reserved|confirmed|purchased|all set))\b|"
    # "Your reservation was made successfully.", "Reservation confirmed!", "I have confirmed your tickets.",
    # "Your reservation went through!"
    r"\b((booking|reservation|appointment|purchase|order|tickets?|visit) (was|were|has been|have been) "
    r"(successfully )?(made|booked|reserved|confirmed|purchased|placed|completed)|"
    r"(booking|reservation|appointment|purchase|order|tickets?) (successfully )?(confirmed|made|completed|booked)"
    r"(?=\s*([.!,]|$))|(booking|reservation|purchase|order|payment) (went|has gone) through|"
    r"(i'?ve|i have|we'?ve|we have) (confirmed|booked|reserved|purchased|bought) (your|the|a))\b|"
    r"(^|[.!]\s+)((ok|okay|great|done|perfect),? )?(booked|reserved)\b|"
    # A calendar entry made: "The event has been added to your calendar.", "Successfully added it.", "I've put
    # it on your calendar."
    r"\b((event|entry|appointment|reminder|it|that|this)( \w+)? (has|have|was|is)( successfully)?( been)?"
    r" (added|included)|successfully (added|included)|(i'?ve|i have|we'?ve|we have|i|we) (successfully )?(added|put|"
    r"saved|included) (it|that|this|the \w+|your \w+) (to|on|in|into) (your|the) calend[ae]r|"
    r"added (it |this |that )?(to|on|in|into) (your|the) calend[ae]r)\b",
    re.IGNORECASE,
)
_DONE_NEEDS = ("book", "reserv", "purchas", "bought", "order", "confirmed", "all set", "been", "success", "complete", "made", "placed", "through", "added", "included", "calend")  # fmt: skip
_CALLER_CANCEL_NEEDS = ("cancel", "forget", "call it off")
_DECLINE = re.compile(
    r"\b(not available|unavailable|no good|(is|are|'s|s) (fully |all )?(booked|full|taken)(?! (for|at|on|under)\b)|"
    r"fully booked|"
    r"no (openings?|availability|tables?|slots?|rooms?|seats?)|(can'?t|cannot|can not|couldn'?t) (do|get|book|fit)|"
    r"(don'?t|do not|doesn'?t) have (anything|any|a)|isn'?t available|aren'?t available|not possible|"
    r"unfortunately|i'?m (afraid|sorry)|sorry,? (but|we|i|that|there)|sold out|booked up|"
    r"no longer available|there (is|are|'s) no(thing)?|nothing (available|left|open))\b",
    re.IGNORECASE,
)
# The words before a date that make it the end of a range the caller gives, not its start.
# "with a March 12th checkout": the end named after the date.
_END_AFTER = re.compile(r"\s*(check[ -]?out|checkout)\b", re.IGNORECASE)
_RANGE_END = re.compile(
    r"\b(check(ing)?[ -]?out|return(s|ed|ing)?( (it|them|the \w+|flights?|leg|trip|journey))?|come back|coming back|fly(ing)? back|"
    r"flight back|head(ing)? back|drive back|driving back|until|till|through|thru|up to|ending|ends|"
    # A rental's end: "drop off on next Friday", "You'll return it next Tuesday", "bring it back the 9th".
    # ("drop in" and "drop by" are visits.)
    r"drop(ping|s|ped)?(?! (in|by)\b)\s*-?\s*((it|them|the \w+) )?(back )?(off( (it|them|the \w+))?)?|dropoff|"
    r"bring(ing)? (it|the car|them) back)"
    r"\W+((the|on|in|of|at|to|for|date|day|is|will|be|it|you|car|vehicle)\W+){0,3}$",
    re.IGNORECASE,
)
# The start of a rental or a stay named before its time: "pick the car up around 1:30", "check in at 3".
_PICKUP = re.compile(
    r"\b(pick(ing|ed)? (\w+ ){0,2}up|pickup|check(ing)?[ -]?in)\W+((at|by|around|about|from|on|in|the)\W+){0,3}$",
    re.IGNORECASE,
)
# The agent asking for the end of a stay or trip: "When would you like to return?", "... to check out?".
_ASKS_END = re.compile(
    r"\b(return|returning|come back|coming back|fly back|flying back|head back|check[ -]?out|checking out|"
    r"drop (it |the car )?off|(until|up to) (what|which|when))\b[^.!?]*\?",
    re.IGNORECASE,
)
_ASKS_END_NEEDS = ("return", "back", "check", "drop", "until", "up to")
# "Leaving" is a stay's end after its first day ("you arrive the day after tomorrow. And leave March 12th"),
# but a trip's start when it comes first ("leaving March 5th and returning the 9th").
_LEAVING = re.compile(
    r"\b(leav(e|es|ing)|departure|depart(s|ing)?)\W+((the|on|in|of|at|date|day|is|will|be|to)\W+){0,4}$",
    re.IGNORECASE,
)
# Between a trip's first date and a later one: the later one is the way back or the arrival ("departing March
# 12th at 9:35 am and return departure is 6:50 am on March 14th", "... at 6:10 am arriving in San Francisco on
# March 11th").
_BACK_BETWEEN = re.compile(r"\b(return\w*|arriv\w*|coming back|flying back|inbound)\b", re.IGNORECASE)
_ARRIVAL_WORDS = r"arriv\w*|lands?|landing|gets? in|getting in|return\w*"
_TIME_END = re.compile(
    rf"\b({_ARRIVAL_WORDS}|ends?|ending|finish\w*|until|till|check[ -]?out|back)\W+((at|by|around|about|in)\W+)?$",
    re.IGNORECASE,
)
# The return leg named before a time: "the return flight leaves at 10:40 am", "a return flight that departs
# at 7:05 am".
_RETURN_LEG = re.compile(
    r"\b(return(ing)?|inbound) (flight|bus|train|trip|leg|journey)s?\b[^.?!;,]{0,24}$", re.IGNORECASE
)
# A detail of a booking other than its day and time: the party, the seats, the rooms.
_OTHER_DETAIL = re.compile(
    r"\b((\d+|one|two|three|four|five|six|seven|eight) (person|people|persons|guests?|tickets?|seats?|rooms?|"
    r"adults?|passengers?|of us)|just (for )?(me|myself|us|\d+|one|two|three|four)|only (for )?(me|myself|\d+|one|two))\b",
    re.IGNORECASE,
)
# A place corrected: "I'd like to have it in Cotati", "the diner is China Chef", "at the 3rd Cousin instead".
_PLACE_DETAIL = re.compile(
    r"\b((have|want|like) it (in|at)|the (diner|restaurant|salon|place|hotel|house|dentist|doctor|stylist|theater|"
    r"theatre|venue|city|location) (is|should be|will be)|(in|at) [A-Z][\w'&-]*( [A-Z][\w'&-]*)* instead)\b"
)
# The agent presents one option of a listing ("There is a Delta flight that leaves at 10 am"), not an
# arrival ("2:28 pm is the arrival time", "the onward flight arrives at 1:47 pm").
_PRESENTS = re.compile(
    r"\W*(there is|there's|there are|i have|i've got|i found|how about|what about|another|one)\b", re.I
)
_ARRIVES = re.compile(rf"\b({_ARRIVAL_WORDS})\b", re.IGNORECASE)
# "the time of your departure has changed to 7:50 am", "we moved it to 6 pm": the agent reports the time the
# arrangement now has.
_CHANGED_TO = re.compile(
    r"\b(changed|moved|rescheduled|updated|switched|shifted|pushed back|brought forward)( (it|that|this|you))? "
    r"to\s+((about|around)\s+)?$",
    re.IGNORECASE,
)
_CHANGED_TO_NEEDS = ("changed", "moved", "rescheduled", "updated", "switched", "shifted", "pushed back", "brought forward")  # fmt: skip
_BOUND = re.compile(
    r"\b(after|before|by|no later than|not later than|no earlier than|earlier than|later than|until|till)\s+"
    r"((about|around|roughly)\s+)?$",
    re.IGNORECASE,
)
# A second, separate arrangement: "I also need a hotel for Friday", "another table", "as well".
# ("On second thought" changes the one arrangement.)
_ADDITIONAL = re.compile(
    r"\b(also|another|as well|second(?! thoughts?\b| though\b)|additional|in addition|one more)\b",
    re.IGNORECASE,
)
_ALTERNATIVE = re.compile(r"\banother (opening|slot|time|day|date)\b", re.IGNORECASE)
_AGENT_ALTERNATIVE = re.compile(
    # ("That's also on March 7th at 6 pm": a second option on the same day, not a second arrangement.)
    r"\banother (opening|slot|time|day|date|appointment|table|showing|option)\b|\balso (on|at|for)\b",
    re.IGNORECASE,
)
# A song or a film played "in two minutes": playing it arranges nothing (with a wait of minutes, `_SOON`).
_PLAYBACK = re.compile(
    r"\b(play|plays|playing|played|hear|listen|listening|stream|streaming|cast)\b", re.IGNORECASE
)
_PLAYBACK_NEEDS = ("play", "hear", "listen", "stream", "cast")
# A date that is a wait of minutes or an hour: "in 7 minutes", "within the hour" (see `_date_at`).
_SOON = re.compile(r"(in|within)\b.*\b(minutes|hour)", re.IGNORECASE)
# Things that run on a schedule of their own (a showing, an event, a departure): the agent listing one is
# telling what exists, and the caller liking it arranges nothing until it is bought (see `_Slot.unbooked`).
# The shows, events and flights also make a whole call about such things (`_SCHEDULED_TOPIC`); a bus or a
# train does not (it is also how people get to a salon).
_SHOWS = r"showings?|showtimes?|screenings?|movies?|films?|events?|concerts?|games?|performances?|flights?"
_SCHEDULED = re.compile(
    rf"\b({_SHOWS}|matches|match|airlines?|bus|buses|trains?|departs?|departing|departure|takes? off)\b",
    re.IGNORECASE,
)
_SCHEDULED_TOPIC = re.compile(rf"\b({_SHOWS})\b", re.IGNORECASE)
_SCHEDULED_TOPIC_NEEDS = ("showing", "showtime", "screening", "movie", "film", "event", "concert", "game", "performance", "flight")  # fmt: skip
# Something the agent's search found free on a day ("There is a standard Altima available at John Wayne
# Airport next Tuesday", "a Ford Fusion, ready to go on March 11th"): an option listed, not yet reserved.
_AVAILABLE = re.compile(r"\b(available|ready to go)\b", re.IGNORECASE)
# A ride: booked for now, beside whatever else the call arranges.
_RIDE = re.compile(r"\b(rides?|cabs?|taxis?|uber|lyft|shuttle)\b", re.IGNORECASE)
_RIDE_NEEDS = ("ride", "cab", "taxi", "uber", "lyft", "shuttle")
# A time the caller puts in place of the one on the table: "no, make it 2:45 instead".
_TIME_CHANGE = re.compile(
    r"\b(make (it|that)|instead|rather|how about|what about|can we do|could we do|let'?s try|try (it )?(at|for)|"
    # "Sorry, let's do it at 13:30 please."
    r"let'?s (do|have|book|schedule|go for|go with)( (it|that))? (at|for)|"
    r"(change|move) (it|that|the (time|reservation|booking|appointment|table)) to|"
    r"(book|schedule|reserve|set) (me|it|us|that) (for|at)|i'?d prefer|i prefer)\b",
    re.IGNORECASE,
)
# The caller liking an offer but asking for another: "That's fine but anything else like baseball games?"
_BUT_OTHER = re.compile(r"\bbut\b[^.?!]*\b(else|other|others|another|different)\b", re.IGNORECASE)
# The caller taking what the agent just proposed, in words that are not a plain "yes".
_TAKES = re.compile(
    r"^\W*(?:(?:um|uh|oh|ok|okay|yes|yeah|yep|sure|alright|all right|great|cool)\W+)*"
    r"(?:perfect|great|(?:(?:that|this|it|the \w+|that \w+|this \w+) )?sounds (?:good|great|perfect|fine|ok|okay)|"
    r"that (?:should|would) work|(?:let'?s )?try (?:it|that)|(?:that|this|it) (?:would|will) be "
    r"(?:good|great|perfect|fine)|that works|works for me|that'?ll work|that will work|"
    r"let'?s do (?:it|that)|lets do (?:it|that)|book it|i'?ll take (?:it|that)|go ahead|do it|that'?s fine|"
    r"that is fine|it'?s fine|it is fine|fine|"
    r"(?:that|this) (?:time|day|date|one|slot) (?:is|sounds|works|would be|will be) (?:good|great|fine|perfect)|"
    r"that'?s good|that is good|(?:that|this|it)(?:'s| is) (?:perfect|great)|"
    r"(?:i'?m|i am) (?:fine|ok|okay|good|happy) with (?:that|it|this))\b",
    re.IGNORECASE,
)
_AGENT_BACKGROUND = re.compile(
    r"\b(i see (you|your|a call)|your (\w+ )?(appointment|policy|plan|subscription|card|order|lesson) "
    r"(is|was|on|renews)|renews?|ships?|shipped|arrive|arrives|deliver(ed|y) (by|in)|open(s)? (on|at|from)|"
    r"we'?re open|closed|hours are|starting|effective|due|expires?|business days|regular hours|"
    # The caller's own calendar read out: "On March 14th, you have free time from 9 pm to 10 pm.", "you're free
    # from 6 am till 11 am", "you are available all day": when they are free, nothing arranged.
    r"you (have|'ve got|got) (some )?(free time|time free|availability)|you('re| are| will be| would be) "
    r"(free|available) (from|between|all day|until|till|after|before))\b",
    re.IGNORECASE,
)
# The agent reporting what a search found: "I found 1 showing on March 5th", "There is an event on the 9th".
_SEARCH_RESULT = re.compile(
    r"^\W*((ok|okay|sure|great|alright)\W+)?(i|we) (found|located|have found|see)\b(?! (you|(an?|another) (opening|slot|"
    r"appointment|table)))|\bthere (is|are|'s) (\d+|a|an|one|another) (\w+ )?(showings?|events?|flights?|buses|"
    r"bus|movies?|results?|options?|trains?)\b|\b(is|are) (showing|playing|screening)\b|\bha(s|ve) (\d+|a|an|one|"
    r"only one|just one) (showings?|showtimes?|screenings?)\b|\b(showtimes?|showings?) (available )?(is|are)\b|"
    r"\b(the|this|that) (event|game|show|concert|match|movie|film|showing|screening|performance) (is|will be|starts|"
    r"begins|takes place|happens)\b|\bthere'?s (one|a|an|\d+) (showing|screening|show|showtime|event|game|concert)\b|"
    r"\b(i|we) have (\d+|one|two|three|four|five|several|a few) (\w+ )?(events?|showings?|movies?|flights?|buses|"
    r"options?|results?|games?|concerts?)\b",
    re.IGNORECASE,
)
# The agent reading the arrangement back for the caller to confirm.
_READ_BACK = re.compile(
    r"^\W*((ok|okay|great|sure|alright)\W+)?(just )?(to confirm|confirming|please confirm|can you confirm|"
    r"could you confirm|let me confirm)\b",
    re.IGNORECASE,
)
# The agent offering to make the booking or sale ("Would you like to purchase tickets now?"): a "no" to it
# leaves nothing arranged.
_BOOK_ACTS = (
    r"(purchase|buy|book|reserve|rent|(make|place|put in) (a|the|your) (reservation|booking)|"
    r"get (the |your |some |those |these )?(tickets?|seats?))"
)
_OFFERS_TO_BOOK = re.compile(
    rf"\b((would|do|so) you (like|want|need) (me )?(to )?(go ahead and )?{_BOOK_ACTS}|(shall|should) i {_BOOK_ACTS}|"
    r"(would|do) you (like|want|need) (it|them|this|that|one|the \w+) (reserved|booked|purchased))\b",
    re.IGNORECASE,
)
_OFFERS_TO_BOOK_NEEDS = ("you like", "you want", "you need", "shall i", "should i")
# The agent asking the caller to confirm what it reads back.
_ASKS_CONFIRM = re.compile(
    # ("Your ticket confirmation is successful", "your confirmation number": reports, not a request.)
    r"\b(confirm(ation(?! (is |was |has been )?(successful|complete|done|number|code)))?|check|review|verify|correct|"
    r"(is that|is this|have (this|that|it|everything)|got (this|that|it|"
    r"everything)) right|make sure)\b|\bright\s*\?",
    re.IGNORECASE,
)
_CONFIRMS_NEEDS = ("confirm", "check", "review", "verify", "correct", "right", "make sure")


def _find_asks_confirm(text: str) -> bool:
    """Does the agent's turn ask the caller to confirm what it reads back?"""
    return may_say(text, _CONFIRMS_NEEDS) and _ASKS_CONFIRM.search(text) is not None


# Asked of the same agent turn by the timeline, its sentence reader and the caller's answer to it.
_asks_to_confirm = per_text("asks_to_confirm", _find_asks_confirm)
# The agent reporting that the booking it tried failed: "Sorry, I was unable to book the appointment you
# requested.", "the appointment could not be made", "the reservation was not successful".
# Also a refusal of the slot on the table that names no day: "they are not available at the requested time",
# "that time slot is unavailable", "no appointment available at the time you asked for".
_FAILED = re.compile(
    r"\b((unable|not able|no able|an able|not being able|impossible) to (be )?(successfully )?(book|make|reserve|"
    r"schedule|complete|purchase|buy|confirm|process|fill|get|booked|made|reserved|scheduled|completed|purchased|"
    r"confirmed|processed)|"
    r"(could not|couldn'?t|was not able to|wasn'?t able to) (successfully )?(book|make|reserve|"
    r"schedule|complete|purchase|buy|confirm|process)|"
    r"(was not able to|wasn'?t able to|not able to|unable to) get (that|this|the|a|an|your) (\w+ ){0,2}(time|"
    r"appointment|slot|reservation|booking|table|tickets?|room)\b|(could not|couldn'?t|cannot|can'?t|can not) be (made|booked|"
    r"reserved|scheduled|completed|achieved|done|processed|confirmed)|(did not|didn'?t) go through|"
    r"(booking|reservation|purchase|appointment|transaction)( \w+)?( for you)? (was |is |has )?(not successful|"
    r"unsuccessful|failed)|(that|it|this) (also )?failed|unable to do (that|it|this|what)|"
    r"(ran into|had|there was|there were|hit) (some |an? )?(trouble|issues?|problems?|errors?) (((while|when) )?"
    r"(trying|attempting) to (book|make|reserve|schedule|purchase|buy)|making|booking|"
    r"reserving|scheduling|purchasing|with (the|your) (booking|reservation|appointment|purchase))|"
    r"(could not|couldn'?t|cannot|can'?t|can not) (make|get|book|reserve|buy|purchase) (you )?(a|an|the|your|that|this|those|"
    r"these) (\w+ )?(reservation|rez|booking|appointment|tickets?|table|room|seats?)|(can'?t|cannot|couldn'?t) get (that|this) "
    r"one|(reservation|booking|appointment|(appointment |that |this |the )?time|slot|date|day) (was|is) (unavailable|"
    r"not available)|(reservation|booking|appointment|time|slot|date|day) (isn'?t|wasn'?t) available|"
    r"(these|those|the|your) (dates|days|times) (are|were) (not available|unavailable)|"
    r"(that|this|the) (date|day|time) (doesn'?t|does not|won'?t|will not|didn'?t|did not) work|"
    r"(that|this) (time|slot|date|day) (is|was) (already )?(booked|taken|full)|"
    r"fully booked (at|for|on) (your|that|the|this)|"
    r"sorry,? (but )?(that'?s |that is |it'?s |it is |is |they'?re |they are )?(not available|unavailable)|"
    r"(still )?no (\w+ )?availability|nothing (available|open|left|there)( then| either| at that time)?(?= *[.!,]|$)|"
    r"(don'?t|do not|doesn'?t|does not) have (an |any |a )?(openings?|availability|slots?|appointments?|tables?|"
    r"rooms?|seats?)( (at|for|on) (that|this|the)| then\b|(?=\s*[.!;]))|"
    r"(could not|couldn'?t|can'?t|cannot|did not|didn'?t) find (any |an |those |these |the |your )?(open |available )?"
    r"(seats?|tickets?|tables?|"
    r"rooms?|openings?|appointments?|slots?|availability)|"
    r"(don'?t|do not|doesn'?t|does not) (show|see) ((that )?([\w.,'-]+ ){0,8}(has|have) )?(an |any )?(openings?|"
    r"availability|slots?|appointments?|tables?|rooms?|seats?)|"
    r"there (aren'?t|are not|isn'?t|is not) any (\w+ )?(available )?(tickets?|seats?|tables?|rooms?|appointments?|"
    r"openings?|show ?times?|showings?)|(booking|reservation|purchase|appointment|visit|table|tickets?|order) (was|were|is|has|have) not "
    r"(been )?(booked|made|reserved|scheduled|purchased|placed|completed|confirmed)|"
    r"(i |we )?fail(ed|s)? to (book|make|reserve|schedule|purchase|buy|get)|"
    r"there (are|is) no (\w+ )?(available )?(appointments?|appoints|slots?|openings?|availability|tables?|rooms?|tickets?|"
    r"seats?|reservations?|bookings?) (available )?(for|at|on) (the|that|this)|"
    r"(not available|unavailable|no (\w+ )?(appointments?|slots?|openings?|tables?|seats?) available) (at|for|on) "
    r"(the|that|this|your) (requested|preferred|chosen|selected)? ?(time|date|day|slot|hour)\b(?! (of|is|for))|"
    r"at the (time|date|day|hour) you (asked|requested|wanted|want|prefer|preferred|chose|were looking for|"
    r"are looking for|wanted)|"
    r"(that|this|the|your) (time ?)?slot (is|was) (unavailable|not available|taken|booked|full)|"
    r"(i|we) (can'?t|cannot|can not|couldn'?t|could not) (book|get|reserve|make|schedule) (that|it|this|them|"
    r"those)(?=\s*([.!,;]|$|for you|booked|reserved|done|instead)))\b",
    re.IGNORECASE,
)
_FAILED_NEEDS = (
    "able to", "impossible", "could not", "couldn", "cannot be", "can't be", "cant be", "not successful",
    "unsuccessful", "fail", "there are no", "there is no", "not been", "not booked", "not made", "not reserved",
    "not scheduled", "not purchased", "not placed", "not completed", "not confirmed", "available", "you asked",
    "you requested", "you want", "you prefer", "you chose", "slot", "can't", "cant", "cannot", "can not",
    "no able", "trouble", "issue", "problem", "error", "fully booked", "availability", "looking for",
    "nothing", "n't have", "nt have", "not have", "t find", "an able", "being able", "go through", "t work", "t show", "t see", "t any", "not any", "booked", "taken", "full",
)  # fmt: skip


# "The next available booking is next Friday at 6:30 PM": what was on the table is not to be had (the sentence
# itself offers the day it names).
_NEXT_AVAILABLE = re.compile(
    r"\bnext available (booking|appointment|slot|time|opening|table|reservation)s?\b[^.?!]*\b(is|are|would be|will be)\b",
    re.IGNORECASE,
)


def _find_failure(text: str) -> re.Match[str] | None:
    """The agent's words reporting a booking failed (`_FAILED`), if any."""
    return _FAILED.search(text) if may_say(text, _FAILED_NEEDS) else None


# Asked of the same agent turn by the timeline and by its sentence reader.
_failure = per_text("failure", _find_failure)
_CALLER_PAST = re.compile(
    r"\b(was|were|had|did|went|came|called|brought|happened|ordered|paid|charged|bought|started|got|fell|"
    r"(?<!be )moved|filed|sent|replaced|fixed|cancelled|canceled|ago|since|born|birthday|last)\b",
    re.IGNORECASE,
)
# A bare number after these counts people: "a table for 2 tonight", "a party of four on Friday".
_PARTY_BEFORE = word_set("for of")
_NOT_A_TIME_AFTER = word_set(
    "people guys years year minutes hours days weeks months of dollars bucks a an percent times time "
    "showings showing showtimes showtime flights buses trains events movies options results stops "
    "tickets ticket seats seat adults adult children kids persons person guests guest nights night rooms "
    "room tables table pizzas pizza orders items bags passengers travelers travellers"
)


@dataclass(frozen=True, slots=True)
class _Said:
    """A date and/or time said in one sentence of one turn, with the sentence's role."""

    turn: int
    role: Role
    date: DateMention | None
    time: TimeMention | None
    question: bool
    additional: bool = False  # a second arrangement ("I also need ..."): never replaces the first
    ride: bool = False  # a ride's wait ("your cab is 7 minutes away"): never replaces what is arranged
    listed: bool = (
        False  # a showing, event or departure the agent lists: bought, not agreed (`_Slot.unbooked`)
    )
    changed: bool = False  # the agent reports the arrangement's time changed to this one

    def evidence(self) -> list[Evidence]:
        out = []
        if self.date is not None:
            out.append(Evidence(self.turn, self.date.start, self.date.end))
        if self.time is not None:
            out.append(self.time_evidence())
        return out

    def time_evidence(self) -> Evidence:
        assert self.time is not None
        return Evidence(self.turn, self.time.start, self.time.end)


@dataclass
class _Slot:
    """The arrangement as it stands: a date (with other readings), an optional time, evidence, confidence."""

    value: date
    alternatives: tuple[date, ...]
    confidence: float
    evidence: list[Evidence]
    # "agent" (booked), "offer" (the caller took an offer), "caller" (only requested), "echo" (the agent
    # echoed an answer we could not read)
    source: str
    time: TimeMention | None = None
    time_evidence: list[Evidence] = field(default_factory=list)
    # A time the caller changed after the arrangement ("make it 2:45 instead") is theirs, not yet agreed:
    # its confidence stays at REQUESTED until the agent says it back.
    time_cap: float = 1.0
    # The agreed time a caller's change replaced: back in force if the agent turns the change down.
    replaced_time: tuple[TimeMention, list[Evidence]] | None = None
    declined: bool = False  # the agent turned this day (or its time) down
    # A showing, event or departure the agent listed and the caller liked ("I have a Delta flight leaving at
    # 8:30 am" - "That will work"; "The Angels Vs Orioles is at Angel Stadium tomorrow at 7:30 pm" after the
    # caller asked for Saturday), with no booking said since: not arranged until the agent says it is bought.
    unbooked: bool = False

    def same_day(self, other: date) -> bool:
        return other == self.value or other in self.alternatives

    def turn_down(self) -> None:
        """Not arranged after all (the agent declined it, could not book it, or the caller said no to
        booking it): it stays for review."""
        self.declined = True
        self.confidence = min(self.confidence, REQUESTED)

    def settle(self, value: date) -> None:
        self.value, self.alternatives = value, ()

    def set_time(self, said: _Said | None) -> None:
        """Take the time `said` gives; the same time said again adds its evidence (and its am/pm if known)."""
        if said is None or said.time is None:
            return
        t = said.time
        if t.window:
            self.time, self.time_evidence = None, []
            return
        evidence = said.time_evidence()
        if self.time is not None and _same_time(self.time, t):
            if t.half_day_known and not self.time.half_day_known:
                self.time = t
            if evidence not in self.time_evidence:
                self.time_evidence.append(evidence)
            return
        self.time, self.time_evidence = t, [evidence]
        self.time_cap = 1.0


def _excluded(text: str) -> list[tuple[int, int]]:
    spans = [(r.start, r.end) for r in find_digit_runs(text) if len(r.digits) >= 7]
    return spans + [(e.start, e.end) for e in find_emails(text)]


def _sentence_items(call: CallRecord, i: int, today: date, *, scheduled_topic: bool = False) -> list[_Said]:
    """The dates and times turn i says, sentence by sentence, with their roles. `scheduled_topic`: the call
    has been about something that runs on its own schedule (a movie, an event, a flight), so a time the agent
    lists is one of its showings or departures."""
    text = call.turns[i].text
    agent = call.turns[i].speaker is Speaker.AGENT
    dates = find_dates(text, today)
    times = list(find_times(text))
    if not dates:
        # With no date in the turn, only a certain time counts, or a bare one after "at" or answering an
        # offer of times: check that cheaply before anything else.
        times = [t for t in times if t.strong or t.first_token > 0]
    if not dates and not times:
        return []
    excluded = _excluded(text)

    def free(start: int) -> bool:
        return not any(s <= start < e for s, e in excluded)

    dates = [d for d in dates if free(d.start)]
    times = [t for t in times if free(t.start)]
    tokens = tokenize(text)
    out: list[_Said] = []
    # A read-back for confirmation ("Please confirm: the event is on March 9th") is never a search result.
    searching = agent and not _asks_to_confirm(text)
    found = _SEARCH_RESULT.search(text) if searching else None
    failure = _failure(text) if agent else None
    # "When would you like to return?" - "On March 13th.": the caller's one date is the trip's end.
    asked = None if agent else agent_turn_before(call, i)
    asked_end = (
        asked is not None
        and may_say(call.turns[asked].text, _ASKS_END_NEEDS)
        and _ASKS_END.search(last_sentence(call.turns[asked].text)) is not None
    )
    searched = found.start() if found is not None else None
    return_leg = may_say(text, ("return", "inbound"))  # a cheap test before `_RETURN_LEG` at every time
    changing = may_say(text, _CHANGED_TO_NEEDS)
    playback = may_say(text, _PLAYBACK_NEEDS)
    for s, e in sentences(text):
        in_dates = [
            d
            for d in dates
            if s <= d.start < e
            and not _closing_today(text, d)
            and not (playback and _SOON.fullmatch(text, d.start, d.end) and _PLAYBACK.search(text, s, e))
        ]
        in_times = [
            t
            for t in times
            if s <= t.start < e
            and not any(d.start <= t.start < d.end for d in in_dates)
            and _is_time(t, in_dates, tokens, agent, call, i)
        ]
        if return_leg:
            # "the return flight leaves at 10:40 am": the return leg's time, never the trip's.
            in_times = [t for t in in_times if not _RETURN_LEG.search(text, max(s, t.start - 48), t.start)]
        if not in_dates and not in_times:
            continue
        # "leaving after 18:00", "arrive by 11:30", "no later than 5": a bound, not the slot.
        in_times = [_window(t) if _BOUND.search(text, max(s, t.start - 24), t.start) else t for t in in_times]
        if len(in_times) > 1:
            # "leaving at 17:40 and arriving at 20:23", "check-in at 3, check-out at 11": the end of a span is
            # not the slot.
            starts = [t for t in in_times if not _TIME_END.search(text, max(s, t.start - 24), t.start)]
            in_times = starts or in_times[:1]
        sentence = text[s:e]
        role = _role(sentence, agent, searching=searching, failing=failure is not None)
        if role is Role.ECHO and searched is not None and s >= searched:
            role = Role.OTHER  # "I found 9 buses. One departs on March 5th at 7:40 am.": still the search
        elif role is Role.ECHO and failure is not None and s >= failure.end():
            role = Role.OFFER  # "I am unable to make a booking. ... Dr. Lee on Friday at 3:30 pm.": instead
        elif (
            role is Role.OTHER
            and failure is not None
            and searched is not None
            and failure.end() <= searched
            and s <= searched < e
        ):
            # "There was an issue trying to book the appointment. But there is an option ... on March 6th at
            # 3:30 pm.": what the agent found after the failure is offered instead.
            role = Role.OFFER

        question = sentence.rstrip().endswith("?")
        # A read-back lists nothing.
        listed = searching and (
            scheduled_topic
            or _SCHEDULED.search(sentence) is not None
            or _AVAILABLE.search(sentence) is not None
        )
        additional = role in (Role.BOOK, Role.ECHO, Role.REQUEST) and _additional(call, i, sentence)
        if not in_dates:
            if (
                listed
                and not _ARRIVES.search(sentence)
                and (
                    (role is Role.ECHO and _PRESENTS.match(sentence))
                    # "I found 1 flight on Alaska Airlines leaving at 8:25 am.": the one found, to choose
                    or (role is Role.OTHER and searched is not None and searched < e)
                )
            ):
                role = (
                    Role.OFFER
                )  # "There is a Delta flight that leaves at 10 am.": one to choose, not agreed
            out.extend(
                _Said(
                    i,
                    role,
                    None,
                    t,
                    question,
                    additional,
                    listed=listed,
                    changed=agent
                    and changing
                    and _CHANGED_TO.search(text, max(s, t.start - 40), t.start) is not None,
                )
                for t in in_times[:1]
            )
            continue
        in_dates = _range_starts(text, tokens, in_dates)
        claimed: set[int] = set()  # the times an earlier date of the sentence took
        for n, d in enumerate(in_dates):
            limit = in_dates[n + 1].start if n + 1 < len(in_dates) else e
            nearest = _time_for(d, in_times, limit, alone=len(in_dates) == 1)
            said_role = Role.OTHER if d.past else role
            # "You're booked for Saturday, checking out Sunday": the end of a stay or trip is never the slot,
            # whoever says it.
            if said_role in (Role.REQUEST, Role.BOOK, Role.ECHO, Role.OFFER) and (
                _RANGE_END.search(text, s, d.start)
                or _END_AFTER.match(text, d.end) is not None
                or (any(o.start < d.start for o in dates) and _LEAVING.search(text, s, d.start))
                or (n > 0 and _BACK_BETWEEN.search(text, in_dates[n - 1].end, d.start) is not None)
                or (said_role is Role.REQUEST and len(in_dates) == 1 and asked_end)
            ):
                said_role = Role.END
                if nearest is not None and nearest.start in claimed:
                    nearest = None  # "... next Monday at 12:30 pm, until next Tuesday": the start's time
                elif nearest is not None and (
                    nearest.start < d.start or _PICKUP.search(text, max(s, nearest.start - 32), nearest.start)
                ):
                    # "I need it from 3:30 pm and I'll be coming back on the 12th", "until the 9th and I'd like
                    # to pick the car up around 1:30": the time is the start's, asked for on its own.
                    out.append(_Said(i, role, None, nearest, question, additional, listed=listed))
                    nearest = None
            # "Your cab will reach you within 7 minutes" after a visit booked for the 13th: a ride for now
            # beside the arrangement, never a change of its day. (A tow truck there in 35 minutes is the
            # arrangement itself.)
            ride = (
                d.relative
                and _SOON.fullmatch(text, d.start, d.end) is not None
                and may_say(text, _RIDE_NEEDS)
                and _RIDE.search(text) is not None
            )
            if nearest is not None:
                claimed.add(nearest.start)
            out.append(_Said(i, said_role, d, nearest, question, additional, ride, listed))
    return out


# "That's all I need for today", "Thanks for your help today", "Not today, thank you": a goodbye, no day.
_CLOSING_TODAY = re.compile(
    r"\b((all|everything|(be|that'?s|that is) it|(i'?m|i am) (all )?(set|satisfied|okay|ok|good|fine|done))"
    r"( (that )?(i|we) (need|needed|wanted))?( for)?( me)?|"
    r"(thanks|thank you)( for)?( (all )?(your|the) (help|time|assistance))?|(help|assistance)|not) today\W*$",
    re.IGNORECASE,
)


def _closing_today(text: str, d: DateMention) -> bool:
    return text[d.start : d.end].lower() == "today" and _CLOSING_TODAY.search(text, 0, d.end) is not None


def _additional(call: CallRecord, i: int, sentence: str) -> bool:
    """Is this sentence about a second arrangement? Its own words, or (for the agent's booking) the caller's
    request just before it ("I also need a hotel for Friday" - "Done, you're booked for Friday")."""
    agent = call.turns[i].speaker is Speaker.AGENT
    if _ADDITIONAL.search(sentence):
        return _second(sentence, agent)
    if agent and i > 0 and call.turns[i - 1].speaker is Speaker.CALLER:
        return _second(call.turns[i - 1].text, agent=False)
    return False


def _second(text: str, agent: bool) -> bool:
    """Do the words ask for a second arrangement, not merely another slot for this one? The agent's "I found
    another appointment on March 5th at 1 pm" and the caller's "a reservation for another time" propose an
    alternative."""
    if _ADDITIONAL.search(text) is None:
        return False
    alternative = _AGENT_ALTERNATIVE if agent else _ALTERNATIVE
    if agent:
        return _ADDITIONAL.search(alternative.sub("", text)) is not None
    # "Can you give me the address? Also, what is the average rating?": a question about this one's details.
    return any(
        _ADDITIONAL.search(alternative.sub("", text[a:b])) is not None
        and not (_DETAIL_QUESTION.search(text, a, b) and not _ARRANGING.search(text, a, b))
        for a, b in sentences(text)
    )


_DETAIL_QUESTION = re.compile(
    r"\b(what|where|how|which|who|when|is it|are they|does it|do they)\b[^.?!]*\?", re.IGNORECASE
)
_ARRANGING = re.compile(r"\b(book|reserve|rent|schedule|need|want|get|buy|order|find|like)\b", re.IGNORECASE)


def times_said(call: CallRecord, i: int, today: date | None) -> list[TimeMention]:
    """The times turn i says as times: not digits of a phone number, not a bare number with no time around it."""
    text = call.turns[i].text
    times = find_times(text)
    if not times:
        return []
    excluded = _excluded(text)
    dates = find_dates(text, today) if today is not None else []
    tokens = tokenize(text)
    agent = call.turns[i].speaker is Speaker.AGENT
    return [
        t
        for t in times
        if not any(s <= t.start < e for s, e in excluded) and _is_time(t, dates, tokens, agent, call, i)
    ]


def _range_starts(text: str, tokens: Sequence[Token], dates: list[DateMention]) -> list[DateMention]:
    """ "Friday 21st to Sunday 23rd", "November 25th through the 29th", "between March 10th and March 13th": a
    stay or a span starts on its first day."""
    out: list[DateMention] = []
    for d in dates:
        if out:
            between = [t.text for t in tokens[out[-1].end_token : d.first_token]]
            first = out[-1].first_token
            opened = first > 0 and tokens[first - 1].text in (
                "between",
                "from",
            )  # "between March 10th and 13th"
            if (
                between in (["to"], ["through"], ["until"], ["till"], ["thru"])
                or (not between and "-" in text[out[-1].end : d.start])
                or (opened and between == ["and"])
            ):
                continue
        out.append(d)
    return out


def _is_time(
    t: TimeMention,
    dates: Sequence[DateMention],
    tokens: Sequence[Token],
    agent: bool,
    call: CallRecord,
    i: int,
) -> bool:
    """A weak time ("at four", "eleven", "ten thirty") counts only next to a date, after "at", or answering an
    offer of that time."""
    before = tokens[t.first_token - 1].text if t.first_token > 0 else ""
    if (
        before in _PARTY_BEFORE
        and t.end_token - t.first_token == 1
        and tokens[t.first_token].text
        not in (
            "noon",
            "midnight",
            "midday",
        )
    ):
        return False  # "a table for 2 tonight", "party of four": how many, not when
    if t.strong:
        return True
    after = tokens[t.end_token].text if t.end_token < len(tokens) else ""
    if after in _NOT_A_TIME_AFTER:
        return False
    if any(-1 <= t.first_token - d.end_token <= 2 or -1 <= d.first_token - t.end_token <= 2 for d in dates):
        return True
    if before in ("at", "around") and (dates or agent):
        return True
    if not agent and t.first_token > 0:
        lead = call.turns[i].text[max(0, tokens[t.first_token - 1].start - 40) : tokens[t.first_token].start]
        if _TIME_CHANGE.search(lead):
            return True
    if not agent and i > 0 and call.turns[i - 1].speaker is Speaker.AGENT:
        offered = [o for o in find_times(call.turns[i - 1].text) if o.strong]
        return any(o.hour % 12 == t.hour % 12 and o.minute == t.minute for o in offered)
    return False


def _time_for(d: DateMention, times: Sequence[TimeMention], limit: int, *, alone: bool) -> TimeMention | None:
    """The time said with a date: the first after it, else one just before it, or the sentence's only time
    when the date is its only date ("May I suggest 3:30 pm with Dr. Lee instead on March 10th")."""
    after = [t for t in times if d.end <= t.start < limit]
    if after:
        return after[0]
    before = [
        t
        for t in times
        if t.end <= d.start and (d.first_token - t.end_token <= 3 or (alone and len(times) == 1))
    ]
    return before[-1] if before else None


_RUN_ON = re.compile(r"[.!;]\s*[A-Za-z]")


def _fails_without_offer(sentence: str) -> bool:
    """ "I could not make the appointment for March 12th at 6 pm": not that day. (A failure that runs on into
    an offer, "reservation failed.You want to try again on March 12th at 12 pm", offers that day.)"""
    m = _FAILED.search(sentence) if may_say(sentence, _FAILED_NEEDS) else None
    if m is None:
        return False
    rest = sentence[m.end() :]
    # "?", an offer, or another sentence run on without a space ("failed.You want to try again on ...").
    return "?" not in rest and _OFFER.search(rest) is None and _RUN_ON.search(rest) is None


def _role(sentence: str, agent: bool, *, searching: bool = True, failing: bool = True) -> Role:
    """The sentence's part in the arrangement. `searching`: the turn is no read-back; `failing`: the turn
    holds a report of a failure (its sentences are checked for one only then)."""
    if may_say(sentence, _CANCEL_NEEDS) and _CANCEL.search(sentence):
        return Role.CANCEL
    if not agent:
        return Role.OTHER if _CALLER_PAST.search(sentence) else Role.REQUEST
    if _DECLINE.search(sentence) or (failing and _fails_without_offer(sentence)):
        return Role.DECLINE
    if _BOOK.search(sentence):
        return Role.BOOK
    if searching and _SEARCH_RESULT.search(sentence):
        return Role.OTHER  # "I found 1 showing on March 5th at 10:30 pm": what exists, not what is agreed
    if _READ_BACK.search(sentence) and not sentence.rstrip().endswith("?"):
        return (
            Role.ECHO
        )  # "Just to confirm; your appointment is 11 am today": the agreed slot, not background
    if _AGENT_BACKGROUND.search(sentence) or _GREETING.search(sentence):
        return Role.OTHER
    if _OFFER.search(sentence) or sentence.rstrip().endswith("?"):
        return Role.OFFER
    return Role.ECHO


# -- resolving the timeline ----------------------------------------------------------------------------


def local_today(call: CallRecord, default_timezone: str) -> date | None:
    """The call's local date: its start in the call's time zone, else the tenant's."""
    if call.started_at is None:
        return None
    try:
        zone = ZoneInfo(call.timezone or default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    started = call.started_at
    if started.tzinfo is None:
        started = started.replace(tzinfo=ZoneInfo("UTC"))
    return started.astimezone(zone).date()


class _Timeline:
    """Folds a call's dates, in order, into the arrangement it ends with (see the module docstring)."""

    def __init__(self) -> None:
        self.state: _Slot | None = None
        self.just_booked = False  # the agent's last turn stated the arrangement (not as a question)
        self.agent_said: list[_Said] = []  # every date and time the agent said, in order
        self.cancelled: set[date] = set()
        self.superseded: list[tuple[str, tuple[Evidence, ...]]] = []
        self.offered_to_book = False  # the agent's last turn offered to make the booking or sale, undated
        # The caller said no to buying or booking ("Do you want to buy tickets now?" - "No, not now."), and no
        # booking was said since: a showing they liked afterwards is information (see `resolve_when`).
        self.not_buying = False
        # The one time the agent's last turn read back for confirmation, dated or not ("Please confirm: the
        # reservation is at 7 pm for 1 person."): what a change of only the day keeps (`request`).
        self.read_back: _Said | None = None
        self.asked_at: _Said | None = None  # the words the caller last asked for a time in, if one

    def replace(self, slot: _Slot | None) -> None:
        if self.state is not None and (slot is None or not self.state.same_day(slot.value)):
            self.superseded.append((self.state.value.isoformat(), tuple(self.state.evidence)))
        self.state = slot

    def cancel(self, day: date) -> None:
        self.cancelled.add(day)
        if self.state is not None and self.state.same_day(day):
            self.replace(None)

    def echo_answer(self, said: _Said) -> None:
        """ "When would you like it delivered?" - garbled - "Friday 18th December.": with nothing read of the
        caller's answer, the agent's echo of it is the day asked for, the bot's hearing, unchecked: for
        review (reason agent_echo_unconfirmed), never booked on its own."""
        d = said.date
        if self.state is not None or d is None or d.alternatives or d.value in self.cancelled:
            return
        slot = _Slot(d.value, (), ECHO_ONLY, said.evidence(), "echo")
        slot.set_time(said)
        self.replace(slot)

    def agent(self, items: list[_Said], pending: list[_Said], *, reading_back: bool = False) -> list[_Said]:
        """Apply an agent turn; returns the slots on offer for the caller's answer.

        An offer the caller did not answer stays on the table: "We can do Tuesday at 11 AM. Where would the car
        be?" - "at my job ..." - "Okay, Tuesday, April 21st at 11 AM." repeats it as settled."""
        for said in items:
            if said.role is Role.CANCEL and said.date is not None:
                self.cancel(said.date.value)
            elif said.role is Role.DECLINE:
                self.decline(said)
            elif said.role is Role.BOOK or self._echoes(said, pending):
                if (
                    (said.additional or said.ride)
                    and self.state is not None
                    and (self.state.source != "caller" or said.ride)
                ):
                    continue  # a second booking (or a cab for now): the first arrangement, or request, stands
                self.book(said)
            elif said.role is Role.ECHO and said.date is None:
                self.echo_time(said)
        self.just_booked = any(x.role is Role.BOOK and not x.question for x in items)
        state = self.state
        if (
            state is not None
            and state.source in ("caller", "offer")
            and state.time is not None
            and not any(x.role is Role.BOOK for x in items)
            and any(
                x.role is Role.OFFER
                and x.date is not None
                and state.same_day(x.date.value)
                and x.time is not None
                and not x.time.window
                and not _same_time(x.time, state.time)
                for x in items
            )
        ):
            # The agent offers another time of the day the caller took, before booking it: the time taken is
            # not to be had; what the caller answers decides.
            state.turn_down()
        self.agent_said.extend(items)
        timed = [x for x in items if x.time is not None and not x.time.window]
        self.read_back = (
            timed[-1] if reading_back and len({x.time.value for x in timed if x.time}) == 1 else None
        )
        # A day the agent reads back for confirmation that is not the one on the table ("Could you confirm
        # some details for me? Your appointment will be today at 4:30 pm." after the caller's "no, the 1st of
        # March") is on offer: the caller's yes takes it.
        offers = [
            x
            for x in items
            if x.role is Role.OFFER
            or (reading_back and x.role is Role.ECHO and x.date is not None and not self._echoes(x, pending))
            # "6 in the evening." - "Ok, I will reserve a table for 4. The reservation is today at 6 pm.": with
            # nothing arranged yet, the caller's time stated with a day awaits the caller's answer ("That works").
            or (
                x.role is Role.ECHO
                and x.date is not None
                and x.time is not None
                and self.state is None
                and self.asked_at is not None
                and self.asked_at.time is not None
                and _same_time(x.time, self.asked_at.time)
            )
        ]
        # "Okay, so it's 1 person at 12:30 pm?" after "... at 12:30 pm today for 2 people?" - "No, just 1 person":
        # the same time read back again is the same dated slot.
        offers = [_dated_like(x, pending) for x in offers]
        if offers or any(x.role in (Role.BOOK, Role.ECHO, Role.CANCEL, Role.DECLINE) for x in items):
            return offers  # (a new listing replaces the options listed before)
        if reading_back and any(o.listed and o.date is None for o in pending):
            # "So, you would like a Pool ride to 200 C Street. Right?" after "one show at 11:30 am": the yes
            # answers the read-back, not the showing listed before it.
            return [o for o in pending if not (o.listed and o.date is None)]
        return pending

    def done_as_asked(self, i: int, done: re.Match[str] | None, items: list[_Said]) -> None:
        """ "Booking was successful, the reference number is ...": the agent books without saying the date again;
        what the caller asked for, or took from the agent's offers (and nobody turned down), is what is booked.
        `done`: agent turn i's words saying so (`_done_statement`)."""
        state = self.state
        if state is None or state.source not in ("caller", "offer") or state.declined or state.alternatives:
            return
        for x in items:
            if x.date is not None:
                return  # a dated statement speaks for itself
        if done is None:
            return
        asked_at = max(e.turn for e in state.evidence)
        since = [x for x in self.agent_said if x.turn > asked_at] + items
        if any(
            x.date is not None and x.role is not Role.END and not state.same_day(x.date.value) for x in since
        ):
            return  # the agent spoke of another day since (not the stay's end): which was booked, words do not say
        state.confidence = max(state.confidence, BOOKED)
        state.source = "agent"
        state.evidence.append(Evidence(i, done.start(), done.end()))
        if state.time is None:
            return
        if state.time_cap >= 1.0 and all(x.time is None or _same_time(x.time, state.time) for x in since):
            # The booking covers the time asked.
            state.time_evidence.append(Evidence(i, done.start(), done.end()))
        else:
            # The agent spoke of another time since ("there's a 7:15 showing"): the booked time is not known.
            state.time_cap = min(state.time_cap, REQUESTED)

    def failed(self, call: CallRecord, i: int) -> None:
        """The agent reports the booking it tried failed ("Sorry, I was unable to book the appointment"): what
        was on the table is not arranged (it stays, for review, unless something else is booked later)."""
        state = self.state
        text = call.turns[i].text
        if state is None:
            return
        if _failure(text) is None and not (
            may_say(text, ("next available",)) and _NEXT_AVAILABLE.search(text)
        ):
            return
        state.turn_down()

    def done_with_offer(
        self, i: int, done: re.Match[str] | None, items: list[_Said], pending: list[_Said]
    ) -> None:
        """ "Please confirm: a table for 2 at 11:30 am today." - garbled - "Your booking has been made.": the
        agent books, without saying the date again, the one day it read back, which the caller did not turn
        down (a "no" answers the offer and clears it). `done`: agent turn i's words saying so (`_done_statement`)."""
        if any(x.date is not None for x in items):
            return  # a dated statement speaks for itself
        state = self.state
        if state is not None and state.source != "caller" and not state.declined:
            return  # something is already arranged
        dated = [o for o in pending if o.date is not None]
        if len({o.date.value for o in dated if o.date is not None}) != 1:
            return  # no day on offer, or several
        offer = dated[-1]
        assert offer.date is not None
        if offer.date.alternatives or offer.date.value in self.cancelled:
            return
        if done is None:
            return
        slot = _Slot(
            offer.date.value, (), BOOKED, [*offer.evidence(), Evidence(i, done.start(), done.end())], "agent"
        )
        slot.set_time(offer)
        if slot.time is None and state is not None and state.same_day(offer.date.value):
            slot.time, slot.time_evidence = state.time, state.time_evidence
        self.replace(slot)

    def decline(self, said: _Said) -> None:
        """The agent turned a slot down: what the caller asked for is not arranged (it stays for review)."""
        state = self.state
        if state is None:
            return
        if (
            said.date is None
            and said.time is not None
            and state.time is not None
            and state.time_cap < 1.0
            and _same_time(state.time, said.time)
        ):
            # The caller's change ("can we do 7 instead?") turned down: the agreed time stands, or none.
            kept = state.replaced_time
            state.time, state.time_evidence = (kept[0], list(kept[1])) if kept else (None, [])
            state.time_cap, state.replaced_time = 1.0, None
            return
        if said.date is None or state.same_day(said.date.value):
            state.turn_down()
            if said.time is not None and state.time is not None and _same_time(state.time, said.time):
                state.time, state.time_evidence = None, []

    def echo_time(self, said: _Said) -> None:
        """ "Sure, 2:45 it is.": the agent saying back the time the caller changed to agrees to it; "the time of
        your departure has changed to 7:50 am" replaces it."""
        state = self.state
        if (
            state is not None
            and said.time is not None
            and state.time is not None
            and (said.changed or _same_time(state.time, said.time))
        ):
            if said.changed and not _same_time(state.time, said.time):
                state.time, state.time_evidence = None, []
            state.time_cap = 1.0
            state.set_time(said)

    def _echoes(self, said: _Said, pending: list[_Said]) -> bool:
        """The agent repeats a date already agreed, or one it offered: "Okay, Tuesday, April 21st at 11 AM"."""
        if said.role is not Role.ECHO or said.date is None:
            return False
        day = said.date.value
        if self.state is not None and self.state.same_day(day):
            return True
        return any(o.date is not None and o.date.value == day for o in pending)

    def book(self, said: _Said) -> None:
        state = self.state
        if said.date is None:
            # "See you then at 7:30": a booking statement that repeats the agreed time; "I've moved it to 6
            # pm": one that changes it.
            if (
                state is not None
                and said.time is not None
                and state.time is not None
                and (said.changed or _same_time(state.time, said.time))
            ):
                if not _same_time(state.time, said.time):
                    state.time, state.time_evidence = None, []
                state.confidence = clamp(state.confidence + AGREED)
                state.set_time(said)
            return
        d = said.date
        confidence = BOOKED + (EXPLICIT_AGREES if d.explicit and d.relative and d.consistent else 0.0)
        if not d.consistent:
            confidence = AMBIGUOUS
        if state is not None and state.same_day(d.value) and not d.alternatives:
            state.settle(d.value)
            state.unbooked = said.role is Role.ECHO and said.listed
            state.confidence = clamp(max(confidence, state.confidence) + AGREED)
            state.evidence.extend(said.evidence())
            state.source = "agent"
            if said.time is not None:
                state.set_time(said)
                state.time_cap = (
                    1.0  # the agent states the time with the day: a time the caller changed is agreed
                )
            return
        slot = _Slot(
            d.value, d.alternatives, confidence if not d.alternatives else AMBIGUOUS, said.evidence(), "agent"
        )
        slot.set_time(said)
        self.replace(slot)

    def caller(self, call: CallRecord, i: int, items: list[_Said], offers: list[_Said]) -> bool:
        """Apply a caller turn; True when it answered the offers (took one, or asked for something else)."""
        reaction, span = classify_reaction(call.turns[i].text)
        asked = [x for x in items if x.role is Role.REQUEST and x.time is not None and not x.time.window]
        if asked:  # (kept through the caller's turns that say no time: "The diner is called Paya.")
            self.asked_at = asked[0] if len(asked) == 1 else None
        just_booked, self.just_booked = self.just_booked, False
        offered_to_book, self.offered_to_book = self.offered_to_book, False
        if offered_to_book and reaction is Reaction.DENY:
            self.not_buying = True
        if not items and self.state is not None:
            text = call.turns[i].text
            if offered_to_book and reaction is Reaction.DENY:
                # "Would you like to purchase tickets now?" - "Nope, that is all I need.": nothing is booked.
                self.state.turn_down()
                return True
            if just_booked and reaction is Reaction.DENY:
                # "No, that's wrong" to the agent's booking statement: whatever it says is not agreed.
                self.state.confidence = min(self.state.confidence, REQUESTED)
                return True
            if may_say(text, _CALLER_CANCEL_NEEDS) and _CALLER_CANCEL.search(text) and "?" not in text:
                self.replace(None)  # "Actually, cancel that.": nothing stays arranged
                return True
        if (
            not items
            and reaction is Reaction.DENY
            and any(o.date is not None for o in offers)
            and (
                _OTHER_DETAIL.search(call.turns[i].text) is not None
                or _PLACE_DETAIL.search(call.turns[i].text) is not None
            )
        ):
            # "... at 11 am today for 2 people. Is that correct?" - "No, just for 1 person." (or "Nope, I'd like to
            # have it in Cotati"): the correction is of the party or the place, not of the day and time on the
            # table, which stay for the read-back that follows.
            return False
        for x in items:
            if x.role is Role.CANCEL and x.date is not None:
                self.cancel(x.date.value)
        requests = [x for x in items if x.role is Role.REQUEST]
        dated = [x for x in requests if x.date is not None]
        timed = [x for x in requests if x.date is None]
        taken = _taken(offers, dated, timed)
        takes = reaction is Reaction.CONFIRM or _TAKES.match(call.turns[i].text) is not None
        if takes and may_say(call.turns[i].text, ("but",)) and _BUT_OTHER.search(call.turns[i].text):
            takes = False  # "That's fine but anything else, like baseball games?": still choosing
        if taken is None and takes and len(offers) == 1 and not dated:
            taken = offers[0]
        if span is None and taken is not None and takes:
            m = _TAKES.match(call.turns[i].text)
            span = (m.start(), m.end()) if m is not None else None
        if taken is not None:
            evidence = taken.evidence() + [e for x in requests for e in x.evidence()]
            if span is not None:
                evidence.append(Evidence(i, span[0], span[1]))
            offered = call.turns[taken.turn].text
            self.take(taken, evidence, listed=taken.listed and not _asks_to_confirm(offered))
            if self.state is not None:
                for x in requests:
                    self.state.set_time(x)
            return True
        read_back, state = self.read_back, self.state
        if (
            takes
            and not requests
            and read_back is not None
            and read_back.date is None
            and read_back.time is not None
            and state is not None
            and not state.declined
            and (state.time is None or not _same_time(state.time, read_back.time))
        ):
            # "... at 4:15 pm. Please confirm." - "Confirmed.": the time read back alone is agreed.
            state.set_time(read_back)
            state.time_cap, state.replaced_time = 1.0, None
            if span is not None:
                state.time_evidence.append(Evidence(i, span[0], span[1]))
            return True
        # Only a turn that says a day or a time can change one.
        changes = bool(dated or timed) and (
            reaction is Reaction.DENY or _TIME_CHANGE.search(call.turns[i].text) is not None
        )
        # The one time on the table (the agent's read-back) is what a change of only the day keeps.
        on_table = [o for o in offers if o.time is not None and not o.time.window]
        if read_back is not None:
            on_table.append(read_back)
        table_time = on_table[-1] if len({o.time.value for o in on_table if o.time}) == 1 else None
        for x in dated:
            self.request(x, keeps_time=changes and len(dated) == 1, table_time=table_time)
        days = {o.date.value for o in offers if o.date is not None and not o.date.alternatives}
        if timed and changes and not dated and self.state is None and len(days) == 1:
            # "... at 5:15 pm today?" - "Actually, no, let's make the reservation for 7 pm.": the day read back
            # stays, at the caller's new time, asked for.
            offer = next(o for o in offers if o.date is not None)
            assert offer.date is not None
            slot = _Slot(offer.date.value, (), REQUESTED, [*offer.evidence(), *timed[0].evidence()], "caller")
            slot.set_time(timed[0])
            self.replace(slot)
            return True
        if timed and self.state is not None and not dated:
            if self.state.time is None:
                self.state.set_time(timed[0])
            elif changes and timed[0].time is not None and not _same_time(self.state.time, timed[0].time):
                kept = (self.state.time, self.state.time_evidence) if self.state.time_cap >= 1.0 else None
                self.state.set_time(timed[0])
                self.state.time_cap = REQUESTED
                self.state.replaced_time = kept
        return bool(requests) or reaction is not Reaction.NEUTRAL

    def take(self, offer: _Said, evidence: list[Evidence], *, listed: bool = False) -> None:
        state = self.state
        if offer.ride and state is not None and state.source != "caller" and not state.declined:
            return  # "Great" to the cab arriving in 6 minutes: the visit booked for the 10th stands
        if offer.date is None:
            if state is not None:
                state.set_time(offer)
                state.evidence.extend(evidence)
                state.confidence = max(state.confidence, OFFER_TAKEN)
                if state.source == "caller":
                    state.source = "offer"
                    state.unbooked = listed
            return
        d = offer.date
        confidence = OFFER_TAKEN if not d.alternatives else AMBIGUOUS
        if state is not None and state.same_day(d.value):
            confidence = clamp(max(confidence, state.confidence) + AGREED)
            evidence = [*state.evidence, *evidence]
        slot = _Slot(d.value, d.alternatives, confidence, evidence, "offer")
        slot.unbooked = listed
        slot.set_time(offer)
        if (
            slot.time is None
            and state is not None
            and state.same_day(d.value)
            and not (offer.time and offer.time.window)
        ):
            slot.time, slot.time_evidence = state.time, state.time_evidence
        self.replace(slot)

    def request(self, x: _Said, *, keeps_time: bool = False, table_time: _Said | None = None) -> None:
        """The caller asks for a day. `keeps_time`: the words change the day of what is on the table ("No,
        change it on next Friday"), whose time then stays unless another is said: the arrangement's, or
        else the time of the read-back on the table (`table_time`: "... today at 7:15 pm." - "No, I'd like
        to book for March 14th.")."""
        assert x.date is not None
        d = x.date
        if d.value in self.cancelled:
            return
        state = self.state
        if x.additional and state is not None and not state.same_day(d.value):
            return  # "I also need a hotel for Friday": a second arrangement, not a change of the first
        if state is not None and (state.same_day(d.value) or state.value in d.alternatives):
            state.evidence.extend(x.evidence())
            if state.alternatives and d.value in state.alternatives and not d.alternatives:
                state.settle(d.value)
            if state.source != "caller":
                state.confidence = clamp(state.confidence + AGREED)
            if x.time is not None and state.time is None:
                state.set_time(x)
            return
        slot = _Slot(
            d.value, d.alternatives, REQUESTED if not d.alternatives else AMBIGUOUS, x.evidence(), "caller"
        )
        slot.set_time(x)
        if slot.time is None and state is None and self.asked_at is not None:
            # "I'd like to pick it up at 3:30 pm." ... "9th of March please": the time asked for before any
            # day was named is the first day's.
            slot.set_time(self.asked_at)
        if (
            keeps_time
            and slot.time is None
            and state is not None
            and state.time is not None
            and not state.declined
        ):
            slot.time, slot.time_evidence = state.time, list(state.time_evidence)
        # The read-back's time when the words say none: the time, or its am/pm to the caller's "12:30"; or a
        # read-back of another time after the one kept was said ("... at 5 pm?" after the caller's "at 16:30").
        t = table_time.time if table_time is not None else None
        later = (
            table_time is not None
            and bool(slot.time_evidence)
            and table_time.turn > max(e.turn for e in slot.time_evidence)
        )
        if (
            keeps_time
            and x.time is None
            and t is not None
            and (slot.time is None or _same_time(slot.time, t))
        ):
            slot.set_time(table_time)
        elif keeps_time and x.time is None and t is not None and later and table_time is not None:
            slot.time, slot.time_evidence = None, []
            slot.set_time(table_time)
        self.replace(slot)


def resolve_when(
    call: CallRecord, today: date
) -> tuple[_Slot | None, list[tuple[str, tuple[Evidence, ...]]]]:
    callers = set(caller_turns(call))
    timeline = _Timeline()
    offers: list[_Said] = []
    scheduled_topic = False
    made = False  # the agent has reported the arrangement on the table made
    for i, turn in enumerate(call.turns):
        scheduled_topic = scheduled_topic or (
            may_say(turn.text, _SCHEDULED_TOPIC_NEEDS) and _SCHEDULED_TOPIC.search(turn.text) is not None
        )
        if i in callers and (
            (made and _opens_another(turn.text))
            or (_settled(timeline.state) and _asks_for_calendar(turn.text))
        ):
            # "I have confirmed your tickets." - "Could you find me a car to go there?": what follows arranges
            # a second thing; the call's arrangement is the first one made. A calendar entry asked for records
            # the arrangement the caller just confirmed, even before the agent says it is made ("A table for 2
            # on March 8th." - "Yes, that's right." ... "Can you put that on my calendar? Set it for 11:45.").
            break
        if turn.speaker is Speaker.AGENT:
            items = _sentence_items(call, i, today, scheduled_topic=scheduled_topic)
            pending = offers
            timeline.failed(call, i)  # before this turn's own offers: they are what it proposes instead
            offers = timeline.agent(items, offers, reading_back=_asks_to_confirm(turn.text))
            timeline.offered_to_book = (
                not items
                and may_say(turn.text, _OFFERS_TO_BOOK_NEEDS)
                and _OFFERS_TO_BOOK.search(turn.text) is not None
            )
            for said in items:
                if (
                    said.role is Role.ECHO
                    and said.date is not None
                    and said.date.consistent
                    and echoes_answer(call, i, said.date.start, _asks_when)
                ):
                    timeline.echo_answer(said)
            done = _done_statement(turn.text)  # the turn's words reporting a booking made, read once
            timeline.done_as_asked(i, done, items)
            waiting = timeline.not_buying or (timeline.state is not None and timeline.state.unbooked)
            if waiting and (
                done is not None or any(x.role is Role.BOOK and not x.question and not x.ride for x in items)
            ):
                timeline.not_buying = False
                if timeline.state is not None:
                    timeline.state.unbooked = False  # "Your ticket has been purchased."
            timeline.done_with_offer(i, done, items, pending)
            state = timeline.state
            made = made or (
                state is not None
                and not state.unbooked
                and state.source != "caller"
                and not _asks_to_confirm(turn.text)
                and (done is not None or _reports_purchase(turn.text))
            )
        elif i in callers and timeline.caller(call, i, _sentence_items(call, i, today), offers):
            offers = []
    state = timeline.state
    if timeline.not_buying and state is not None and state.source != "caller":
        state.unbooked = True
    if state is not None and state.unbooked:
        # A report of a booking made since the slot came up, in the words outcome reads ("I've confirmed
        # it, enjoy the concert!"), buys it after all.
        first = min(e.turn for e in state.evidence)
        # A report in a turn about a ride ("I have booked your ride") books the ride, not the showing.
        state.unbooked = not any(
            _reports_purchase(t.text) for t in call.turns[first:] if t.speaker is Speaker.AGENT
        )
    return state, timeline.superseded


# "The returning flight is scheduled for 12:50 pm": a timetable, not a booking made.
_TIMETABLE = re.compile(
    r"\b(flights?|bus(es)?|trains?|departures?|arrivals?)\b[^.?!]*\bscheduled (for|to)\b", re.IGNORECASE
)


def _reports_purchase(text: str) -> bool:
    """Does an agent turn report the listing bought? Not a ride booked ("I have booked your ride"), nor a
    timetable."""
    if not reports_booking(text) or (may_say(text, _RIDE_NEEDS) and _RIDE.search(text)):
        return False
    if "scheduled" not in text.lower():
        return True
    return any(
        reports_booking(text[s:e]) and _TIMETABLE.search(text, s, e) is None for s, e in sentences(text)
    )


_WHEN_QUESTION = re.compile(r"\b(when|what (day|date|time)|which day)\b", re.IGNORECASE)
_PAST_QUESTION = re.compile(r"\b(did|was|were|happen(ed)?|had)\b", re.IGNORECASE)


_CLAUSE_END = re.compile(r",\s*but\b|[.!?;](\s|$)", re.IGNORECASE)


def _done_statement(text: str) -> re.Match[str] | None:
    """The agent's words stating a booking made without its date ("Booking was successful"); None when it
    says none, or says it amid a refusal ("Friday is booked up, sorry")."""
    if not may_say(text, _DONE_NEEDS):
        return None
    m = _DONE.search(text)
    if m is None:
        return None
    # What follows counts up to the end of its clause: "Your booking has been made, but unfortunately they do not
    # have live music." reports a booking; "Friday is booked up, sorry" does not.
    after = text[m.end() :]
    end = _CLAUSE_END.search(after)
    if _DECLINE.search(text[: m.start()] + " " + (after[: end.start()] if end else after)):
        return None
    # "Your ride has been confirmed": a ride is for now, never the day asked for earlier (the movie's).
    if may_say(text, _RIDE_NEEDS) and any(
        s <= m.start() < e and _RIDE.search(text, s, e) for s, e in sentences(text)
    ):
        return None
    return m


# The caller asking for a second thing once the first is made: "I also want to reserve a car", "Could you
# find me a car to go there?", "Now I need a table nearby". An "also" alone is not one ("the start time as
# well as the address"), nor is "another day" (it changes the one arrangement).
_ANOTHER_TASK = re.compile(
    r"\b(find|get|book|reserve|rent|need|want|like|looking for|search for|search|schedule|set up|create)\b[^.?!]{0,24}?"
    r"\b(an?|some|the)\s+"
    r"([\w-]+\s+){0,2}(car|cab|ride|taxi|table|restaurant|hotel|room|house|apartment|flight|bus|tickets?|movie|event|"
    r"appointment|salon|stylist|dentist|doctor)s?\b|"
    # "Can you help me find something fun to do there?": an attraction to visit.
    r"\b(find|search for|looking for|recommend|suggest)\b[^.?!]{0,12}?\b(something|anything|things|places?|"
    r"attractions?|activities)\b[^.?!]{0,12}?\bto (do|see|visit)\b",
    re.IGNORECASE,
)
# ... or to put it on their calendar: "Can you put that on my calendar?", "Add it as an event to my calendar".
_TO_CALENDAR = re.compile(
    # ("ad this to my calendar": typed in haste or misheard)
    r"\b(put|add|ad|set|save|mark|enter|create|schedule|note)\b[^.?!]{0,50}?\b(calend[ae]r|reminder)s?\b",
    re.IGNORECASE,
)
_TO_CALENDAR_NEEDS = ("calend", "reminder")
_ANOTHER_TASK_NEEDS = ("car", "cab", "ride", "taxi", "table", "restaurant",
                       "hotel", "room", "house", "apartment", "flight", "bus", "ticket", "movie", "event", "appointment",
                       "salon", "stylist", "dentist", "doctor", "to do", "to see", "to visit")  # fmt: skip


def _opens_another(text: str) -> bool:
    """Does a caller turn ask for a second thing, a calendar entry included?"""
    return (
        may_say(text, _ANOTHER_TASK_NEEDS) and _ANOTHER_TASK.search(text) is not None
    ) or _asks_for_calendar(text)


def _asks_for_calendar(text: str) -> bool:
    return may_say(text, _TO_CALENDAR_NEEDS) and _TO_CALENDAR.search(text) is not None


def _settled(state: _Slot | None) -> bool:
    """An arrangement the agent stated, or the caller took or confirmed, not one waiting to be bought: not a
    day the caller only asked for, nor one turned down and not made since (both REQUESTED)."""
    return state is not None and not state.unbooked and state.confidence > REQUESTED


def _asks_when(question: str) -> bool:
    """Does the agent's closing sentence ask for a day to arrange? ("When did it happen?" asks of the past.)"""
    return _WHEN_QUESTION.search(question) is not None and _PAST_QUESTION.search(question) is None


def _dated_like(offer: _Said, pending: list[_Said]) -> _Said:
    """An undated offer of the time one dated offer on the table has: that dated offer (else the offer)."""
    if offer.date is not None or offer.time is None:
        return offer
    t = offer.time
    same = [o for o in pending if o.date is not None and o.time is not None and _same_time(o.time, t)]
    return same[0] if len(same) == 1 else offer


def _taken(offers: list[_Said], dated: list[_Said], timed: list[_Said]) -> _Said | None:
    """The offer the caller's words pick out: the same date, or the same time."""
    for x in dated:
        assert x.date is not None
        xd = x.date
        matching = [
            o
            for o in offers
            if o.date is not None and (o.date.value == xd.value or xd.value in o.date.alternatives)
        ]
        if x.time is not None:
            xt = x.time
            by_time = [o for o in matching if o.time is not None and _same_time(o.time, xt)]
            if by_time:
                return by_time[0]
        if len(matching) == 1:
            return matching[0]
    for x in timed:
        assert x.time is not None
        xt = x.time
        matching = [o for o in offers if o.time is not None and _same_time(o.time, xt)]
        if len(matching) == 1:
            return matching[0]
    return None


def _same_time(a: TimeMention, b: TimeMention) -> bool:
    if a.minute != b.minute:
        return False
    if a.half_day_known and b.half_day_known:
        return a.hour == b.hour
    return a.hour % 12 == b.hour % 12


# -- fields -------------------------------------------------------------------------------------------


def extract_when(call: CallRecord, *, default_timezone: str = "UTC") -> dict[str, FieldValue]:
    """`date` (YYYY-MM-DD) and `time` (HH:MM, local 24h) of what the call arranges; absent when nothing is."""
    today = local_today(call, default_timezone)
    if today is None:
        return {}
    slot, superseded = resolve_when(call, today)
    if slot is None:
        return {}
    if slot.unbooked:
        slot.confidence = min(slot.confidence, REQUESTED)
    evidence = tuple(sorted(set(slot.evidence), key=lambda e: (e.turn, e.start, e.end)))
    date_status = status_for("date", slot.confidence)
    reason = None
    if date_status is FieldStatus.NEEDS_REVIEW:
        if slot.alternatives:
            reason = "ambiguous_reading"
        elif slot.source == "caller":
            reason = "requested_not_arranged"
        elif slot.source == "echo":
            reason = ECHO_REASON
        else:
            reason = "low_confidence"
    fields = {
        "date": FieldValue(
            value=slot.value.isoformat(),
            confidence=slot.confidence,
            evidence=evidence,
            extractor=EXTRACTOR,
            status=date_status,
            reason=reason,
            superseded=tuple(superseded),
        )
    }
    t = slot.time
    if (
        t is not None
        and slot.unbooked
        and all(call.turns[e.turn].speaker is Speaker.AGENT for e in slot.time_evidence)
    ):
        t = None  # the showtime of a listing never bought: the caller asked for no time, nothing to review
    if t is not None:
        confidence = min(slot.confidence, slot.time_cap)
        confidence = confidence if t.half_day_known else min(confidence, GUESSED_HALF_DAY)
        time_status = status_for("time", confidence)
        time_reason = None
        if time_status is FieldStatus.NEEDS_REVIEW:
            time_reason = reason or ("half_day_guessed" if not t.half_day_known else "low_confidence")
        fields["time"] = FieldValue(
            value=t.value,
            confidence=confidence,
            evidence=tuple(slot.time_evidence) or evidence,
            extractor=EXTRACTOR,
            status=time_status,
            reason=time_reason,
        )
    return fields


# -- renderers (property tests: render → read gives the date or time back) --------------------------------

_ORDINAL_NAMES = {v: k for k, v in ORDINALS.items()}
_MONTH_NAMES = list(MONTHS)[:12]  # the full names, January first


def render_ordinal(day: int, *, written: bool = False) -> str:
    """3 → "third" ("3rd" written), 21 → "twenty first"."""
    if written:
        suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        return f"{day}{suffix}"
    if day in _ORDINAL_NAMES:
        return _ORDINAL_NAMES[day]
    tens, unit = divmod(day, 10)
    return f"{'twenty' if tens == 2 else 'thirty'} {_ORDINAL_NAMES[unit]}"


def render_spoken_date(value: date, *, style: str = "month_day", written: bool = False) -> str:
    """Say a date: "month_day" (november twenty first), "day_of_month" (the twenty first of november),
    "weekday_day" (saturday the twenty first)."""
    month = _MONTH_NAMES[value.month - 1]
    day = render_ordinal(value.day, written=written)
    if style == "day_of_month":
        return f"the {day} of {month}"
    if style == "weekday_day":
        return f"{WEEKDAYS[value.weekday()]} the {day}"
    return f"{month} {day}"


def render_spoken_time(hour: int, minute: int, *, style: str = "words") -> str:
    """Say a time of day with its am/pm: "words" (two thirty pm), "written" (2:30 PM), "past" (half past two in
    the afternoon, quarter past, twenty past)."""
    half = "am" if hour < 12 else "pm"
    h12 = hour % 12 or 12
    if style == "written":
        return f"{h12}:{minute:02d} {half.upper()}"
    if style == "past" and minute in (15, 30, 20, 10):
        lead = {15: "quarter past", 30: "half past", 20: "twenty past", 10: "ten past"}[minute]
        part = "in the morning" if hour < 12 else "in the afternoon"
        return f"{lead} {render_cardinal(h12)} {part}"
    if minute == 0:
        return f"{render_cardinal(h12)} {half}"
    minutes = f"oh {render_cardinal(minute)}" if minute < 10 else render_cardinal(minute)
    return f"{render_cardinal(h12)} {minutes} {half}"
