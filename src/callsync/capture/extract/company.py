"""The caller's own organisation, stated by the caller.

Sources: "I'm the controller at Y", "I work at/for Y", "I'm with Y", "it's X from Y", "I own/run Y", and a
bare answer to the agent asking for the company ("And the company name?" - "walsh landscaping"). Never the
agent's business, never inferred from an email domain (dev-calls README).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from callsync.capture.extract.dialogue import UNMARKED_CHANGE_CAP, caller_turns, has_correction_marker
from callsync.capture.extract.job_title import asks_role, stated_titles
from callsync.capture.extract.name import NON_NAME, asks_for_name, title
from callsync.capture.extract.spoken import NUMBER_WORDS, Token, may_say, tokenize, word_set, words
from callsync.capture.extract.thresholds import clamp, status_for
from callsync.models import CallRecord, Evidence, FieldStatus, FieldValue, Speaker

EXTRACTOR = "company@1"

ANSWERED = 0.85  # the agent asked for the company and this is the whole answer
ROLE_AT = 0.82  # "i'm the controller at tallgrass freight"
WORK_AT = 0.82  # "i work at / for Y"
FROM_AFTER_NAME = 0.80  # "it's dana whitfield from northwind"
WITH = 0.75  # "i'm with Y": also "i'm with my husband", so it needs support
OWN = 0.70  # "i own / i run Y": as often a house or a truck as a business, unless named like one
NAMED_LIKE_A_COMPANY = 0.10  # "... llc", "... plumbing company", "... consulting"
THE_PENALTY = 0.10  # "the account", "the building": organisations are seldom introduced with "the"
CALLING_FROM = 0.65  # "calling from Y": as often a place ("calling from home") as an organisation
REPEAT_BOOST = 0.05

_MAX_WORDS = 5
# A company name stops at these. "of" may sit inside one ("bank of the west") and "the" may open one; "and"
# ends it, because "greenfield packaging and we need ..." is far more common than "johnson and johnson".
_COMPANY_STOP = NUMBER_WORDS | word_set(
    """a an and at but by for from i id ill im in is it its ive me my on or our so that thats then there this
    to um uh er ah we were weve well when where which who with you your yeah yes ok okay like just about
    because since dot calling looking need needs want wants wanted would could can will was are be been
    being has have had do does did not no please thanks thank hi hello hey sorry actually right now here
    today tomorrow myself yourself ourselves"""
)
_NOT_A_COMPANY = frozenset(
    {
        "home",
        "work",
        "school",
        "college",
        "office",
        "the office",
        "the hospital",
        "the moment",
        "the area",
        "company",
        "the company",
        "business",
        "the business",
        "the house",
        "the car",
    }
)
_DETERMINERS = frozenset({"a", "an", "my", "our", "your", "his", "her", "their", "this", "that", "some"})
_ROLE_WORDS = word_set(
    """manager director owner controller lead ceo cfo cto coo cmo vp president founder cofounder partner
    engineer administrator admin coordinator supervisor assistant analyst accountant officer head principal
    consultant specialist buyer recruiter representative rep executive associate secretary nurse doctor
    attorney lawyer paralegal agent broker developer designer architect technician bookkeeper receptionist
    superintendent foreman planner scientist teacher professor chair member"""
)
_COMPANY_SUFFIXES = word_set(
    """llc inc incorporated corp corporation company co group ltd limited partners associates services
    solutions consulting agency studio studios labs holdings enterprises industries plumbing bakery
    landscaping construction realty restaurant clinic dental law logistics freight packaging systems
    technologies software marketing insurance"""
)
_COMPANY_QUESTION = re.compile(
    r"\b(company name|name of (your|the) (company|business|organi[sz]ation|firm)|what company|which company|"
    r"business called|company called|what('s| is) (your|the) (company|business|organi[sz]ation)|"
    r"who do you work for|where do you work|what organi[sz]ation|who are you with|company are you with)\b",
    re.IGNORECASE,
)
# Every phrase of _COMPANY_QUESTION contains one of these (see `spoken.may_say`).
_COMPANY_QUESTION_NEEDS = ("compan", "business", "organi", "firm", "work", "with")
_LEAD_INS = word_set("its it is company were we are um uh yeah yes sure oh ok okay so called")
# Company suffixes written with a dot when abbreviated: the dot belongs to the name, not to the sentence.
_ABBREVIATED = word_set("inc corp co ltd llc bros intl assn")
_HONORIFIC_WORDS = word_set("mr mrs ms miss dr doctor")
_GREETINGS = word_set("hi hey hello yes yeah sure oh um uh well")
# "head of data", "vp of operations", "director of finance": "of" continues the title, not a company.
_OF_IS_A_TITLE = word_set("head vp president director chief officer manager")


@dataclass(frozen=True, slots=True)
class _Mention:
    value: str
    confidence: float
    evidence: Evidence
    turn: int
    corrects: bool


def _read_company(text: str, tokens: Sequence[Token], i: int) -> tuple[str, int, int] | None:
    """Up to five words of a company name from token i: (words as written, start, end)."""
    if i >= len(tokens) or tokens[i].text in _DETERMINERS:
        return None
    j = i + 1 if tokens[i].text == "the" else i
    spelled: list[tuple[int, int]] = []  # letter runs ("s e o") read as one word
    while j < len(tokens) and j - i - sum(b - a - 1 for a, b in spelled) < _MAX_WORDS:
        word = tokens[j].text
        run = _letter_run(text, tokens, j) if j > i else j
        if run - j >= _MIN_SPELLED:
            spelled.append((j, run))  # "brightpath s e o": a spelled suffix belongs to the name
            j = run
            continue
        if word in _COMPANY_STOP:
            break
        if j > i and text[tokens[j - 1].end : tokens[j].start].strip() not in ("", "&", "-"):
            break  # a comma or full stop ends the name
        j += 1
    if j == i or (j == i + 1 and tokens[i].text == "the"):
        return None  # nothing, or a bare "the"
    while j - 1 > i and tokens[j - 1].text == "of":
        j -= 1
    start, end = tokens[i].start, tokens[j - 1].end
    if tokens[j - 1].text in _ABBREVIATED and text[end : end + 1] == ".":
        end += 1  # "initech inc." keeps the abbreviation's dot
    value = text[start:end]
    for a, b in reversed(spelled):
        if b <= j:
            letters = "".join(t.text for t in tokens[a:b])
            acronym = letters.title() if letters in _ABBREVIATED else letters.upper()
            value = value[: tokens[a].start - start] + acronym + value[tokens[b - 1].end - start :]
    if value.casefold() in _NOT_A_COMPANY or _COUNT_OF_PEOPLE.fullmatch(value):
        return None  # "traveling with 1 in my group", "i'm with 3 friends": people, not a company
    return value, start, end


_COUNT_OF_PEOPLE = re.compile(
    r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten)( (other )?(friends?|people|persons?|kids|children|"
    r"guests?|others|adults|colleagues|family members))?",
    re.IGNORECASE,
)
_MIN_SPELLED = 2  # letters in a row that spell a suffix


def _letter_run(text: str, tokens: Sequence[Token], j: int) -> int:
    """The index after a run of single letters starting at j ("s e o", "l l c"), j when there is none."""
    k = j
    while k < len(tokens) and len(tokens[k].text) == 1 and tokens[k].text.isalpha():
        if k > j and text[tokens[k - 1].end : tokens[k].start].strip() not in ("", "."):
            break
        k += 1
    return k


def company_title(value: str) -> str:
    """Title case that keeps acronyms: "brightpath SEO" → "Brightpath SEO"."""
    return " ".join(w if len(w) > 1 and w.isupper() else title(w) for w in value.split(" "))


def _find(tokens: Sequence[Token], phrase: tuple[str, ...], said: frozenset[str]) -> list[int]:
    if not said.issuperset(phrase):
        return []  # a word of the phrase is not in the turn ("i" is in most, "i work at" in few)
    n = len(phrase)
    return [
        k
        for k, t in enumerate(tokens)
        if t.text == phrase[0]
        and k + n <= len(tokens)
        and all(tokens[k + m].text == phrase[m] for m in range(1, n))
    ]


_INTRO_CUES: tuple[tuple[str, ...], ...] = (
    ("this", "is"),
    ("its",),
    ("my", "name", "is"),
    ("my", "names"),
    ("im",),
)


def _introduced(tokens: Sequence[Token], name_end: int, *, answers_name: bool = False) -> bool:
    """Do the one to three words before token `name_end` follow a self-introduction ("this is dana whitfield",
    "this is dr. anne smith"), or, when the agent just asked who is calling, open the answer ("tom okafor")?"""
    for size in (1, 2, 3):
        k = name_end - size
        if k < 0 or not all(t.text not in NON_NAME and t.text.isalpha() for t in tokens[k:name_end]):
            continue
        opening = k
        while opening > 0 and tokens[opening - 1].text in _HONORIFIC_WORDS:
            opening -= 1
        if answers_name and all(t.text in _LEAD_INS | _GREETINGS for t in tokens[:opening]):
            return True
        for cue in _INTRO_CUES:
            n = len(cue)
            if opening >= n and tuple(t.text for t in tokens[opening - n : opening]) == cue:
                return True
    return False


# "leaving from Denver", "we just moved from Leeds", "flying in from Chicago": where someone travels or moved
# from is a place. So is "from X to Y" (a route) and "from X originally".
_MOVES = word_set("""leaving leave left moved moving move relocated relocating flying fly flew driving drive drove
    coming come came heading travelling traveling arriving arrive departing depart returning back in out away
    here there originally taking take shipping ship sending send far miles""")
_ORG_VERBS = word_set(
    "calling speaking writing emailing texting reaching ringing"
)  # "calling from state farm"
_PLACE_AFTER = word_set("to originally area airport station on tomorrow today tonight")


def _place_from(tokens: Sequence[Token], k: int) -> bool:
    """Is "from" at token k about a place (travel, a move, a route) rather than an organisation?"""
    before = tokens[k - 1].text if k > 0 else ""
    if before in _MOVES or (before.endswith(("ing", "ed")) and before not in _ORG_VERBS):
        return True
    j = k + 1
    while j < len(tokens) and j - k <= _MAX_WORDS + 1:
        if tokens[j].text in _PLACE_AFTER:
            return True
        if tokens[j].text in _COMPANY_STOP:
            return False
        j += 1
    return False


# The agent asks for a company in a payment: the answer is who gets paid, not where the caller works.
_PAYMENT_CONTEXT = re.compile(
    r"\b(pay|paying|payment|payee|bill|biller|transfer|send(ing)? money|recipient|wire|invoice)\b",
    re.IGNORECASE,
)
_YOUR = re.compile(r"\b(your|you)\b", re.IGNORECASE)


def _asks_company(agent_text: str) -> bool:
    return may_say(agent_text, _COMPANY_QUESTION_NEEDS) and _COMPANY_QUESTION.search(agent_text) is not None


def _asks_for_payee(call: CallRecord, i: int) -> bool:
    """ "And what's the company name?" in a call about a payment: the payee's name, not the caller's employer."""
    question = call.turns[i - 1].text
    if _YOUR.search(question):
        return False
    earlier = [t.text for t in call.turns[max(0, i - 5) : i] if t.speaker is Speaker.AGENT]
    return any(_PAYMENT_CONTEXT.search(t) for t in earlier)


_WORK_PHRASES = (
    (("i", "work", "at"), WORK_AT),
    (("i", "work", "for"), WORK_AT),
    (("i", "own"), OWN),
    (("i", "run"), OWN),
)


def _turn_mentions(call: CallRecord, i: int) -> list[_Mention]:
    text = call.turns[i].text
    tokens = tokenize(text)
    # (confidence, (company as written, start, end), token index where the cue starts)
    found: list[tuple[float, tuple[str, int, int], int]] = []

    said = words(text)
    for k in _find(tokens, ("im",), said) + _find(tokens, ("i", "am"), said):
        j = k + (1 if tokens[k].text == "im" else 2)
        # "i'm the hr director at Y" / "i'm a partner with Y"
        m = j + 1 if j < len(tokens) and tokens[j].text in ("the", "a", "an") else j
        role_end = next(
            (r for r in range(m, min(m + 5, len(tokens))) if tokens[r].text in ("at", "for", "with", "of")),
            None,
        )
        # "the office manager over at Y": the role word may stand before "over".
        role_word = (
            role_end - 2
            if role_end is not None and tokens[role_end - 1].text == "over"
            else (role_end or 0) - 1
        )
        if (
            role_end is not None
            and role_word >= m
            and tokens[role_word].text in _ROLE_WORDS
            and not (tokens[role_end].text == "of" and tokens[role_word].text in _OF_IS_A_TITLE)
        ):
            company = _read_company(text, tokens, role_end + 1)
            if company:
                found.append((ROLE_AT, company, k))
                continue
        if j < len(tokens) and tokens[j].text == "with":
            company = _read_company(text, tokens, j + 1)
            if company:
                found.append((WITH, company, k))
    for phrase, confidence in _WORK_PHRASES:
        for k in _find(tokens, phrase, said):
            company = _read_company(text, tokens, k + len(phrase))
            if company:
                found.append((confidence, company, k))
    agent_before = call.turns[i - 1].text if i > 0 and call.turns[i - 1].speaker is Speaker.AGENT else ""
    # "dr. anne smith, ceo of initech inc.", "i'm head of operations at acme widgets": a stated title
    # followed by its organisation.
    role_asked = asks_role(agent_before)
    for stated in stated_titles(text, asked=role_asked):
        if stated.organisation is not None:
            company = _read_company(text, tokens, stated.organisation)
            if company:
                found.append((ROLE_AT, company, stated.cue))
    # "it's dana whitfield from northwind", "this is dana calling from northwind", "this is sandra with Y",
    # and, answering "who am I speaking with?", "tom okafor from harbor freight lines".
    answers_name = bool(agent_before) and asks_for_name(agent_before)
    for k in _find(tokens, ("from",), said) + _find(tokens, ("with",), said):
        calling = k > 0 and tokens[k - 1].text == "calling"
        if tokens[k].text == "from" and _place_from(tokens, k):
            continue
        name_end = k - 1 if calling else k
        if _introduced(tokens, name_end, answers_name=answers_name):
            confidence = FROM_AFTER_NAME
        elif calling and tokens[k].text == "from":
            confidence = CALLING_FROM
        else:
            continue
        company = _read_company(text, tokens, k + 1)
        if company:
            found.append((confidence, company, k))
    asked = i > 0 and call.turns[i - 1].speaker is Speaker.AGENT
    asked = asked and _asks_company(call.turns[i - 1].text)
    if asked and _asks_for_payee(call, i):
        return []
    if asked:
        k = 0
        while k < len(tokens) and tokens[k].text in _LEAD_INS:
            k += 1
        company = _read_company(text, tokens, k)
        if company and company[2] == tokens[-1].end:  # the whole answer, not the start of a sentence
            found.append((ANSWERED, company, k))
    # One span found by two cues ("i'm the controller at Y" is also a stated title) is one mention.
    best: dict[tuple[int, int], tuple[float, tuple[str, int, int], int]] = {}
    for item in found:
        span = (item[1][1], item[1][2])
        if span not in best or item[0] > best[span][0]:
            best[span] = item
    out = []
    for base, (value, start, end), k in best.values():
        value_words = value.casefold().split()
        confidence = base
        if base != ANSWERED and value_words[0] == "the":
            confidence -= THE_PENALTY
        if base in (OWN, WITH) and value_words[-1] in _COMPANY_SUFFIXES:
            confidence += NAMED_LIKE_A_COMPANY
        if asked:
            confidence = max(confidence, ANSWERED)  # "who are you with?" - "i'm with blue ridge roofing"
        corrects = has_correction_marker(text, 0, tokens[k].start)
        out.append(_Mention(value, confidence, Evidence(i, start, end), i, corrects))
    return out


def extract_company(call: CallRecord) -> FieldValue | None:
    mentions: list[_Mention] = []
    for i in caller_turns(call):
        mentions.extend(_turn_mentions(call, i))
    if not mentions:
        return None
    mentions.sort(key=lambda m: (m.turn, m.evidence.start))
    value, confidence, evidence = mentions[0].value, mentions[0].confidence, [mentions[0].evidence]
    superseded: list[tuple[str, tuple[Evidence, ...]]] = []
    for m in mentions[1:]:
        if m.value.casefold() == value.casefold():
            confidence = clamp(max(confidence, m.confidence) + REPEAT_BOOST)
            if m.evidence not in evidence:
                evidence.append(m.evidence)
        elif m.corrects:
            superseded.append((company_title(value), tuple(evidence)))
            value, confidence, evidence = m.value, m.confidence, [m.evidence]
        else:
            confidence = min(confidence, UNMARKED_CHANGE_CAP)
    status = status_for("company", confidence)
    return FieldValue(
        value=company_title(value),
        confidence=confidence,
        evidence=tuple(evidence),
        extractor=EXTRACTOR,
        status=status,
        reason=None if status is FieldStatus.ACCEPTED else "low_confidence",
        superseded=tuple(superseded),
    )
