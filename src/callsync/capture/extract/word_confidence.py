"""The recognizer's own doubt: words it heard with low confidence send the values built on them to review.

Voice platforms that pass on the speech recognizer's word list (Retell's `transcript_object[].words`,
Deepgram-style `words` with `confidence`, a generic call's `turns[].words`) say how sure the recognizer was
of each word. A name, number, email or reference heard with low confidence is exactly where the recognizer
is wrong ("sham bray" for Chambray): such a value is never accepted on its own, it waits for a person
(reason `low_word_confidence`). Values the caller spelled or confirmed are treated the same: the evidence
spans say which words the value stands on, and one doubtful word among them is enough.

The word lists are read from the call's raw payload (`CallRecord.raw`), so no adapter needs to change; a
payload without them changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from callsync.models import CallRecord, FieldStatus, FieldValue

# Below this the recognizer itself doubts the word (Deepgram, Retell and Twilio report 0..1): the bar of a
# field with too few recognized values on the dev ASR set to fit one.
LOW_WORD_CONFIDENCE = 0.60
# Per field: the bar the lowest word of a value must reach, fitted on tests/data/dev-asr-calls.jsonl (never
# the frozen ASR set) by `bench/extraction.py --fit-word-confidence`: the lowest bar (0.0-0.9 in 0.1 steps)
# at which the field's accepted values were right >= 0.98 of the time (names 0.97), for fields with at least
# FIT_SUPPORT values whose words the recognizer heard. 1.01 means no bar got there: a value of that field
# resting on words only the recognizer heard is never accepted on them; it needs an agent's read-back the
# caller confirmed, or a person. Measured there, 197 calls (accepted right / accepted, right values sent to
# review): phone 28/28, 5 (only 12 phones heard: the thinnest fit); amount 38/38, 33; first_name 14/14, 17;
# last_name: at 0.9 one heard surname in four was still wrong ("Adams" for "Evans" heard at 1.0, "Obama" for
# "O'Donnell" at 0.87: a name the recognizer does not know comes out as one it does, and it is sure of it),
# so 1.01, and full_name with it.
WORD_CONFIDENCE_BARS: Mapping[str, float] = MappingProxyType(
    {"phone": 0.10, "amount": 0.40, "first_name": 0.60, "last_name": 1.01, "full_name": 1.01}
)
FIT_SUPPORT = 10
# A span of the caller's that holds only these words is a confirmation ("yes", "that's right") of a value
# someone else said: its words are not the value's, and how well "yes" was heard says nothing of the value.
_CONFIRMATION_WORDS = frozenset(
    {"yes", "yeah", "yep", "yup", "correct", "right", "thats", "it", "is", "sure", "exactly", "that", "uh"}
    | {"huh", "mhm", "okay", "ok"}
)
# The fields that identify a person or money: a misheard word there writes someone else's data.
CHECKED_FIELDS = frozenset(
    {
        "full_name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "phone_extension",
        "callback_phone",
        "company",
        "amount",
        "amount_range",
        "address",
        "zip",
        "reference_id",
    }
)
REASON = "low_word_confidence"

_TEXT_KEYS = ("content", "text", "transcript", "message", "utterance")
_WORD_KEYS = ("word", "punctuated_word", "text")
_CONFIDENCE_KEYS = ("confidence", "conf", "probability")
_MAX_DEPTH = 8
_MAX_NODES = 20_000
_NORMAL = re.compile(r"[^\w@.]+")
_EDGES = re.compile(r"^[^\w]+|[^\w]+$")


def _norm(text: str) -> str:
    return _NORMAL.sub(" ", text.casefold()).strip()


def _words_of(node: Mapping[str, Any]) -> tuple[str, list[tuple[str, float]]] | None:
    """(turn text, [(word, confidence)]) when this object is a turn carrying a word list."""
    words = node.get("words")
    if not isinstance(words, list) or not words:
        return None
    said = next((node[k] for k in _TEXT_KEYS if isinstance(node.get(k), str)), None)
    heard: list[tuple[str, float]] = []
    for w in words:
        if not isinstance(w, Mapping):
            continue
        word = next((w[k] for k in _WORD_KEYS if isinstance(w.get(k), str)), None)
        conf = next((w[k] for k in _CONFIDENCE_KEYS if isinstance(w.get(k), int | float)), None)
        if word is not None and conf is not None and not isinstance(conf, bool):
            heard.append((word, float(conf)))
    if not heard:
        return None
    return (said if said is not None else " ".join(w for w, _ in heard)), heard


def _turns_with_words(raw: Any) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """Every object in the payload that pairs a turn's text with the recognizer's words (bounded walk)."""
    stack: list[tuple[Any, int]] = [(raw, 0)]
    seen = 0
    while stack and seen < _MAX_NODES:
        node, depth = stack.pop()
        seen += 1
        if isinstance(node, Mapping):
            found = _words_of(node)
            if found is not None:
                yield found
                continue
            if depth < _MAX_DEPTH:
                stack.extend((v, depth + 1) for v in reversed(list(node.values())))
        elif isinstance(node, list) and depth < _MAX_DEPTH:
            stack.extend((v, depth + 1) for v in reversed(node))


def doubtful_words(call: CallRecord) -> dict[int, frozenset[str]]:
    """Per turn index: the words the recognizer heard below LOW_WORD_CONFIDENCE (normalized)."""
    out: dict[int, frozenset[str]] = {}
    for i, heard in heard_words(call).items():
        low = frozenset(w for _, _, w, c in heard if c < LOW_WORD_CONFIDENCE and w)
        if low:
            out[i] = low
    return out


def heard_words(call: CallRecord) -> dict[int, tuple[tuple[int, int, str, float], ...]]:
    """Per turn index: the recognizer's words placed on the turn's text, (start, end, normalized word,
    confidence), in order. A word the text does not hold where expected is left out (it has no place)."""
    if not call.raw:
        return {}
    by_text: dict[str, list[int]] = {}
    for i, turn in enumerate(call.turns):
        by_text.setdefault(_norm(turn.text), []).append(i)
    out: dict[int, tuple[tuple[int, int, str, float], ...]] = {}
    for said, heard in _turns_with_words(call.raw):
        candidates = [i for i in by_text.get(_norm(said), []) if i not in out]
        if not candidates:
            continue
        out[candidates[0]] = _place(call.turns[candidates[0]].text, heard)
    return out


def _place(text: str, heard: list[tuple[str, float]]) -> tuple[tuple[int, int, str, float], ...]:
    """Each heard word's span in the text, searched for in order from the end of the last one placed."""
    folded = text.casefold()
    placed: list[tuple[int, int, str, float]] = []
    cursor = 0
    for word, conf in heard:
        key = _norm(word)
        surface = _EDGES.sub("", word.casefold())  # "Raman," -> "raman"; "o'connor" stays whole
        if not key or not surface:
            continue
        m = re.compile(rf"(?<![\w]){re.escape(surface)}(?![\w])").search(folded, cursor)
        if m is None:
            continue
        placed.append((m.start(), m.end(), key, conf))
        cursor = m.end()
    return tuple(placed)


def lowest_heard(
    call: CallRecord, fv: FieldValue, heard: Mapping[int, tuple[tuple[int, int, str, float], ...]]
) -> float | None:
    """The lowest confidence among the recognizer's words the value rests on (None: the recognizer heard
    none of them). A span holding only a confirmation ("yes that's right") is not the value's words."""
    low: float | None = None
    for e in fv.evidence:
        if not e.in_transcript:
            continue
        inside = [(w, c) for start, end, w, c in heard.get(e.turn, ()) if start < e.end and end > e.start]
        if not inside or all(w.replace(" ", "") in _CONFIRMATION_WORDS for w, _ in inside):
            continue
        least = min(c for _, c in inside)
        if low is None or least < low:
            low = least
    return low


def fit_bar(points: Sequence[tuple[float | None, bool]], target: float) -> float | None:
    """The lowest bar (0.1 steps) at which a field's accepted values were right >= `target` of the time,
    given (lowest heard word confidence or None when the recognizer heard none of its words, right?) per
    value accepted by the rules; 1.01 when no bar gets there, None when fewer than FIT_SUPPORT values were
    heard (the field keeps LOW_WORD_CONFIDENCE). Values the recognizer did not hear are kept at every bar."""
    if sum(low is not None for low, _ in points) < FIT_SUPPORT:
        return None
    for step in range(10):  # 0.0 .. 0.9: a bar above that keeps the few words a recognizer hears at 1.0
        bar = step / 10
        kept = [right for low, right in points if low is None or low >= bar]
        if not kept or sum(kept) / len(kept) >= target:
            return bar
    return 1.01


def bar_for(field: str) -> float:
    return WORD_CONFIDENCE_BARS.get(field, LOW_WORD_CONFIDENCE)


def review_doubtful(call: CallRecord, fields: dict[str, FieldValue]) -> dict[str, FieldValue]:
    """Accepted identity and money values resting on a word the recognizer doubted go to review."""
    heard = heard_words(call)
    if not heard:
        return fields
    out = dict(fields)
    for name, fv in fields.items():
        if name not in CHECKED_FIELDS or fv.status is not FieldStatus.ACCEPTED:
            continue
        low = lowest_heard(call, fv, heard)
        if low is not None and low < bar_for(name):
            out[name] = replace(fv, status=FieldStatus.NEEDS_REVIEW, reason=REASON)
    return out
