"""Spoken-form normalizers shared by the field extractors, and their inverse renderers.

Speech-to-text writes what people say: "six one seven five five five oh one four eight", "priya dot raman
at g mail dot com", "k o w a l c z y k". No library turns those back into values (see nlp-libs.md), so they
are ours. Every finder works on tokens that keep their character span in the original turn text, so a value
always points back at the exact words that produced it. The renderers do the opposite (value → words) and
exist so property tests can check that normalizing a rendering gives the value back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

# -- tokens -------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string: long vocabularies stay readable."""
    return frozenset(words.split())


class Token(NamedTuple):
    """A word with its span [start, end) in the turn text.

    `text` is lower-cased with apostrophes dropped: ASR writes "its"/"im" where agents write "It's"/"I'm",
    and one spelling lets every rule match both. (A named tuple: a five-minute call has ~800 of them.)
    """

    text: str
    start: int
    end: int


# -- sharing work within one extraction ------------------------------------------------------------

# Every field family reads every turn. Inside `shared_analysis()` each finder runs once per turn text; the
# memo lives only for that block, so no caller's words stay in memory after their call is extracted (a
# process-wide cache would keep them).
_MEMO: ContextVar[dict[tuple[str, str, int], Any] | None] = ContextVar("spoken_memo", default=None)
# The per-text finders (tokens, words, digits, ...) are asked ~25 times per turn: each keeps its own table,
# keyed by the text alone, so a hit is one dict lookup (no key tuple, no KeyError on a miss).
_TABLES: list[ContextVar[dict[str, Any] | None]] = []
_MISSING: Any = object()
_T = TypeVar("_T")


@contextmanager
def shared_analysis() -> Iterator[None]:
    token = _MEMO.set({})
    tables = [(table, table.set({})) for table in _TABLES]
    try:
        yield
    finally:
        for table, table_token in reversed(tables):
            table.reset(table_token)
        _MEMO.reset(token)


def memo(kind: str, text: str, arg: int, compute: Callable[[], _T]) -> _T:
    """`compute()` once per (kind, text, arg) inside `shared_analysis()`; every time outside it."""
    return _memo(kind, text, arg, compute)


def _memo(kind: str, text: str, arg: int, compute: Callable[[], _T]) -> _T:
    memo = _MEMO.get()
    if memo is None:
        return compute()
    key = (kind, text, arg)
    result: _T = memo.get(key, _MISSING)
    if result is _MISSING:
        result = memo[key] = compute()
    return result


def per_text(kind: str, compute: Callable[[str], _T]) -> Callable[[str], _T]:
    """A finder of one argument, memoized per text inside `shared_analysis()` (the hot path: every turn
    is read by every field family)."""
    var: ContextVar[dict[str, Any] | None] = ContextVar(f"spoken_memo_{kind}", default=None)
    _TABLES.append(var)

    def finder(text: str) -> _T:
        table = var.get()
        if table is None:
            return compute(text)
        result: _T = table.get(text, _MISSING)
        if result is _MISSING:
            result = table[text] = compute(text)
        return result

    finder.__doc__ = compute.__doc__
    return finder


def _words(text: str) -> frozenset[str]:
    """The set of token texts of a turn: a cheap test of whether a finder has anything to look at."""
    return frozenset(map(_token_text, tokenize(text)))  # itemgetter: no Python frame per token


_token_text = itemgetter(0)  # Token.text


# `Token(...)` runs the named tuple's Python-level __new__; making the tuple directly skips that frame, and a
# five-minute call has ~800 tokens.
_new_token = tuple.__new__


def _tokenize(text: str) -> tuple[Token, ...]:
    """The words of a text, lower-cased, with their spans."""
    lower = text.lower()
    if len(lower) != len(text):  # a few characters lower-case to two ("İ"): keep spans exact
        return tuple(
            [_new_token(Token, (_clean(m[0].lower()), m.start(), m.end())) for m in _TOKEN_RE.finditer(text)]
        )
    if "'" not in lower and "’" not in lower:
        return tuple([_new_token(Token, (m[0], m.start(), m.end())) for m in _TOKEN_RE.finditer(lower)])
    # `str.replace` inline rather than `_clean`: no Python call per token of the one turn in five with an apostrophe
    return tuple(
        [
            _new_token(Token, (m[0].replace("'", "").replace("’", ""), m.start(), m.end()))
            for m in _TOKEN_RE.finditer(lower)
        ]
    )


def _clean(word: str) -> str:
    if "'" in word or "’" in word:
        return word.replace("'", "").replace("’", "")
    return word


tokenize = per_text("tokens", _tokenize)
words = per_text("words", _words)


def may_say(text: str, needles: tuple[str, ...]) -> bool:
    """False when an ASCII `text` holds none of `needles` (lower case) in any case: a case-insensitive pattern
    each of whose phrases contains one of them cannot match it, and a substring test costs far less than the
    pattern's scan. Text with other characters always may (case-insensitive matching folds a few non-ASCII
    letters, such as the Kelvin sign, to ASCII ones)."""
    return not text.isascii() or holds_any(text.lower(), needles)


def holds_any(text: str, needles: tuple[str, ...]) -> bool:
    """Does `text` hold one of `needles` as written?"""
    for needle in needles:  # noqa: SIM110 - a plain loop: `any(<generator>)` costs more than its tests
        if needle in text:
            return True
    return False


# Between two words of one spoken number: spaces, dashes, commas, brackets, slashes, a dot ("617.555.0148").
_NUMBER_GAP = re.compile(r"[\s\-–,()/.]*")
# ...but a sentence end ("... at 2:30. Call 555 ...") separates numbers even though it is only a dot.
_SENTENCE_END = re.compile(r"[.!?]\s")
_LETTER_GAP = re.compile(r"[\s\-–.,]*")


def joined(text: str, left: Token, right: Token, *, letters: bool = False) -> bool:
    """True when nothing but separators stands between two tokens (they can belong to one value)."""
    gap = text[left.end : right.start]
    if gap == " ":  # by far the most common gap, and a separator for both kinds
        return True
    if letters:
        return _LETTER_GAP.fullmatch(gap) is not None
    return _NUMBER_GAP.fullmatch(gap) is not None and _SENTENCE_END.search(gap) is None


# -- digits -------------------------------------------------------------------------------------------

UNITS: dict[str, str] = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
TEENS: dict[str, str] = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
}
TENS: dict[str, str] = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}
REPEATS: dict[str, int] = {"double": 2, "triple": 3}
# "oh" and "o" are letters or interjections as often as they are zero: they only count inside other digits.
WEAK_ZEROS = frozenset({"oh", "o"})
NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | frozenset(REPEATS) | {"hundred"}
_UNIT_NAMES = {digit: word for word, digit in UNITS.items() if word not in WEAK_ZEROS}
_TEEN_NAMES = {digits: word for word, digits in TEENS.items()}
_TENS_NAMES = {digit: word for word, digit in TENS.items()}


def _is_numeral(word: str) -> bool:
    return word.isascii() and word.isdigit()


def number_piece(text: str, tokens: Sequence[Token], i: int) -> tuple[str, int] | None:
    """The digits spoken by the number words starting at token i, and the index after them.

    Digit-by-digit reading is the norm for phones and emails, with the forms people use to shorten it:
    "double five" → 55, "triple five" → 555, "twenty three" → 23, "nineteen" → 19, "eight hundred" → 800.
    """
    word = tokens[i].text
    if _is_numeral(word):
        return word, i + 1
    if word not in NUMBER_WORDS:
        return None
    nxt = tokens[i + 1].text if i + 1 < len(tokens) and joined(text, tokens[i], tokens[i + 1]) else None
    if word in REPEATS:
        if nxt is None:
            return None
        digit = UNITS.get(nxt) or (nxt if _is_numeral(nxt) and len(nxt) == 1 else None)
        return (digit * REPEATS[word], i + 2) if digit is not None else None
    if word in TEENS:
        return TEENS[word], i + 1
    if word in TENS:
        if nxt is not None and nxt in UNITS and UNITS[nxt] != "0":
            return TENS[word] + UNITS[nxt], i + 2
        return TENS[word] + "0", i + 1
    if word in UNITS:
        if nxt == "hundred":
            return UNITS[word] + "00", i + 2
        return UNITS[word], i + 1
    return None


@dataclass(frozen=True, slots=True)
class DigitRun:
    """A maximal run of spoken or written digits, e.g. "plus four four two oh seven ..." → 442079460123."""

    digits: str
    start: int
    end: int
    first_token: int
    end_token: int  # exclusive
    plus: bool  # preceded by "plus" or "+": an international number
    words: tuple[str, ...]


_DIGIT = re.compile(r"\d")


def _holds_number(text: str) -> bool:
    return _DIGIT.search(text) is not None or not NUMBER_WORDS.isdisjoint(words(text))


_has_number = per_text("has_number", _holds_number)  # asked by both the digit and the number finder


def may_hold_digit(text: str) -> bool:
    """False when no word of an ASCII `text` is or holds a digit: no numeral, digit word, "oh" or "o". Other
    text always may: `_DIGIT` misses some characters `isdigit()` accepts ("²"), in ASCII it misses none."""
    return not text.isascii() or _has_number(text)


def _find_digit_runs(text: str) -> tuple[DigitRun, ...]:
    """The runs of spoken or written digits in a turn (`find_digit_runs`, memoized per text at the end)."""
    if not _has_number(text):
        return ()
    tokens = tokenize(text)
    runs: list[DigitRun] = []
    i = 0
    while i < len(tokens):
        word = tokens[i].text
        if (word not in NUMBER_WORDS and not word[:1].isdigit()) or number_piece(text, tokens, i) is None:
            i += 1
            continue
        first, digits, j = i, "", i
        while j < len(tokens):
            piece = number_piece(text, tokens, j)
            if piece is None:
                break
            digits += piece[0]
            j = piece[1]
            if j >= len(tokens) or not joined(text, tokens[j - 1], tokens[j]):
                break
        words = tuple(map(_token_text, tokens[first:j]))
        i = j
        if WEAK_ZEROS.issuperset(words):
            continue
        start = tokens[first].start
        plus = False
        if first > 0 and tokens[first - 1].text == "plus" and joined(text, tokens[first - 1], tokens[first]):
            plus, start = True, tokens[first - 1].start
        elif text[:start].rstrip().endswith("+"):
            plus, start = True, text.rindex("+", 0, start)
        runs.append(DigitRun(digits, start, tokens[j - 1].end, first, j, plus, words))
    return tuple(runs)


def render_spoken_digits(
    digits: str,
    *,
    zero: str = "oh",
    repeats: bool = False,
    pairs: bool = False,
    groups: Sequence[int] = (),
    separator: str = " ",
) -> str:
    """Say a digit string the way callers do: "617 555 0111" → "six one seven triple five oh one double one".

    `pairs` reads some digit pairs as numbers ("twenty three", "nineteen"), but never a pair ending in 0 as
    a tens word ("twenty" followed by "five" would be heard as 25). `groups` splits the digits (3, 3, 4).
    """
    chunks: list[str] = []
    rest = digits
    for size in groups:
        if rest:
            chunks.append(rest[:size])
            rest = rest[size:]
    if rest:
        chunks.append(rest)
    return separator.join(
        _render_group(chunk, zero=zero, repeats=repeats, pairs=pairs) for chunk in chunks if chunk
    )


def _render_group(group: str, *, zero: str, repeats: bool, pairs: bool) -> str:
    words: list[str] = []
    i = 0
    while i < len(group):
        digit = group[i]
        run = len(group[i:]) - len(group[i:].lstrip(digit))
        if repeats and run >= 2:
            size = 3 if run >= 3 else 2
            words += ["triple" if size == 3 else "double", zero if digit == "0" else _UNIT_NAMES[digit]]
            i += size
        elif pairs and i + 1 < len(group) and digit == "1":
            words.append(_TEEN_NAMES[group[i : i + 2]])
            i += 2
        elif pairs and i + 1 < len(group) and digit >= "2" and group[i + 1] != "0":
            words += [_TENS_NAMES[digit], _UNIT_NAMES[group[i + 1]]]
            i += 2
        else:
            words.append(zero if digit == "0" else _UNIT_NAMES[digit])
            i += 1
    return " ".join(words)


# -- spelled letters ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpelledRun:
    """Letters spelled one by one ("r a m a n", "S-M-Y-T-H", "o double n") joined into a word."""

    letters: str
    start: int
    end: int
    first_token: int
    end_token: int  # exclusive


def _letter(word: str) -> bool:
    return len(word) == 1 and word.isalpha()


# Letter names as speech-to-text sometimes writes them ("ess", "aitch"). Only those that are not everyday
# words: "you", "are", "why", "see", "oh", "eye" are far more often words than the letters u, r, y, c, o, i.
LETTER_NAMES: dict[str, str] = {
    "aitch": "h",
    "ess": "s",
    "zee": "z",
    "zed": "z",
    "dee": "d",
    "gee": "g",
    "bee": "b",
    "cee": "c",
    "pee": "p",
    "tee": "t",
    "vee": "v",
    "wye": "y",
    "el": "l",
    "em": "m",
    "en": "n",
    "ef": "f",
    "eff": "f",
    "cue": "q",
    "ex": "x",
    "ar": "r",
}
# A spelling's hint: a lone letter, separators, then another lone letter, "as in" or a letter name; or
# "double"/"triple". The letter pattern starts at the separator and looks back at the letter: a pattern that
# starts with a character class is scanned for it in C, one that starts with a look-behind tries every
# position (the same matches as `(?<!L)L(?!L)[\s.,-]+...`, about twice as fast).
_LETTER = r"[^\W\d_]"
_SPELLED_LETTER = re.compile(
    rf"[\s.,-](?<={_LETTER}[\s.,-])(?<!{_LETTER}{_LETTER}[\s.,-])[\s.,-]*"
    rf"(?:{_LETTER}(?!{_LETTER})|as in|" + "|".join(LETTER_NAMES) + ")",
    re.IGNORECASE,
)
_REPEAT_WORD = re.compile(r"\b(double|triple)\b", re.IGNORECASE)
_REPEAT_NEEDS = ("double", "triple")
# "double u" is the letter w, not "uu" (no name spells a double u).
_W_WORDS = frozenset({"u", "you"})


def find_spelled_runs(text: str, *, min_letters: int = 3) -> tuple[SpelledRun, ...]:
    # Every run holds two single letters side by side (or "double n", a letter name): most turns hold none.
    if not _hints_spelling(text):
        return ()
    return _memo("spelled", text, min_letters, lambda: _find_spelled_runs(text, min_letters))


def _holds_spelling_hint(text: str) -> bool:
    return _SPELLED_LETTER.search(text) is not None or (
        may_say(text, _REPEAT_NEEDS) and _REPEAT_WORD.search(text) is not None
    )


_hints_spelling = per_text("spelling_hint", _holds_spelling_hint)  # asked once per text, whatever min_letters


def _spelled_item(text: str, tokens: Sequence[Token], j: int) -> tuple[str, int, bool] | None:
    """The letters spelled from token j, the index after them, and whether a real one-letter token was read.

    Forms: a letter ("s"), "double n", "double u" (w), "d as in david", and letter names ("ess", "aitch").
    """
    word = tokens[j].text
    nxt = (
        tokens[j + 1]
        if j + 1 < len(tokens) and joined(text, tokens[j], tokens[j + 1], letters=True)
        else None
    )
    if _letter(word):
        end = j + 1
        # "d as in david", "g as in george": the example word only confirms the letter.
        if (
            end + 2 < len(tokens)
            and tokens[end].text == "as"
            and tokens[end + 1].text == "in"
            and tokens[end + 2].text.startswith(word)
        ):
            end += 3
        return word, end, True
    if word == "double" and nxt is not None and nxt.text in _W_WORDS:
        return "w", j + 2, True
    if word in REPEATS and nxt is not None and (_letter(nxt.text) or nxt.text in LETTER_NAMES):
        letter = LETTER_NAMES.get(nxt.text, nxt.text)
        return letter * REPEATS[word], j + 2, _letter(nxt.text)
    if word in LETTER_NAMES:
        return LETTER_NAMES[word], j + 1, False
    return None


def _find_spelled_runs(text: str, min_letters: int) -> tuple[SpelledRun, ...]:
    tokens = tokenize(text)
    runs: list[SpelledRun] = []
    i = 0
    while i < len(tokens):
        letters, j, real = "", i, 0
        while j < len(tokens):
            if j > i and not joined(text, tokens[j - 1], tokens[j], letters=True):
                break
            item = _spelled_item(text, tokens, j)
            if item is None:
                break
            letters += item[0]
            real += item[2]
            j = item[1]
        # Letter names count only among real letters: "el" or "em" alone are more likely words or fillers.
        if len(letters) >= min_letters and real >= 2:
            runs.append(SpelledRun(letters, tokens[i].start, tokens[j - 1].end, i, j))
            i = j
        else:
            i += 1
    return tuple(runs)


# -- emails -------------------------------------------------------------------------------------------

DOT_WORDS = frozenset({"dot", "period", "point"})
SEPARATOR_WORDS: dict[str, str] = {
    "dot": ".",
    "period": ".",
    "point": ".",
    "underscore": "_",
    "dash": "-",
    "hyphen": "-",
}
TLDS = frozenset(
    {
        "com",
        "net",
        "org",
        "edu",
        "gov",
        "io",
        "co",
        "us",
        "uk",
        "ca",
        "info",
        "biz",
        "me",
        "ai",
        "app",
        "dev",
        "tv",
        "de",
        "fr",
        "au",
        "nz",
        "ie",
        "mx",
        "es",
        "nl",
        "ch",
        "se",
        "jp",
        "br",
    }
)
# Webmail providers people name without the ".com" ("it's jane at gmail").
PROVIDERS: dict[str, str] = {
    "gmail": "gmail.com",
    "yahoo": "yahoo.com",
    "hotmail": "hotmail.com",
    "outlook": "outlook.com",
    "icloud": "icloud.com",
    "aol": "aol.com",
    "protonmail": "protonmail.com",
}
# Every start of a webmail name ("g" of "g mail", "out" of "out look"): what may follow "at" in one.
_PROVIDER_PREFIXES = frozenset(name[:n] for name in PROVIDERS for n in range(1, len(name) + 1))
_WRITTEN_DOT = re.compile(r"\.[^\s.]")  # a dot written between two words, as in "acme.com"
# Words that end a spoken local part when reading leftwards from "at": the lead-in, not the address.
LOCAL_STOP = word_set("""its is it was my me email emails mail address sure yeah yes yep yup ok okay so and um uh er ah
    the a an that thats this to send use would be should just hi hey hello please actually sorry wait no
    not well like you can reach try also or but then thanks thank alright right correct personal work
    business new old at on in of for with from by best good fine i im ill id ive we our your his her
    their call text contact let lets say write spell spelled spelling""")
# Words that end a spoken domain. Single letters never do: "at a o l dot com" spells aol.
DOMAIN_STOP = word_set("and or is its um uh so my your please thanks thank but the an")

_WRITTEN_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_VALID_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"\.[a-z]{2,}"
)


def is_valid_email(value: str) -> bool:
    return _VALID_EMAIL.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class EmailReading:
    value: str
    start: int  # the reading's own span start (readings differ only in where the local part begins)


@dataclass(frozen=True, slots=True)
class SpokenEmail:
    value: str  # preferred reading: every word before "at" back to the lead-in
    start: int
    end: int
    readings: tuple[EmailReading, ...]  # all plausible readings, preferred first
    glued: bool  # the local part joins whole words with nothing said between them: the boundary is a guess
    written: bool  # found as text (x@y.z), not as words
    tld_spoken: bool  # False when "at gmail" was completed to gmail.com
    # A dash with spaces around it inside the domain ("acme – corp"): a hyphen or a pause? The preferred
    # reading keeps the hyphen; the readings without it are alternatives, so the address waits for review.
    dash_guessed: bool = False


def _find_emails(text: str) -> tuple[SpokenEmail, ...]:
    """Written emails, then spoken ones ("jane dot doe at gmail dot com") that do not overlap them
    (`find_emails`, memoized per text at the end)."""
    said = words(text)
    if "@" not in text and "at" not in said:
        return ()
    found: list[SpokenEmail] = []
    for m in _WRITTEN_EMAIL.finditer(text):
        value = m.group().rstrip(".").lower()
        if is_valid_email(value):
            end = m.start() + len(m.group().rstrip("."))
            found.append(
                SpokenEmail(value, m.start(), end, (EmailReading(value, m.start()),), False, True, True)
            )
    if "at" not in said:
        return tuple(found)
    # A spoken domain ends on a TLD after a dot (said, or written between words: "acme.com") or is a
    # webmail name ("at gmail"): without a dot, only "at" followed by the start of such a name can begin one.
    dotted = not DOT_WORDS.isdisjoint(said) or _WRITTEN_DOT.search(text) is not None
    tokens = tokenize(text)
    for k, token in enumerate(tokens):
        if token.text != "at" or any(e.start <= token.start < e.end for e in found):
            continue
        if not dotted and (k + 1 >= len(tokens) or tokens[k + 1].text not in _PROVIDER_PREFIXES):
            continue
        spoken = _spoken_email_at(text, tokens, k)
        if spoken is not None:
            found.append(spoken)
    return tuple(sorted(found, key=lambda e: e.start))


def _spoken_email_at(text: str, tokens: Sequence[Token], at: int) -> SpokenEmail | None:
    domain = _spoken_domain(text, tokens, at)
    if domain is None:
        return None
    domain_value, domain_end, tld_spoken, undashed = domain
    pieces = _local_pieces(text, tokens, at)
    if not pieces:
        return None
    starts = _reading_starts(pieces)
    readings = []
    for domain_reading in (domain_value, *([undashed] if undashed else [])):
        for p in starts:
            local = "".join(piece for piece, _, _ in pieces[p:])
            value = f"{local}@{domain_reading}"
            if is_valid_email(value):
                readings.append(EmailReading(value, tokens[pieces[p][2]].start))
    if not readings:
        return None
    glued = len(starts) > 1
    return SpokenEmail(
        readings[0].value,
        readings[0].start,
        domain_end,
        tuple(readings),
        glued,
        False,
        tld_spoken,
        dash_guessed=undashed is not None,
    )


# A separator written into the words of a spoken address ("acme-corp", "jane.doe", "jo_smith"): part of it.
_WRITTEN_SEPARATORS = {"-": "-", "\u2010": "-", "\u2011": "-", ".": ".", "_": "_"}
_SPACED_DASH = re.compile(r"\s+[-\u2010\u2011\u2013]\s+|\u2013")


def written_separator(text: str, left: Token, right: Token) -> str | None:
    """The separator written between two words with no space ("acme-corp" → "-"), else None."""
    return _WRITTEN_SEPARATORS.get(text[left.end : right.start])


_MAX_DOMAIN_TOKENS = 40  # a fully spelled domain ("v e r i d i a n h e a l t h dot org") is long


def _spoken_domain(text: str, tokens: Sequence[Token], at: int) -> tuple[str, int, bool, str | None] | None:
    """Read "g mail dot com" / "tallgrass freight dot com" / "acme dot co dot uk" after "at".

    Returns (domain, end, TLD said, the domain without guessed hyphens or None). A hyphen said ("acme dash
    corp") or written ("acme-corp") is kept: dropping it names another domain. A dot written between the
    words ("acme.co.uk") is a dot.
    """
    labels: list[str] = []
    label = ""
    # The same domain with every hyphen that was only a spaced dash left out (None while there is none).
    plain: list[str] | None = None
    plain_label = ""
    i = at + 1
    while i < len(tokens) and i - at <= _MAX_DOMAIN_TOKENS:
        if i > at + 1 and not joined(text, tokens[i - 1], tokens[i]):
            break
        word = tokens[i].text
        if i > at + 1 and label and word not in DOT_WORDS | {"dash", "hyphen"}:
            written = written_separator(text, tokens[i - 1], tokens[i])
            if written == "-":
                label += "-"
                plain_label += "-"
            elif written == ".":
                labels.append(label)
                label = ""
                if plain is not None:
                    plain.append(plain_label)
                plain_label = ""
                if word in TLDS and not _more_tld(text, tokens, i):
                    labels.append(word)
                    return ".".join(labels), tokens[i].end, True, _plain(plain, word)
            elif _SPACED_DASH.fullmatch(text[tokens[i - 1].end : tokens[i].start]):
                if plain is None:
                    plain = list(labels)
                label += "-"
        if word in DOT_WORDS:
            if not label or i + 1 >= len(tokens) or not joined(text, tokens[i], tokens[i + 1]):
                break
            labels.append(label)
            label = ""
            if plain is not None:
                plain.append(plain_label)
            plain_label = ""
            nxt = tokens[i + 1].text
            if nxt in TLDS and not _more_tld(text, tokens, i + 1):
                labels.append(nxt)
                return ".".join(labels), tokens[i + 1].end, True, _plain(plain, nxt)
            i += 1
            continue
        if word in ("dash", "hyphen") and label:
            label += "-"
            plain_label += "-"
        elif word.isalnum() and word.isascii() and word not in DOMAIN_STOP and word != "at":
            label += word
            plain_label += word
        else:
            break
        i += 1
    # "at gmail" with no ".com": complete only the well-known webmail names, and only when nothing follows
    # that could have been the rest of the domain.
    first = tokens[at + 1 : at + 4]
    for size in (1, 2, 3):
        if len(first) < size:
            break
        name = "".join(t.text for t in first[:size])
        if name in PROVIDERS:
            last = first[size - 1]
            idx = at + size
            if idx + 1 < len(tokens) and tokens[idx + 1].text in DOT_WORDS:
                return None
            return PROVIDERS[name], last.end, False, None
    return None


def _plain(plain: list[str] | None, tld: str) -> str | None:
    return None if plain is None else ".".join([*plain, tld])


def _more_tld(text: str, tokens: Sequence[Token], i: int) -> bool:
    """True for "co" in "co dot uk" / "co.uk": a TLD word followed by another dot and TLD is a second-level
    label."""
    if (
        i + 1 < len(tokens)
        and tokens[i + 1].text in TLDS
        and written_separator(text, tokens[i], tokens[i + 1]) == "."
    ):
        return True
    return (
        i + 2 < len(tokens)
        and tokens[i + 1].text in DOT_WORDS
        and tokens[i + 2].text in TLDS
        and joined(text, tokens[i], tokens[i + 1])
        and joined(text, tokens[i + 1], tokens[i + 2])
    )


def _local_pieces(text: str, tokens: Sequence[Token], at: int) -> list[tuple[str, str, int]]:
    """The local part before "at" as (text, kind, token index) pieces; kind is sep/num/letter/word."""
    first = at
    while first > 0 and at - first < 30:
        tok, right = tokens[first - 1], tokens[first]
        glued_by = written_separator(text, tok, right)
        if not tok.text.isascii() or not (joined(text, tok, right) or glued_by == "_"):
            break
        if glued_by is None and _stops_local(tok.text, right.text):
            break
        first -= 1
    pieces: list[tuple[str, str, int]] = []
    i = first
    while i < at:
        word = tokens[i].text
        written = written_separator(text, tokens[i - 1], tokens[i]) if i > first else None
        if written is not None and pieces and pieces[-1][1] != "sep" and word not in SEPARATOR_WORDS:
            pieces.append((written, "sep", i))  # "jane.doe", "mary-jane", "jo_smith" as written
        if word in SEPARATOR_WORDS:
            pieces.append((SEPARATOR_WORDS[word], "sep", i))
            i += 1
            continue
        piece = _email_number(text, tokens, i, at)
        if piece is not None:
            pieces.append((piece[0], "num", i))
            i = piece[1]
            continue
        pieces.append((word, "letter" if len(word) == 1 else "word", i))
        i += 1
    while pieces and pieces[0][1] == "sep":
        pieces.pop(0)
    if not pieces or pieces[-1][1] == "sep":
        return []
    return pieces


def _stops_local(word: str, right: str) -> bool:
    """A lead-in word ends the local part; a spelled letter does not, even "a" or "i" ("m a r y"), unless
    it stands before a whole word the way the article or pronoun would ("a walsh")."""
    if _letter(word) and word not in ("a", "i"):
        return False
    if word in ("a", "i"):
        return len(right) > 1 and right != "at" and right not in SEPARATOR_WORDS and right not in NUMBER_WORDS
    return word in LOCAL_STOP


def _email_number(text: str, tokens: Sequence[Token], i: int, stop: int) -> tuple[str, int] | None:
    """Number words inside an email: "eighty eight" → 88. A lone "o" is a letter, "oh" a digit only among digits."""
    word = tokens[i].text
    if word == "o":
        return None
    piece = number_piece(text, tokens[:stop], i)
    if piece is None:
        return None
    if word == "oh":
        neighbours = [tokens[j].text for j in (i - 1, i + 1) if 0 <= j < stop]
        if not any(n in NUMBER_WORDS - WEAK_ZEROS or _is_numeral(n) for n in neighbours):
            return None
    return piece


def _reading_starts(pieces: Sequence[tuple[str, str, int]]) -> list[int]:
    """Where the local part may begin. Two whole words said with nothing between them ("wei chen",
    "brendan walsh b walsh") might be one address or a name followed by one: every start inside the first
    segment is a reading. Letters and digits glue to a word without doubt ("j smyth eighty eight")."""
    segment_end = next((i for i, p in enumerate(pieces) if p[1] == "sep"), len(pieces))
    words = sum(1 for p in pieces[:segment_end] if p[1] == "word")
    if words < 2:
        return [0]
    return list(range(segment_end))


# Words the email normalizer reads as something else; the renderer spells them instead of saying them.
_RESERVED = (
    LOCAL_STOP | DOMAIN_STOP | NUMBER_WORDS | frozenset(SEPARATOR_WORDS) | TLDS | {"at", "plus"}
) - frozenset("abcdefghijklmnopqrstuvwxyz")
_CHUNK = re.compile(r"[a-z]+|[0-9]+")


def render_spoken_email(
    email: str, *, spell: bool = False, split_provider: bool = False, pairs: bool = False
) -> str:
    """Say an email the way callers do: "jane.doe88@gmail.com" → "jane dot doe eight eight at gmail dot com".

    `spell` spells every letter group ("j a n e"); `split_provider` says webmail names the way ASR splits
    them ("g mail"). Words the normalizer would read as something else are always spelled.
    """
    local, domain = email.lower().split("@", 1)
    words: list[str] = []
    for part in re.split(r"([._-])", local):
        if part in (".", "_", "-"):
            words.append({".": "dot", "_": "underscore", "-": "dash"}[part])
            continue
        for chunk in _CHUNK.findall(part):
            if chunk.isdigit():
                words.append(render_spoken_digits(chunk, zero="zero", pairs=pairs))
            elif spell or chunk in _RESERVED:
                words.append(" ".join(chunk))
            else:
                words.append(chunk)
    words.append("at")
    labels = domain.split(".")
    for n, label in enumerate(labels):
        if n:
            words.append("dot")
        if n == len(labels) - 1:
            words.append(label)
            continue
        for m, part in enumerate(label.split("-")):
            if m:
                words.append("dash")
            if split_provider and part in PROVIDER_SPLITS:
                words.append(PROVIDER_SPLITS[part])
            elif part in _RESERVED or (spell and part.isalpha()):
                words.append(" ".join(part))
            else:
                words.append(part)
    return " ".join(words)


# How ASR tends to split webmail names; the domain reader rejoins them because it joins all label words.
PROVIDER_SPLITS: dict[str, str] = {
    "gmail": "g mail",
    "hotmail": "hot mail",
    "outlook": "out look",
    "icloud": "i cloud",
    "aol": "a o l",
}


# -- cardinal numbers ---------------------------------------------------------------------------------

_SCALES: dict[str, float] = {
    "hundred": 100.0,
    "thousand": 1e3,
    "k": 1e3,
    "grand": 1e3,
    "million": 1e6,
    "mil": 1e6,  # "two point five mil"
    "mill": 1e6,
    "billion": 1e9,
}
# "grand" is a name, not a thousand, before these (a street, a car, a place): "1200 Grand Avenue",
# "a twenty nineteen grand caravan", "four hundred grand street".
_GRAND_NAMES = word_set("""avenue ave street st boulevard blvd road rd drive dr lane ln way place pl court ct
    parkway pkwy circle highway hwy caravan cherokee marquis prix am vitara national canyon rapids island
    central hotel hyatt theater theatre hall junction prairie forks haven ledge lake river ridge view""")
_SMALL: dict[str, int] = {
    **{w: int(d) for w, d in UNITS.items() if w not in WEAK_ZEROS},
    **{w: int(d) for w, d in TEENS.items()},
    **{w: int(d) * 10 for w, d in TENS.items()},
}
SMALL_NUMBERS = _SMALL  # "twelve" → 12, "forty" → 40: the words below a hundred
_DIGIT_WORDS = frozenset({w for w, n in _SMALL.items() if n < 10} | WEAK_ZEROS | {"zero"})  # one digit each
CURRENCY_WORDS: dict[str, str] = {
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "buck": "USD",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    "euro": "EUR",
    "euros": "EUR",
}
CURRENCY_SYMBOLS: dict[str, str] = {"$": "USD", "£": "GBP", "€": "EUR"}
# A written number: "1,840", "249.99", "50", "50k", "$350" (the symbol is read by the caller of this regex).
_WRITTEN_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(k|K)?(?![\w])")


@dataclass(frozen=True, slots=True)
class SpokenNumber:
    """A number said in words, digits or both: "four hundred and twelve dollars", "fifty k", "1,840".

    `readings` holds every plausible value, preferred first. Speech shortens numbers in ways only context
    settles: "six fifty" is 650, or 650,000 for a house, or 6.50 for a coffee; "twenty eight fifty" is 2,850
    or 28.50. Such a number is `shorthand`, and whoever uses it must not trust its preferred reading alone.
    """

    value: float
    start: int
    end: int
    first_token: int
    end_token: int  # exclusive
    readings: tuple[float, ...]
    shorthand: bool
    scale: float  # the multiplier the number ends with (1000 for "thousand", "k", "grand"), else 1
    digits: bool  # said digit by digit ("one five zero zero zero")
    currency: str | None  # from an adjacent currency word or symbol ("dollars", "quid", "$")

    @property
    def bare(self) -> bool:
        """Said with no scale word and no currency: "twelve" after "ten thousand", "eight" in "eight and ten grand"."""
        return self.scale == 1 and self.currency is None and not self.shorthand


# With no digit and no number word in a turn, a number can only start at "a thousand" / "a million" ("a
# hundred" has a number word): nearly every turn has an "a", few have these.
_A_SCALES = frozenset({"thousand", "million"})


def _find_numbers(text: str) -> tuple[SpokenNumber, ...]:
    """Cardinal numbers in a turn, each with its span; digit runs of seven or more (phone numbers) are left out
    (`find_numbers`, memoized per text at the end)."""
    if not _has_number(text):
        said = words(text)
        if "a" not in said or _A_SCALES.isdisjoint(said):
            return ()
    tokens = tokenize(text)
    out: list[SpokenNumber] = []
    i = 0
    while i < len(tokens):
        word = tokens[i].text
        if word not in _SMALL and word != "a" and not word[:1].isdigit():
            i += 1
            continue
        parsed, nxt = _parse_number(text, tokens, i)
        if parsed is not None:
            out.append(parsed)
        i = max(nxt, i + 1)
    return tuple(out)


# A match starts with a decimal digit, and every decimal digit is `isdigit()`: asked first, that spares most
# words the regex.
_WRITTEN_START = re.compile(r"\d+k?$")
_CARDINAL_JOINERS = frozenset({"and", "a", "point"})
# After "forty two pounds": "fifty" is the pence only when nothing that could be counted follows it.
_AFTER_SUBUNIT = word_set("to for a an per each and on at in please thanks now off so that this its")


def _is_number_start(text: str, tokens: Sequence[Token], i: int) -> bool:
    word = tokens[i].text
    if word in _SMALL or (word[:1].isdigit() and _WRITTEN_START.match(word)):
        return True
    if word == "a" and i + 1 < len(tokens) and tokens[i + 1].text in ("hundred", "thousand", "million"):
        return joined(text, tokens[i], tokens[i + 1])
    return False


def _collect(text: str, tokens: Sequence[Token], i: int) -> tuple[list[str], list[int], float | None]:
    """The words of one number from token i (number words, numerals, scale words, inner "and"/"a"/"point"),
    the token index after each word, and the value of a written numeral among them."""
    words: list[str] = []
    ends: list[int] = []
    written: float | None = None
    j = i
    while j < len(tokens):
        if j > i and not joined(text, tokens[j - 1], tokens[j]):
            break
        word = tokens[j].text
        if word[:1].isdigit() and _WRITTEN_START.match(word):
            if words and (written is not None or words[-1] not in _SCALES):
                break  # "310-555-0133": separate numbers; "twenty 5": mixed forms
            m = _WRITTEN_NUMBER.match(text, tokens[j].start)
            if m is None or words:
                break
            frac = m.group(2)
            written = float(m.group(1).replace(",", "")) + (float("0." + frac) if frac else 0.0)
            words.append("#")
            if m.group(3):
                words.append("k")
            while j < len(tokens) and tokens[j].start < m.end():
                j += 1  # "1,840" is two tokens
            ends += [j] * (len(words) - len(ends))
            continue
        nxt = tokens[j + 1].text if j + 1 < len(tokens) else ""
        if word == "grand" and (nxt in _GRAND_NAMES or text[tokens[j].start] == "G"):
            break  # "Grand Avenue", "grand caravan": a name
        if (
            word in _SMALL
            or word in _SCALES
            or (word in WEAK_ZEROS and words and words[-1] in _SMALL)
            or (word == "and" and words and words[-1] in ("hundred", "thousand", "million") and nxt in _SMALL)
            or (word == "a" and not words and nxt in _SCALES)
            or (word == "point" and words and words[-1] in _SMALL and nxt in _SMALL)
        ):
            words.append(word)
            j += 1
            ends.append(j)
            continue
        break
    return words, ends, written


def _parse_number(text: str, tokens: Sequence[Token], i: int) -> tuple[SpokenNumber | None, int]:
    """The number starting at token i (or None) and the token index to continue from."""
    if not _is_number_start(text, tokens, i):
        return None, i + 1
    words, ends, written = _collect(text, tokens, i)
    if not words:
        return None, i + 1
    if len(words) >= 7 and _DIGIT_WORDS.issuperset(words):
        return None, ends[-1]  # a phone number said digit by digit
    # The longest prefix that reads as one number: "three fifty three fifty each" is two numbers.
    for n in range(len(words), 0, -1):
        prefix = words[:n]
        if prefix[-1] in _CARDINAL_JOINERS or WEAK_ZEROS.issuperset(prefix) or _splits_badly(words, n):
            continue
        interpreted = _interpret(prefix, written if "#" in prefix else None)
        if interpreted is not None:
            number = _number(text, tokens, i, ends[n - 1], interpreted)
            return number, number.end_token
    return None, i + 1


def _digit_word(word: str) -> bool:
    return word in _DIGIT_WORDS


def _splits_badly(words: list[str], n: int) -> bool:
    """Would ending a number before words[n] cut a spoken form in two?

    "fifteen thousand one | five zero zero zero" cuts a digit sequence; "three fifty three | fifty" leaves a
    tens word without the unit that belongs to it ("three fifty | three fifty").
    """
    if n >= len(words):
        return False
    last, nxt = words[n - 1], words[n]
    if _digit_word(last) and _digit_word(nxt):
        return True
    tens_before = n >= 2 and words[n - 2] in TENS
    return _digit_word(last) and tens_before and nxt in _SMALL and _SMALL[nxt] >= 10


def _number(
    text: str,
    tokens: Sequence[Token],
    i: int,
    j: int,
    interpreted: tuple[tuple[float, ...], bool, float, bool],
) -> SpokenNumber:
    readings, shorthand, scale, digits = interpreted
    start, end = tokens[i].start, tokens[j - 1].end
    currency = None
    before = text[:start].rstrip()
    if before[-1:] in CURRENCY_SYMBOLS:
        currency = CURRENCY_SYMBOLS[before[-1]]
        start = len(before) - 1
    cents = 0.0
    if j < len(tokens) and tokens[j].text in ("cents", "cent") and not shorthand:
        value = round(readings[0] / 100, 2)
        return SpokenNumber(
            value, start, tokens[j].end, i, j + 1, (value,), False, 1.0, digits, currency or "USD"
        )
    if j < len(tokens) and tokens[j].text in CURRENCY_WORDS and joined(text, tokens[j - 1], tokens[j]):
        currency = CURRENCY_WORDS[tokens[j].text]
        end = tokens[j].end
        j += 1
        sub = _subunit(text, tokens, j)
        if sub is not None:
            cents, end, j = sub
    if len(readings) == 1:  # nearly always: no generator, no dict
        values: tuple[float, ...] = (round(readings[0] + cents, 2),)
    else:
        values = tuple(dict.fromkeys([round(r + cents, 2) for r in readings]))
    return SpokenNumber(values[0], start, end, i, j, values, shorthand, scale, digits, currency)


def _subunit(text: str, tokens: Sequence[Token], j: int) -> tuple[float, int, int] | None:
    """ "... dollars and forty cents", "... pounds fifty": the cents, the span end, the next token index."""
    k = j + 1 if j < len(tokens) and tokens[j].text == "and" else j
    value, m = 0, k
    while m < len(tokens) and tokens[m].text in _SMALL and (m == k or _SMALL[tokens[m].text] < 10):
        value += _SMALL[tokens[m].text]
        m += 1
    if m == k or value >= 100:
        return None
    if m < len(tokens) and tokens[m].text in ("cents", "cent", "pence", "p"):
        return value / 100, tokens[m].end, m + 1
    if k == j and (m >= len(tokens) or tokens[m].text in _AFTER_SUBUNIT):
        return value / 100, tokens[m - 1].end, m
    return None


def _interpret(words: list[str], written: float | None) -> tuple[tuple[float, ...], bool, float, bool] | None:
    """(readings, shorthand, final scale, digit by digit) for the words of one number, None if no number."""
    scale = _SCALES.get(words[-1], 1.0)
    if written is not None:
        value = written
        for w in words[1:]:
            if w not in _SCALES:
                return None
            value *= _SCALES[w]
        return (value,), False, scale, False
    if "point" in words:
        return _decimal(words)
    # Digit by digit: "one five zero zero zero", "four four one nine" (three or more single digits).
    if len(words) >= 3 and _DIGIT_WORDS.issuperset(words):
        digits = "".join("0" if w in WEAK_ZEROS or w == "zero" else str(_SMALL[w]) for w in words)
        return (float(int(digits)),), False, 1.0, True
    if "and" not in words and words[0] != "a":
        groups = _small_groups(words)
        if groups is None:
            return None
        if len(groups) >= 2 and isinstance(groups[0], int) and isinstance(groups[1], int):
            return _shorthand(groups)
    cardinal = _cardinal(words)
    return None if cardinal is None else ((cardinal,), False, scale, False)


def _decimal(words: list[str]) -> tuple[tuple[float, ...], bool, float, bool] | None:
    """ "one point two million", "two point five"."""
    k = words.index("point")
    whole = _cardinal(words[:k])
    rest = words[k + 1 :]
    scale_at = next((n for n, w in enumerate(rest) if w in _SCALES), len(rest))
    fraction = rest[:scale_at]
    if whole is None or not fraction or not all(w in _SMALL and _SMALL[w] < 10 for w in fraction):
        return None
    scale = 1.0
    for w in rest[scale_at:]:
        scale *= _SCALES[w]
    value = (whole + float("0." + "".join(str(_SMALL[w]) for w in fraction))) * scale
    return (value,), False, scale, False


def _shorthand(groups: list[int | str]) -> tuple[tuple[float, ...], bool, float, bool] | None:
    """ "six fifty" (650), "twenty eight fifty" (28.50 or 2,850), "one fifty k" (150,000)."""
    x, y = groups[0], groups[1]
    assert isinstance(x, int) and isinstance(y, int)
    tail = groups[2:]
    if any(isinstance(g, int) for g in tail) or not (1 <= x <= 99 and 10 <= y <= 99):
        return None
    hundreds = float(x * 100 + y)
    if tail:
        scale = 1.0
        for g in tail:
            scale *= _SCALES[str(g)]
        return (hundreds * scale,), False, scale, False  # "one fifty k": the scale word settles it
    cents = x + y / 100
    if x < 10:
        return (hundreds, hundreds * 1000, cents), True, 1.0, False
    if x < 20:
        return (hundreds, cents), True, 1.0, False
    return (cents, hundreds), True, 1.0, False


def _small_groups(words: list[str]) -> list[int | str] | None:
    """Words as numbers below 100 ("twenty", "eight" → 28) and scale words."""
    out: list[int | str] = []
    k = 0
    while k < len(words):
        w = words[k]
        if w in _SCALES:
            out.append(w)
        elif w in _SMALL:
            n = _SMALL[w]
            if 20 <= n <= 90 and k + 1 < len(words) and words[k + 1] in _SMALL and _SMALL[words[k + 1]] < 10:
                n += _SMALL[words[k + 1]]
                k += 1
            out.append(n)
        else:
            return None
        k += 1
    return out


def _cardinal(words: list[str]) -> float | None:
    """A cardinal in words: "two hundred and forty nine", "a hundred eighty", "thirty eight hundred"."""
    total = 0.0
    current = 0.0
    last_small: int | None = None
    for w in words:
        if w == "a":
            current, last_small = 1.0, None
        elif w == "and":
            continue
        elif w in _SMALL:
            n = _SMALL[w]
            if last_small is not None and not (last_small >= 20 and last_small % 10 == 0 and n < 10):
                return None  # two numbers in a row that are not "twenty eight"
            if current >= 100 and current % 100 and n >= 10:
                return None
            current += n
            last_small = n
        elif w == "hundred":
            if current >= 100:
                return None
            current = (current or 1.0) * 100
            last_small = None
        elif w in _SCALES:
            total += (current or 1.0) * _SCALES[w]
            current, last_small = 0.0, None
        else:
            return None
    return total + current


# The finders every field family asks of every turn: memoized per text, called without a wrapper's frame.
find_digit_runs = per_text("digits", _find_digit_runs)
find_emails = per_text("emails", _find_emails)
find_numbers = per_text("numbers", _find_numbers)


# -- renderers for numbers and spellings (property tests: render → normalize gives the value back) --------

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEEN_WORDS = {int(d): w for w, d in TEENS.items()}
_TENS_WORDS = {int(d) * 10: w for w, d in TENS.items()}


def _below_100(n: int) -> str:
    if n < 10:
        return _ONES[n]
    if n < 20:
        return _TEEN_WORDS[n]
    tens, unit = divmod(n, 10)
    return _TENS_WORDS[tens * 10] + (f" {_ONES[unit]}" if unit else "")


def _below_1000(n: int, *, with_and: bool) -> str:
    hundreds, rest = divmod(n, 100)
    if not hundreds:
        return _below_100(rest)
    head = f"{_ONES[hundreds]} hundred"
    if not rest:
        return head
    return f"{head} {'and ' if with_and else ''}{_below_100(rest)}"


def render_cardinal(n: int, *, with_and: bool = False, hundreds: bool = False) -> str:
    """A whole number in words: 1840 → "one thousand eight hundred forty" ("eighteen hundred forty" with
    `hundreds`, the way people say 1100-9999 that are not whole thousands)."""
    if n < 0 or n >= 1_000_000_000:
        raise ValueError(n)
    if n == 0:
        return "zero"
    if hundreds and 1100 <= n <= 9999 and n % 1000 and (n // 100) % 10:
        high, rest = divmod(n, 100)
        return f"{_below_100(high)} hundred" + (
            f" {'and ' if with_and else ''}{_below_100(rest)}" if rest else ""
        )
    parts = []
    millions, n = divmod(n, 1_000_000)
    thousands, n = divmod(n, 1000)
    if millions:
        parts.append(f"{_below_1000(millions, with_and=with_and)} million")
    if thousands:
        parts.append(f"{_below_1000(thousands, with_and=with_and)} thousand")
    if n:
        parts.append(_below_1000(n, with_and=with_and))
    return " ".join(parts)


def render_spoken_amount(value: float, *, style: str = "words", currency_word: str = "dollars") -> str:
    """Say a money figure: "words" (four hundred and twelve dollars), "hundreds" (eighteen hundred forty
    dollars), "k" (fifteen k), "grand" (two grand), "written" ($1,840); cents as "and ninety nine cents"."""
    whole = int(value)
    cents = round((value - whole) * 100)
    if style == "written":
        return f"${whole:,}" + (f".{cents:02d}" if cents else "")
    if style in ("k", "grand"):
        if cents or whole % 1000 or whole < 1000:
            raise ValueError("only whole thousands are said with k or grand")
        return f"{render_cardinal(whole // 1000)} {style}"
    words_ = render_cardinal(whole, with_and=True, hundreds=style == "hundreds")
    out = f"{words_} {currency_word}"
    if cents:
        out += f" and {_below_100(cents)} cents"
    return out


def render_spelled(word: str, *, repeats: bool = False, separator: str = " ") -> str:
    """Spell a word letter by letter ("smyth" → "s m y t h"); `repeats` says "double n" for "nn"."""
    letters: list[str] = []
    i = 0
    lower = word.lower()
    while i < len(lower):
        if repeats and i + 1 < len(lower) and lower[i] == lower[i + 1] and lower[i] not in "uw":
            letters.append(f"double {lower[i]}")
            i += 2
            continue
        letters.append(lower[i])
        i += 1
    return separator.join(letters)
