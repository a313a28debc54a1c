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
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from callsync.models import CallRecord, FieldStatus, FieldValue

# Below this the recognizer itself doubts the word (Deepgram, Retell and Twilio report 0..1).
LOW_WORD_CONFIDENCE = 0.60
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
    if not call.raw:
        return {}
    by_text: dict[str, list[int]] = {}
    for i, turn in enumerate(call.turns):
        by_text.setdefault(_norm(turn.text), []).append(i)
    out: dict[int, set[str]] = {}
    used: set[int] = set()
    for said, heard in _turns_with_words(call.raw):
        low = {_norm(w) for w, c in heard if c < LOW_WORD_CONFIDENCE and _norm(w)}
        if not low:
            continue
        candidates = [i for i in by_text.get(_norm(said), []) if i not in used]
        if not candidates:
            continue
        used.add(candidates[0])
        out.setdefault(candidates[0], set()).update(low)
    return {i: frozenset(ws) for i, ws in out.items()}


def review_doubtful(call: CallRecord, fields: dict[str, FieldValue]) -> dict[str, FieldValue]:
    """Accepted identity and money values resting on a word the recognizer doubted go to review."""
    doubtful = doubtful_words(call)
    if not doubtful:
        return fields
    out = dict(fields)
    for name, fv in fields.items():
        if name not in CHECKED_FIELDS or fv.status is not FieldStatus.ACCEPTED:
            continue
        for e in fv.evidence:
            low = doubtful.get(e.turn) if e.in_transcript else None
            if not low:
                continue
            spoken = set(_norm(call.turns[e.turn].text[e.start : e.end]).split())
            if spoken & low:
                out[name] = replace(fv, status=FieldStatus.NEEDS_REVIEW, reason=REASON)
                break
    return out
