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
from typing import Any, TypeVar

# -- tokens -------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string: long vocabularies stay readable."""
    return frozenset(words.split())


@dataclass(frozen=True, slots=True)
class Token:
    """A word with its span [start, end) in the turn text.

    `text` is lower-cased with apostrophes dropped: ASR writes "its"/"im" where agents write "It's"/"I'm",
    and one spelling lets every rule match both.
    """

    text: str
    start: int
    end: int


# -- sharing work within one extraction ------------------------------------------------------------

# Every field family reads every turn. Inside `shared_analysis()` each finder runs once per turn text; the
# memo lives only for that block, so no caller's words stay in memory after their call is extracted (a
# process-wide cache would keep them).
_MEMO: ContextVar[dict[tuple[str, str, int], Any] | None] = ContextVar("spoken_memo", default=None)
_T = TypeVar("_T")


@contextmanager
def shared_analysis() -> Iterator[None]:
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _memo(kind: str, text: str, arg: int, compute: Callable[[], _T]) -> _T:
    memo = _MEMO.get()
    if memo is None:
        return compute()
    key = (kind, text, arg)
    if key not in memo:
        memo[key] = compute()
    result: _T = memo[key]
    return result


def tokenize(text: str) -> tuple[Token, ...]:
    return _memo("tokens", text, 0, lambda: _tokenize(text))


def _tokenize(text: str) -> tuple[Token, ...]:
    out = []
    for m in _TOKEN_RE.finditer(text):
        word = m.group().lower()
        if "'" in word or "’" in word:
            word = word.replace("'", "").replace("’", "")
        out.append(Token(word, m.start(), m.end()))
    return tuple(out)


# Between two words of one spoken number: spaces, dashes, commas, brackets, slashes, a dot ("617.555.0148").
_NUMBER_GAP = re.compile(r"[\s\-–,()/.]*")
# ...but a sentence end ("... at 2:30. Call 555 ...") separates numbers even though it is only a dot.
_SENTENCE_END = re.compile(r"[.!?]\s")
_LETTER_GAP = re.compile(r"[\s\-–.,]*")


def joined(text: str, left: Token, right: Token, *, letters: bool = False) -> bool:
    """True when nothing but separators stands between two tokens (they can belong to one value)."""
    gap = text[left.end : right.start]
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


def find_digit_runs(text: str) -> tuple[DigitRun, ...]:
    return _memo("digits", text, 0, lambda: _find_digit_runs(text))


def _find_digit_runs(text: str) -> tuple[DigitRun, ...]:
    tokens = tokenize(text)
    runs: list[DigitRun] = []
    i = 0
    while i < len(tokens):
        if number_piece(text, tokens, i) is None:
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
        words = tuple(t.text for t in tokens[first:j])
        i = j
        if all(w in WEAK_ZEROS for w in words):
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


def find_spelled_runs(text: str, *, min_letters: int = 3) -> tuple[SpelledRun, ...]:
    return _memo("spelled", text, min_letters, lambda: _find_spelled_runs(text, min_letters))


def _find_spelled_runs(text: str, min_letters: int) -> tuple[SpelledRun, ...]:
    tokens = tokenize(text)
    runs: list[SpelledRun] = []
    i = 0
    while i < len(tokens):
        letters, j = "", i
        while j < len(tokens):
            if j > i and not joined(text, tokens[j - 1], tokens[j], letters=True):
                break
            word = tokens[j].text
            if _letter(word):
                letters += word
                j += 1
            elif (
                word in REPEATS
                and j + 1 < len(tokens)
                and _letter(tokens[j + 1].text)
                and joined(text, tokens[j], tokens[j + 1], letters=True)
            ):
                letters += tokens[j + 1].text * REPEATS[word]
                j += 2
            else:
                break
        if len(letters) >= min_letters:
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


def find_emails(text: str) -> tuple[SpokenEmail, ...]:
    """Written emails, then spoken ones ("jane dot doe at gmail dot com") that do not overlap them."""
    return _memo("emails", text, 0, lambda: _find_emails(text))


def _find_emails(text: str) -> tuple[SpokenEmail, ...]:
    found: list[SpokenEmail] = []
    for m in _WRITTEN_EMAIL.finditer(text):
        value = m.group().rstrip(".").lower()
        if is_valid_email(value):
            end = m.start() + len(m.group().rstrip("."))
            found.append(
                SpokenEmail(value, m.start(), end, (EmailReading(value, m.start()),), False, True, True)
            )
    tokens = tokenize(text)
    for k, token in enumerate(tokens):
        if token.text != "at" or any(e.start <= token.start < e.end for e in found):
            continue
        spoken = _spoken_email_at(text, tokens, k)
        if spoken is not None:
            found.append(spoken)
    return tuple(sorted(found, key=lambda e: e.start))


def _spoken_email_at(text: str, tokens: Sequence[Token], at: int) -> SpokenEmail | None:
    domain = _spoken_domain(text, tokens, at)
    if domain is None:
        return None
    domain_value, domain_end, tld_spoken = domain
    pieces = _local_pieces(text, tokens, at)
    if not pieces:
        return None
    starts = _reading_starts(pieces)
    readings = []
    for p in starts:
        local = "".join(piece for piece, _, _ in pieces[p:])
        value = f"{local}@{domain_value}"
        if is_valid_email(value):
            readings.append(EmailReading(value, tokens[pieces[p][2]].start))
    if not readings:
        return None
    glued = len(starts) > 1
    return SpokenEmail(
        readings[0].value, readings[0].start, domain_end, tuple(readings), glued, False, tld_spoken
    )


_MAX_DOMAIN_TOKENS = 40  # a fully spelled domain ("v e r i d i a n h e a l t h dot org") is long


def _spoken_domain(text: str, tokens: Sequence[Token], at: int) -> tuple[str, int, bool] | None:
    """Read "g mail dot com" / "tallgrass freight dot com" / "acme dot co dot uk" after "at"."""
    labels: list[str] = []
    label = ""
    i = at + 1
    while i < len(tokens) and i - at <= _MAX_DOMAIN_TOKENS:
        if i > at + 1 and not joined(text, tokens[i - 1], tokens[i]):
            break
        word = tokens[i].text
        if word in DOT_WORDS:
            if not label or i + 1 >= len(tokens) or not joined(text, tokens[i], tokens[i + 1]):
                break
            labels.append(label)
            label = ""
            nxt = tokens[i + 1].text
            if nxt in TLDS and not _more_tld(text, tokens, i + 1):
                labels.append(nxt)
                return ".".join(labels), tokens[i + 1].end, True
            i += 1
            continue
        if word in ("dash", "hyphen") and label:
            label += "-"
        elif word.isalnum() and word.isascii() and word not in DOMAIN_STOP and word != "at":
            label += word
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
            return PROVIDERS[name], last.end, False
    return None


def _more_tld(text: str, tokens: Sequence[Token], i: int) -> bool:
    """True for "co" in "co dot uk": a TLD word followed by another dot and TLD is a second-level label."""
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
        if not tok.text.isascii() or not joined(text, tok, right) or _stops_local(tok.text, right.text):
            break
        first -= 1
    pieces: list[tuple[str, str, int]] = []
    i = first
    while i < at:
        word = tokens[i].text
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
