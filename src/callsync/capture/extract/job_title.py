"""The caller's own role: "I'm the controller at Tallgrass Freight", "I'm a shift lead", "im the owner".

A title is read only where the caller states their role ("I'm the/a ...", "I work as a ...", "my title is
...", or a bare answer to "what's your role?"), and only when it ends in a word that names a role (manager,
director, nurse, operator, owner, ...): "I'm a new patient" and "I'm the mom" are not job titles. Never
inferred from an email address or a company.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from callsync.capture.extract.dialogue import UNMARKED_CHANGE_CAP, caller_turns, has_correction_marker
from callsync.capture.extract.spoken import Token, tokenize, word_set, words
from callsync.capture.extract.thresholds import clamp, status_for
from callsync.models import CallRecord, Evidence, FieldStatus, FieldValue, Speaker

EXTRACTOR = "job_title@1"

WITH_ORGANISATION = 0.85  # "i'm the controller at tallgrass freight": a role at a named place
ANSWERED = 0.85  # the agent asked for the role and the caller said it
STATED = 0.80  # "i'm the sales ops manager"
REPEAT_BOOST = 0.05

# The word a title ends with. "head" and "director" may also take "of <area>" ("head of data").
ROLE_HEADS = word_set("""manager director owner controller lead ceo cfo cto coo cmo cio vp president founder cofounder
    partner engineer administrator admin coordinator supervisor assistant analyst accountant officer head
    principal consultant specialist buyer recruiter representative rep executive associate secretary nurse
    doctor physician attorney lawyer paralegal broker developer designer architect technician bookkeeper
    receptionist superintendent foreman planner scientist teacher professor operator driver electrician
    plumber inspector dispatcher clerk cashier chef cook mechanic estimator adjuster underwriter agent
    therapist hygienist pharmacist paramedic counselor strategist marketer editor producer""")
_OF_HEADS = word_set("head director vp president chief manager officer")
_ACRONYMS = word_set("hr it vp ceo cfo cto coo cmo cio ops qa ux ui pr rn lpn hvac")
# Words a title never contains: they end it or show it is not one ("a new patient", "the mom").
_STOP = word_set("""a an the my our your his her their this that and but so at for with from of in on to
    here there over been just um uh like yeah yes no not also who which i im its were we you they about""")
_NOT_A_ROLE_AFTER = word_set("house home car property building dog cat account vehicle place unit apartment")
_ROLE_QUESTION = re.compile(
    r"\b(your (current )?(role|title|position|job)|what do you do|what('s| is) your (role|title|position)|"
    r"role (there|at)|what (role|position))\b",
    re.IGNORECASE,
)
_MAX_WORDS = 4
_INTRO_WORDS = word_set("im am work title role position job")


@dataclass(frozen=True, slots=True)
class _Mention:
    value: str
    confidence: float
    evidence: Evidence
    turn: int
    corrects: bool


def format_title(words: Sequence[str]) -> str:
    """ "hr director" → "HR Director", "vp of operations" → "VP of Operations"."""
    out = []
    for n, w in enumerate(words):
        if w in _ACRONYMS:
            out.append(w.upper())
        elif w == "of" and n:
            out.append(w)
        else:
            out.append(w.capitalize())
    return " ".join(out)


def _read_title(tokens: Sequence[Token], i: int) -> tuple[list[str], int] | None:
    """Title words from token i: up to four, ending in a role word, optionally "<head> of <area>"."""
    words: list[str] = []
    j = i
    while j < len(tokens) and len(words) < _MAX_WORDS:
        word = tokens[j].text
        if word in _STOP or not word.isalpha():
            break
        words.append(word)
        j += 1
    # The title ends at its last role word ("shift lead at ..." / "forklift operator at ...").
    last = max((n for n, w in enumerate(words) if w in ROLE_HEADS), default=-1)
    if last < 0:
        return None
    words, j = words[: last + 1], i + last + 1
    if (
        words[-1] in _OF_HEADS
        and j + 1 < len(tokens)
        and tokens[j].text == "of"
        and tokens[j + 1].text.isalpha()
        and tokens[j + 1].text not in _STOP
    ):
        if tokens[j + 1].text in _NOT_A_ROLE_AFTER:
            return None
        words, j = [*words, "of", tokens[j + 1].text], j + 2
    elif (
        j + 2 < len(tokens)
        and tokens[j].text == "of"
        and tokens[j + 1].text == "the"
        and tokens[j + 2].text in _NOT_A_ROLE_AFTER
    ):
        return None  # "the owner of the house"
    return words, j


def _turn_mentions(call: CallRecord, i: int) -> list[_Mention]:
    text = call.turns[i].text
    tokens = tokenize(text)
    asked = (
        i > 0
        and call.turns[i - 1].speaker is Speaker.AGENT
        and _ROLE_QUESTION.search(call.turns[i - 1].text) is not None
    )
    out: list[_Mention] = []
    k = 0 if not _INTRO_WORDS.isdisjoint(words(text)) else len(tokens)
    while k < len(tokens):
        start = _title_start(tokens, k)
        if start is None:
            k += 1
            continue
        read = _read_title(tokens, start)
        if read is None:
            k = start
            continue
        title_words, end = read
        after = tokens[end].text if end < len(tokens) else ""
        confidence = WITH_ORGANISATION if after in ("at", "for", "with", "over", "on", "in") else STATED
        if asked:
            confidence = max(confidence, ANSWERED)
        evidence = Evidence(i, tokens[start].start, tokens[end - 1].end)
        corrects = has_correction_marker(text, 0, tokens[k].start)
        out.append(_Mention(format_title(title_words), confidence, evidence, i, corrects))
        k = end
    if not out and asked:
        # A bare answer: "office manager", "um the owner".
        j = 0
        while j < len(tokens) and tokens[j].text in (
            "um",
            "uh",
            "so",
            "well",
            "im",
            "the",
            "a",
            "an",
            "its",
            "yeah",
        ):
            j += 1
        read = _read_title(tokens, j)
        if read is not None and read[1] == len(tokens):
            title_words, end = read
            out.append(
                _Mention(
                    format_title(title_words),
                    ANSWERED,
                    Evidence(i, tokens[j].start, tokens[end - 1].end),
                    i,
                    False,
                )
            )
    return out


def _title_start(tokens: Sequence[Token], k: int) -> int | None:
    """Where a title starts after "i'm the/a", "i am a", "i work as a", "my title/role is"."""
    word = tokens[k].text
    nxt = tokens[k + 1].text if k + 1 < len(tokens) else ""
    if word == "im" or (word == "i" and nxt == "am"):
        j = k + (1 if word == "im" else 2)
    elif (word == "i" and nxt == "work" and k + 2 < len(tokens) and tokens[k + 2].text == "as") or (
        word == "my"
        and nxt in ("title", "role", "position", "job")
        and k + 2 < len(tokens)
        and tokens[k + 2].text == "is"
    ):
        j = k + 3
    else:
        return None
    if j < len(tokens) and tokens[j].text in ("the", "a", "an"):
        return j + 1
    return None


def extract_job_title(call: CallRecord) -> FieldValue | None:
    mentions = [m for i in caller_turns(call) for m in _turn_mentions(call, i)]
    if not mentions:
        return None
    value, confidence, evidence = mentions[0].value, mentions[0].confidence, [mentions[0].evidence]
    superseded: list[tuple[str, tuple[Evidence, ...]]] = []
    for m in mentions[1:]:
        if m.value.casefold() == value.casefold():
            confidence = clamp(max(confidence, m.confidence) + REPEAT_BOOST)
            evidence.append(m.evidence)
        elif m.corrects:
            superseded.append((value, tuple(evidence)))
            value, confidence, evidence = m.value, m.confidence, [m.evidence]
        else:
            confidence = min(confidence, UNMARKED_CHANGE_CAP)
    status = status_for("job_title", confidence)
    return FieldValue(
        value=value,
        confidence=confidence,
        evidence=tuple(evidence),
        extractor=EXTRACTOR,
        status=status,
        reason=None if status is FieldStatus.ACCEPTED else "low_confidence",
        superseded=tuple(superseded),
    )
