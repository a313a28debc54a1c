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
from callsync.capture.extract.name import NON_NAME
from callsync.capture.extract.spoken import Token, may_say, memo, per_text, tokenize, word_set, words
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
# "manager of acme", "president of initech": after these, "of" names the organisation unless an area follows.
_OF_ORGANISATION_HEADS = word_set("manager president director officer")
# Areas a title is "of" ("director of finance", "head of data", "vp of operations").
AREAS = word_set("""operations ops sales marketing finance engineering hr it data product products people talent
    technology tech security facilities maintenance procurement purchasing logistics compliance legal
    accounting research development design support service services customer customers nursing admissions
    communications growth strategy partnerships business training quality safety production manufacturing
    analytics infrastructure revenue risk investments investor relations fundraising content programs
    events education medicine pharmacy radiology surgery billing claims underwriting acquisitions human
    resources administration sourcing supply inventory fleet dispatch transportation shipping warehouse
    construction estimating property properties leasing patient care clinical medical""")
_ACRONYMS = word_set("hr it vp ceo cfo cto coo cmo cio ops qa ux ui pr rn lpn hvac")
# Words a title never contains: they end it or show it is not one ("a new patient", "the mom").
_STOP = word_set("""a an the my our your his her their this that and but so at for with from of in on to
    here there over been just um uh like yeah yes no not also who which i im its were we you they about""")
_NOT_A_ROLE_AFTER = word_set("house home car property building dog cat account vehicle place unit apartment")
ROLE_QUESTION = re.compile(
    r"\b(your (current )?(role|title|position|job)|what do you do|what('s| is) your (role|title|position)|"
    r"role (there|at)|what (role|position))\b",
    re.IGNORECASE,
)
# Every phrase of ROLE_QUESTION contains one of these (see `spoken.may_say`).
_ROLE_QUESTION_NEEDS = ("role", "title", "position", "job", "what do you do")
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
        and (tokens[j + 1].text in AREAS or words[-1] not in _OF_ORGANISATION_HEADS)
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


@dataclass(frozen=True, slots=True)
class StatedTitle:
    """A title the caller gives for themself: its words and token span, and where the organisation named
    right after it starts ("... at/for/with Y", "over at Y", "ceo of Y"), if one is."""

    words: tuple[str, ...]
    start: int  # token index
    end: int  # token index after the title
    organisation: int | None  # token index of the organisation's first word
    cue: int  # token index where the statement starts ("im", the comma's word, the answer's first word)


_BARE_LEAD_INS = word_set("um uh so well im the a an its yeah")
_ORGANISATION_CUES = ("at", "for", "with")
# Titles said without an article after "i'm" ("i'm head of operations", "i'm ceo of initech").
_ARTICLELESS = word_set("head chief vp svp evp president director ceo cfo cto coo cmo cio founder cofounder")


# What may stand before the caller's name at the start of a turn: greetings, fillers, "this is", "my name
# is", "it's", "i'm", honorifics.
_BEFORE_OWN_NAME = word_set(
    "hi hey hello yes yeah sure oh um uh well so this is its my name names im i am mr mrs ms dr"
)


def _follows_own_name(tokens: Sequence[Token], k: int) -> bool:
    """Do the one to four words before token k form the caller's name, said at the start of the turn
    ("dr. anne smith, ...", "hi this is tom okafor, ...")?"""
    j = k
    while j > 0 and k - j < 4 and tokens[j - 1].text.isalpha() and tokens[j - 1].text not in NON_NAME:
        j -= 1
    return j < k and all(t.text in _BEFORE_OWN_NAME for t in tokens[:j])


def organisation_after(tokens: Sequence[Token], end: int) -> int | None:
    """Token index of an organisation named right after a title ending before token `end`."""
    if end >= len(tokens):
        return None
    word = tokens[end].text
    if word == "over" and end + 1 < len(tokens) and tokens[end + 1].text == "at":
        return end + 2 if end + 2 < len(tokens) else None
    if word in _ORGANISATION_CUES or word == "of":  # "of": the title did not take it as its area ("ceo of Y")
        return end + 1 if end + 1 < len(tokens) else None
    return None


_CLAUSE_STOP = re.compile(r"[,.;!?]")  # compiled once: this runs for every title cue


def _sentence_ends(text: str, tokens: Sequence[Token], end: int) -> bool:
    return end >= len(tokens) or _CLAUSE_STOP.search(text, tokens[end - 1].end, tokens[end].start) is not None


def stated_titles(text: str, *, asked: bool = False) -> tuple[StatedTitle, ...]:
    """Titles the caller states in one turn: after "i'm (the/a)", "i work as a", "my title is"; after a comma
    that follows their name ("anne smith, ceo of initech"); or, when the agent asked for the role, as the
    answer ("head of operations at acme widgets"). Token indices refer to `tokenize(text)`."""
    return memo("stated_titles", text, int(asked), lambda: tuple(_stated_titles(text, tokenize(text), asked)))


def _stated_titles(text: str, tokens: Sequence[Token], asked: bool) -> list[StatedTitle]:
    out: list[StatedTitle] = []
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
        out.append(StatedTitle(tuple(title_words), start, end, organisation_after(tokens, end), k))
        k = end
    taken = {t.start for t in out}
    # "anne smith, ceo of initech inc." / "tom okafor, head of operations at acme widgets": a title right
    # after the caller's name and a comma, naming the organisation or ending the sentence ("yes, the
    # manager at the front desk said" and "sorry, driver ran late" are not the caller's title).
    for k in range(1, len(tokens) if "," in text else 0):  # a turn without a comma has no such title
        if "," not in text[tokens[k - 1].end : tokens[k].start] or not _follows_own_name(tokens, k):
            continue
        start = k + 1 if tokens[k].text in ("the", "a", "an") else k
        read = _read_title(tokens, start) if start < len(tokens) and start not in taken else None
        if read is None:
            continue
        title_words, end = read
        organisation = organisation_after(tokens, end)
        if organisation is not None or _sentence_ends(text, tokens, end):
            out.append(StatedTitle(tuple(title_words), start, end, organisation, k))
            taken.add(start)
    if not out and asked:
        # A bare answer: "office manager", "um the owner", "head of operations at acme widgets".
        j = 0
        while j < len(tokens) and tokens[j].text in _BARE_LEAD_INS:
            j += 1
        read = _read_title(tokens, j)
        if read is not None:
            title_words, end = read
            organisation = organisation_after(tokens, end)
            if end == len(tokens) or organisation is not None:
                out.append(StatedTitle(tuple(title_words), j, end, organisation, j))
    return out


def asks_role(agent_text: str) -> bool:
    """Does the agent's turn ask for the caller's role or title? (Most turns hold none of the words it needs.)"""
    return _asks_role(agent_text)


def _find_role_question(agent_text: str) -> bool:
    return may_say(agent_text, _ROLE_QUESTION_NEEDS) and ROLE_QUESTION.search(agent_text) is not None


_asks_role = per_text("asks_role", _find_role_question)  # asked by job_title and company of the same turns


def _turn_mentions(call: CallRecord, i: int) -> list[_Mention]:
    text = call.turns[i].text
    tokens = tokenize(text)
    asked = i > 0 and call.turns[i - 1].speaker is Speaker.AGENT and asks_role(call.turns[i - 1].text)
    out: list[_Mention] = []
    for stated in sorted(stated_titles(text, asked=asked), key=lambda t: t.start):
        after = tokens[stated.end].text if stated.end < len(tokens) else ""
        with_org = stated.organisation is not None or after in ("on", "in")
        confidence = WITH_ORGANISATION if with_org else STATED
        if asked:
            confidence = max(confidence, ANSWERED)
        evidence = Evidence(i, tokens[stated.start].start, tokens[stated.end - 1].end)
        corrects = has_correction_marker(text, 0, tokens[stated.cue].start)
        out.append(_Mention(format_title(stated.words), confidence, evidence, i, corrects))
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
    if j < len(tokens) and tokens[j].text in _ARTICLELESS and word != "my":
        return j  # "i'm head of operations", "i'm ceo of initech"
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
