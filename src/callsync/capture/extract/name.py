"""The caller's own name: full_name, first_name, last_name.

Sources, all in the caller's words: self-introductions ("this is X", "my name is X", "it's X from Y",
"X speaking"), a bare answer to the agent asking for the name, spelled letters ("r a m a n", "smith with a
y"), and an agent identity question the caller confirms ("Am I speaking with Frank Castellano?" - "yeah
speaking"). A name only the agent used ("this message is for Marisol") is never accepted as the caller's;
the first name the agent calls the caller by, after the caller spoke ("Thanks, Ingrid."), is offered for
review where the caller's own words held no name we could read, or one the agent contradicts.

ASR writes names in lower case and mishears them ("shavon" for Siobhan): what the caller spells wins over
what the recognizer heard. Names that common words could be mistaken for are guarded by a word list; a
one-word name needs the agent to have echoed it before it is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from callsync.capture.extract.dialogue import (
    DIFFERS_REASON,
    ECHO_ONLY,
    ECHO_REASON,
    Reaction,
    caller_turns,
    classify_reaction,
    has_correction_marker,
    match_phrase,
    phrase_index,
    question_before,
    sentence_at,
)
from callsync.capture.extract.spoken import (
    NUMBER_WORDS,
    Token,
    find_emails,
    find_spelled_runs,
    holds_any,
    may_say,
    per_text,
    tokenize,
    word_set,
)
from callsync.capture.extract.thresholds import clamp, status_for
from callsync.models import CallRecord, Evidence, FieldStatus, FieldValue, Speaker

EXTRACTOR = "name@1"

STRONG_TWO = 0.80  # "my name is priya raman", or a two-word answer to "what's your name?"
STRONG_ONE = 0.70  # one word: could be a first name, could be a word we failed to list
WEAK_TWO = 0.70  # "i'm X Y" / "it's X Y" with no name question before it
WEAK_ONE = 0.60
THREE_WORDS = 0.60  # middle name? two-word surname? the split is a guess
IDENTITY_CONFIRMED = 0.85  # "Am I speaking with Frank Castellano?" - "yeah speaking"
ECHO_BOOST = 0.10  # the agent then addressed the caller by that first name
SPELLED_BOOST = 0.10  # the caller (or a confirmed agent read-back) spelled the part as we have it
SPELLED_VALUE = 0.85  # a spelling that replaces or supplies a part
REPEAT_BOOST = 0.05
CONFLICT_CAP = 0.60  # a different name later, with no correction marker
SIMILAR_SPELLING = 0.60  # how close spelled letters must be to a heard part to be "its spelling"

# Words a name reader must not take for a name: function words, fillers, call vocabulary, and the
# adjectives and verbs that follow "this is" / "i'm" ("this is ridiculous", "i'm locked out").
NON_NAME = (
    word_set("""
    unk unknown a about above actually after again against ago all almost already also although always am an and another
    any anyone anything are around as ask asked asking at away back bad be because been before being below
    best better between both but by call called calling calls came can cant could couldnt did didnt do does
    doesnt doing done dont down during each either else enough even ever every everything fine first for
    from get gets getting give go goes going gone good got gotta great guess had hadnt has hasnt have havent
    having he hed hell hello her here hers herself hes hey hi him himself his hold how however i id if ill
    im in into is isnt it its itll itself ive just keep kind know last later least less let lets like
    little look looking lot made make many may maybe me mean might mine more most much must my myself need
    needed needs never new next nice no nobody none nor not nothing now of off oh ok okay old on once one only
    or other our ours out over own please pretty quick quite rather really right said same say saying see
    seems she shes should shouldnt since so some somebody someone something sorry still such sure take
    than thank thanks that thats the their them then there theres these they theyre thing things think
    this those though through to today tomorrow too um uh er ah hmm mhm up us very via wait want wanted
    wanting wants was wasnt way we well went were what whats when where which while who whoever whom
    whose why will with without wont would wouldnt yeah yes yep yup yet you youd youll your youre yours
    yourself ya nope nah hello bye goodbye alright cool awesome perfect great wonderful excellent
    ridiculous crazy insane terrible horrible awful unacceptable frustrated frustrating annoyed annoying
    upset angry mad happy glad sad busy free available interested calling wondering hoping trying
    shopping locked stuck done finished ready here there home work office speaking talking listening
    urgent important serious emergency fine okay correct wrong true false real
    mr mrs ms miss dr doctor sir maam madam
    wife husband son daughter mom mother dad father kid kids child children boss friend brother sister
    aunt uncle grandma grandmother grandpa grandfather cousin neighbor neighbour roommate tenant landlord
    patient client customer owner manager assistant
    name names number phone email address account card car house appointment insurance policy claim
    problem issue question message voicemail company business
    monday tuesday wednesday thursday friday saturday sunday weekend morning afternoon evening night
    january february march april june july august september october november december
    plus dot dash hyphen underscore extension area code at
    absolutely totally completely honestly seriously literally basically definitely probably certainly
    unbelievable outrageous insane nuts under unit apartment apt suite floor building by way
    """)
    | NUMBER_WORDS
)
_RELATIONS = word_set(
    """wife husband son daughter mom mother dad father kid kids boss friend brother sister aunt uncle
    grandma grandmother grandpa grandfather cousin neighbor neighbour roommate assistant"""
)
# The caller saying, in the turn that gives a name, that they are someone else's relative, or acting for them.
_SOMEONE_ELSES = re.compile(
    r"\b(i'?m|i am|this is) (his|her|their|the) (wife|husband|son|daughter|mom|mother|dad|father|boss|friend|"
    r"brother|sister|assistant|partner|caregiver|secretary|colleague)\b|\bon (his|her|their) behalf\b|"
    r"\b(it'?s|that'?s|is) (for|under) (my|his|her|their)\b",
    re.IGNORECASE,
)
_SOMEONE_ELSES_NEEDS = ("his", "her", "their", "the ", "behalf", "my")
_MAX_NAME_WORDS = 4  # "maria de la cruz"; more than two words is read but never accepted unreviewed
_GREETINGS = word_set("hi hey hello thanks thank you morning afternoon evening")
_AGENT_SELF_NAME = re.compile(r"\b(?:[Tt]his is|I'm|I am|[Mm]y name is|[Nn]ame's)\s+([A-Z][a-z]+)\b")
# Every match holds one of these as written (the pattern is case-sensitive): most agent turns hold none.
_AGENT_SELF_NAME_CUES = ("his is", "I'm", "I am", "y name is", "ame's")
_INTRO_TAILS = word_set("from with calling here")
_HESITATIONS = word_set("actually um uh er ah like just")
# Forms of address and ranks: the word after is a surname ("Officer Bryant", "Dr. Smith"), the title no name.
_HONORIFICS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "doctor",
        "officer",
        "detective",
        "sergeant",
        "sgt",
        "captain",
        "lieutenant",
        "professor",
        "prof",
        "judge",
        "deputy",
        "reverend",
        "pastor",
        "nurse",
        "coach",
    }
)
# "put it under johnson", "book it under okafor": the booking's name follows "under".
_LEAD_INS = word_set(
    "yes yeah yep sure um uh er oh ok okay hi hey hello well so its it is under put book reserve"
)
# Words that may follow a one-word name without hinting at a surname we failed to read.
_NAME_ENDS = word_set("""here speaking please thanks thank again too calling now yes yeah ok okay bye sir maam by
    and from with speaking calling""")
SPELLING_GUESSED = 0.60  # "jon with an h": John? Jonh? The agent writing it back settles it
_FILLER_WORDS = word_set("um uh er ah like")
_THIRD_PARTY = word_set("""his her their hes shes wifes husbands sons daughters moms dads mothers fathers bosss
    friends neighbors neighbours brothers sisters kids childs""")

_NAME_QUESTION = re.compile(
    r"\b(your ((full|first|last|first and last|last and first) )?names?|who am i (speaking|talking) (with|to)|"
    r"who('s| is) (this|calling|speaking)|"
    r"may i (ask|have) who|name,? please|leave your name|get a name|have a name|the name on|"
    r"(patient|caller|customer|client)'?s name|name and (address|number|email|phone|unit))\b",
    re.IGNORECASE,
)
_SPELL_REQUEST = re.compile(r"\bspell\b", re.IGNORECASE)
_SPELL_IT = re.compile(r"\bspell (that|it)\b", re.IGNORECASE)
_SPELL_NEEDS = ("spell",)  # in every phrase of the two patterns above (see `spoken.may_say`)
_SPELL_BOTH = re.compile(r"first and last|full name|your name\b|first name and last", re.IGNORECASE)
_SPELL_LAST = re.compile(r"last name|surname|family name", re.IGNORECASE)
_SPELL_FIRST = re.compile(r"first name", re.IGNORECASE)
_CLAUSE_LEADS = word_set("if whether what where when why how which because think know sure wonder")
# Capitalised words an identity question may end in that are no name ("Is that Correct?").
_NOT_PROPOSED_NAMES = word_set(
    "ok okay correct right fine good great alright sure ready interested available all"
)
_IDENTITY_QUESTION = re.compile(
    r"(?i:\b(?:am i (?:speaking|talking) (?:with|to)|is (?:this|that)(?: you,?)?|are you|"
    r"(?:may|can|could) i (?:speak|talk) (?:with|to)|i'?m looking for|speaking with))\s+"
    r"(?:(?P<honorific>Mr|Mrs|Ms|Miss|Dr)\.?\s+)?(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})"
)
_IDENTITY_NEEDS = ("am i", "is th", "are you", "i speak", "i talk", "looking for", "speaking with")
_NAME_IS_INDEX = phrase_index(
    [("my", "name", "is"), ("my", "names"), ("the", "name", "is"), ("name", "is"), ("my", "name")]
)
# "this is X", "my name is X", ...: the token sequences that introduce a name, and how strongly.
_INTRODUCTIONS: dict[tuple[str, ...], bool] = {
    ("my", "name", "is"): True,
    ("my", "names"): True,
    ("the", "name", "is"): True,
    ("name", "is"): True,
    ("this", "is"): True,
    ("call", "me"): True,
    ("im",): False,
    ("i", "am"): False,
    ("its",): False,
}
_INTRODUCTION_INDEX = phrase_index(_INTRODUCTIONS)
# What may stand right before "name is" when it is the caller's own name ("my name is", "and the name is",
# "yeah name is"); any other word names whose name it is ("the movie name is", "the company name is").
_OWN_NAME_LEAD = word_set(
    "my the your full first last and so yes yeah ok okay um uh er hi hey hello sure oh well its"
)
_UNK_REACH = 3  # characters between a name and a lost word that make them neighbours
# Recognizer placeholders for a word it could not hear: never part of a name.
_UNKNOWN_TOKEN = re.compile(
    r"<\s*unk\s*>|\[\s*unk\s*\]|<\s*unknown\s*>|\[\s*(?:noise|inaudible)\s*\]", re.IGNORECASE
)


@dataclass(slots=True)
class _Part:
    value: str  # as written in the turn (original case), for title-casing later
    confidence: float
    evidence: list[Evidence]
    from_caller: bool = True
    superseded: list[tuple[str, tuple[Evidence, ...]]] = field(default_factory=list)
    guessed: bool = False  # "jon with an h": where the letter goes is our guess ("John")
    spelled: bool = False  # the caller spelled it letter by letter
    # The agent's name for the caller ("Thanks, Ingrid."), not the caller's words: why it waits for review,
    # ECHO_REASON where we read no name of the caller's (`_addressed_by_agent`), DIFFERS_REASON where it
    # replaced a different reading of ours (`_echo`). Never accepted on its own.
    agent_reading: str | None = None

    @property
    def key(self) -> str:
        return _key(self.value)


@dataclass(slots=True)
class _Mention:
    parts: dict[str, _Part]  # "first" / "last"
    turn: int
    corrects: bool = False
    superseded: list[tuple[str, tuple[Evidence, ...]]] = field(default_factory=list)
    # A one-word name followed by one more word that ended the turn ("its andre little"): maybe the surname
    # we could not tell from an ordinary word. The first name stands; the full name waits.
    open_end: bool = False


# Compiled once (these run for every name word): `re.sub(pattern_string, ...)` looks the pattern up each time.
_KEY_IGNORED = re.compile(r"[\s'’-]")
_MC = re.compile(r"\bMc([a-z])")
_SPOKEN_HYPHEN = re.compile(r"\s+(dash|hyphen)\s+", re.IGNORECASE)


def _key(value: str) -> str:
    """Comparison form: case, hyphens, apostrophes and spaces ignored ("Mary-Kate" = "mary kate")."""
    return _KEY_IGNORED.sub("", value).casefold()


def title(value: str) -> str:
    """ "mcgrath" → "McGrath", "mary-kate" → "Mary-Kate", "o'brien" → "O'Brien"."""
    out = value.title() if value.islower() or value.isupper() else value
    return _MC.sub(lambda m: "Mc" + m.group(1).upper(), out)


# -- reading names out of tokens ----------------------------------------------------------------------


def _name_like(token: Token) -> bool:
    word = token.text
    return len(word) >= 2 and word.isalpha() and word not in NON_NAME


# Titles that follow a name without an article ("anne smith ceo of initech", "tom okafor head of operations"):
# they end the name, they are never part of it.
_TITLE_WORDS = word_set(
    "ceo cfo cto coo cmo cio cro vp svp evp president cofounder founder director chairman"
)
_OF_TITLES = word_set("head chief")  # "head of operations": a title only when "of" follows
# Punctuation that ends a name: "anne smith, ceo of ..." / "tom okafor. i'm calling about ...".
_NAME_BREAK = re.compile(r"[,;:!?()]|\.\s")


def _ends_name(text: str, tokens: Sequence[Token], j: int, previous_end: int | None) -> bool:
    """Does token j stop a name being read (after a word ending at `previous_end`, if any)?"""
    word = tokens[j].text
    if word in _TITLE_WORDS:
        return True
    if word in _OF_TITLES and j + 1 < len(tokens) and tokens[j + 1].text == "of":
        return True
    return previous_end is not None and _NAME_BREAK.search(text[previous_end : tokens[j].start]) is not None


def _read_name(text: str, tokens: Sequence[Token], i: int) -> tuple[list[tuple[str, int, int]], int]:
    """Up to four name words from token i: [(word as written, start, end)], and the index after them.

    "mary dash kate" and "mary-kate" read as one word. A comma or full stop ends the name, and so does a
    title ("anne smith, ceo of initech": Anne Smith).
    """
    words: list[tuple[str, int, int]] = []
    j = i
    while (
        j < len(tokens)
        and len(words) < _MAX_NAME_WORDS
        and _name_like(tokens[j])
        and not _ends_name(text, tokens, j, words[-1][2] if words else None)
    ):
        start, end = tokens[j].start, tokens[j].end
        j += 1
        # Hyphenated: written "mary-kate" or said "mary dash kate".
        while j < len(tokens):
            if text[end : tokens[j].start] == "-" and _name_like(tokens[j]):
                end = tokens[j].end
                j += 1
            elif (
                tokens[j].text in ("dash", "hyphen")
                and j + 1 < len(tokens)
                and _name_like(tokens[j + 1])
                and text[tokens[j].end : tokens[j + 1].start].strip() == ""
            ):
                end = tokens[j + 1].end
                j += 2
            else:
                break
        words.append((_spoken_hyphen(text[start:end]), start, end))
    return words, j


def _spoken_hyphen(value: str) -> str:
    return _SPOKEN_HYPHEN.sub("-", value)


def _apply_spelling_notes(
    text: str, tokens: Sequence[Token], words: list[tuple[str, int, int]], after: int
) -> list[tuple[str, int, int, bool]]:
    """ "smyth smith with a y" → smyth; "katherine ochoa katherine with a k" → katherine ochoa; "sara kim
    that's sara with an h" → sarah kim (the letter's place guessed: the fourth item says so).

    A "<word> with a <letter>" note anywhere in the turn fixes the name word it names; a name word that only
    repeats an earlier one as the note's subject ("jon fairbanks jon with an h") is not a third name.
    """
    if (
        len(words) > 1
        and after < len(tokens)
        and tokens[after].text == "with"
        and any(_key(w[0]) == _key(words[-1][0]) for w in words[:-1])
    ):
        words = words[:-1]
    out = [(w, start, end, False) for w, start, end in words]
    for k in range(len(tokens) - 3):
        if (
            tokens[k + 1].text == "with"
            and tokens[k + 2].text in ("a", "an")
            and len(tokens[k + 3].text) == 1
            and tokens[k + 3].text.isalpha()
        ):
            subject, letter = _key(tokens[k].text), tokens[k + 3].text
            for n, (w, start, end, guessed) in enumerate(out):
                if _key(w) == subject:
                    fixed, guess = _with_letter(w, letter)
                    out[n] = (fixed, start, end, guessed or guess)
                    break
    # "mary kate quinn, it's mary dash kate": a later hyphenated spelling joins two words already said.
    for m in _SPOKEN_HYPHEN.finditer(text):
        a, b = m.group(1).casefold(), m.group(2).casefold()
        for k in range(len(out) - 1):
            if _key(out[k][0]) == a and _key(out[k + 1][0]) == b:
                merged = (
                    f"{out[k][0]}-{out[k + 1][0]}",
                    out[k][1],
                    out[k + 1][2],
                    out[k][3] or out[k + 1][3],
                )
                out = [*out[:k], merged, *out[k + 2 :]]
                break
    deduped: list[tuple[str, int, int, bool]] = []
    for item in out:
        if not any(_key(d[0]) == _key(item[0]) for d in deduped):
            deduped.append(item)
    return deduped


_SPOKEN_HYPHEN = re.compile(r"\b([a-z]+)\s+(?:dash|hyphen)\s+([a-z]+)\b", re.IGNORECASE)
# Words between a first name and a surname that belong to the surname ("maria de la cruz").
_PARTICLES = word_set("de la del della van von der den da di le du dos das st bin ibn al el mac ter")


# The letter a "with a <letter>" note is usually about: "smith with a y", "catherine with a k".
_LETTER_SWAPS = {"y": "i", "i": "y", "k": "c", "c": "k"}


def _with_letter(word: str, letter: str) -> tuple[str, bool]:
    """ "smith" with a y → "smyth"; "catherine" with a k → "katherine"; unchanged if it already has it.

    Returns the word and whether the letter's place is a guess: "jon with an h" becomes "John" (after the
    first vowel), "sara with an h" "Sarah" (after a final vowel), and the value waits for review unless the
    agent writes the same spelling back."""
    if letter in word.casefold():
        return word, False
    swap = _LETTER_SWAPS.get(letter)
    idx = word.casefold().find(swap) if swap else -1
    if idx >= 0:
        return word[:idx] + letter + word[idx + 1 :], False
    if letter == "e":
        return word + "e", False  # "ann with an e"
    lower = word.casefold()
    if lower[-1:] in "aeiou":
        return word + letter, True
    vowel = next((n for n, c in enumerate(lower) if c in "aeiou"), -1)
    if vowel < 0:
        return word + letter, True
    return word[: vowel + 1] + letter + word[vowel + 1 :], True


def _mention_from_words(
    words: Sequence[tuple[str, int, int, bool]], turn: int, strong: bool, honorific: bool = False
) -> _Mention | None:
    if not words:
        return None
    evidence = [Evidence(turn, s, e) for _, s, e, _ in words]
    if len(words) == 1:
        base = STRONG_ONE if strong else WEAK_ONE
        role = "last" if honorific else "first"
        return _Mention({role: _part(words[0], base, [evidence[0]])}, turn)
    two = len(words) == 2 or all(_key(w[0]) in _PARTICLES for w in words[1:-1])
    base = (STRONG_TWO if strong else WEAK_TWO) if two else THREE_WORDS
    last_value = " ".join(w for w, _, _, _ in words[1:])
    last_guessed = any(g for _, _, _, g in words[1:])
    last = _Part(
        last_value, min(base, SPELLING_GUESSED) if last_guessed else base, evidence[1:], guessed=last_guessed
    )
    return _Mention({"first": _part(words[0], base, [evidence[0]]), "last": last}, turn)


def _part(word: tuple[str, int, int, bool], base: float, evidence: list[Evidence]) -> _Part:
    value, _, _, guessed = word
    return _Part(value, min(base, SPELLING_GUESSED) if guessed else base, evidence, guessed=guessed)


def agent_names(call: CallRecord) -> frozenset[str]:
    """First names the agent gives itself ("this is Ava"): "hi ava" from the caller is a greeting, not a name."""
    return frozenset(
        m.group(1).casefold()
        for turn in call.turns
        if turn.speaker is Speaker.AGENT and holds_any(turn.text, _AGENT_SELF_NAME_CUES)
        for m in _AGENT_SELF_NAME.finditer(turn.text)
    )


def _skip_lead_ins(tokens: Sequence[Token], i: int, agents: frozenset[str] = frozenset()) -> int:
    while i < len(tokens) and (
        tokens[i].text in _LEAD_INS
        or (tokens[i].text in agents and i > 0 and tokens[i - 1].text in _GREETINGS)
    ):
        i += 1
    return i + (match_phrase(tokens, i, _NAME_IS_INDEX) if i < len(tokens) else 0)


def _caller_mentions(call: CallRecord, i: int, agents: frozenset[str]) -> list[_Mention]:
    """Names the caller gives in turn i: introductions, or a bare answer to a name question."""
    text = call.turns[i].text
    tokens = tokenize(text)
    asked = i > 0 and call.turns[i - 1].speaker is Speaker.AGENT and _asked_name(call.turns[i - 1].text)
    found: list[_Mention] = []
    taken: set[int] = set()
    for k, token in enumerate(tokens):
        if token.text not in _INTRODUCTION_INDEX:
            continue
        n = match_phrase(tokens, k, _INTRODUCTION_INDEX)
        if n:
            phrase = tuple(t.text for t in tokens[k : k + n])
            strong = _INTRODUCTIONS[phrase]
            j = k + n
            if j in taken or not _may_introduce(tokens, k, phrase, asked, agents):
                continue
            if not asked and phrase[-2:] == ("name", "is") and _names_a_thing(call, i, tokens[k].start):
                continue  # "I'd like another dentist: the name is Dental Connection"
            mention = _read_mention(
                text,
                tokens,
                j,
                i,
                strong or asked,
                verbish=phrase in (("im",), ("i", "am")),
                # "it's" is as often "it's broken" or "it's plus four four ..." as a name: unasked, only
                # "it's tom from acme" counts.
                need_tail=phrase == ("its",) and not asked,
            )
            if mention is not None:
                name_start = min(e.start for p in mention.parts.values() for e in p.evidence)
                mention.corrects = has_correction_marker(text, 0, name_start)
                found.append(mention)
                taken.add(j)
    if not found and asked:
        mention = _read_mention(text, tokens, _skip_lead_ins(tokens, 0, agents), i, True)
        if mention is not None:
            if may_say(text, _SOMEONE_ELSES_NEEDS) and _SOMEONE_ELSES.search(text):
                # "Chris Jones is the name on the account, but I'm his wife": the answer names someone else.
                for part in mention.parts.values():
                    part.confidence = min(part.confidence, WEAK_ONE)
            found.append(mention)
    # "frank speaking" at the start of a turn.
    if not found:
        start = _skip_lead_ins(tokens, 0, agents)
        words, j = _read_name(text, tokens, start)
        if words and j < len(tokens) and tokens[j].text == "speaking":
            mention = _mention_from_words([(w, a, b, False) for w, a, b in words], i, True)
            if mention is not None:
                found.append(mention)
    # "its john at smithco dot net": words inside an email address are not a self-introduction.
    # For a glued email ("brendan walsh b walsh at ..."), only the shortest reading is surely the address.
    emails = [(max(r.start for r in e.readings), e.end) for e in find_emails(text)]
    found = [m for m in found if not any(s <= ev.start < e for s, e in emails for ev in _evidence(m))]
    unknowns = _UNKNOWN_TOKEN.finditer(text) if ("<" in text or "[" in text) else ()
    for unknown in unknowns:
        # The recognizer lost a word right next to the name: the name may be cut; a person should look.
        for m in found:
            for part in m.parts.values():
                if any(
                    -_UNK_REACH <= unknown.start() - ev.end <= _UNK_REACH
                    or -_UNK_REACH <= ev.start - unknown.end() <= _UNK_REACH
                    for ev in part.evidence
                ):
                    part.confidence = min(part.confidence, WEAK_ONE)
    return found


def _evidence(mention: _Mention) -> list[Evidence]:
    return [e for part in mention.parts.values() for e in part.evidence]


def _may_introduce(
    tokens: Sequence[Token], k: int, phrase: tuple[str, ...], asked: bool, agents: frozenset[str]
) -> bool:
    """ "it's" and "i'm" introduce a name only at the start of a turn, after greetings and fillers; "name is"
    introduces the caller's own name, not "his name is steve"."""
    if phrase[0] in ("name", "the") and k > 0 and tokens[k - 1].text in _THIRD_PARTY:
        return False
    if phrase[0] == "name" and k > 0 and tokens[k - 1].text not in _OWN_NAME_LEAD:
        return False  # "the correct movie name is mulan", "the restaurant name is": a thing's name
    if phrase == ("this", "is") and k > 0 and tokens[k - 1].text in _CLAUSE_LEADS:
        return False  # "Do you know if this is Premium Economy?": a question about a thing
    if phrase not in (("its",), ("im",), ("i", "am")):
        return True
    return _skip_lead_ins(tokens, 0, agents) >= k


def _read_mention(
    text: str,
    tokens: Sequence[Token],
    j: int,
    turn: int,
    strong: bool,
    *,
    verbish: bool = False,
    need_tail: bool = False,
) -> _Mention | None:
    while j < len(tokens) and tokens[j].text in _HESITATIONS:
        j += 1  # "my name is actually jon", "this is uh walt"
    honorific = j < len(tokens) and tokens[j].text in _HONORIFICS
    if honorific:
        j += 1
    # "it's under okafor": a booking is kept under a surname.
    honorific = honorific or (j > 0 and tokens[j - 1].text == "under")
    words, after = _read_name(text, tokens, j)
    if not words:
        return None
    # "mike um mike sorensen": a restart after a filler repeats the name and goes on.
    if (
        after + 1 < len(tokens)
        and tokens[after].text in _HESITATIONS | _FILLER_WORDS
        and _key(tokens[after + 1].text) == _key(words[0][0])
    ):
        again, after_again = _read_name(text, tokens, after + 1)
        if len(again) > len(words):
            words, after = again, after_again
    if verbish and any(w.casefold().endswith(("ing", "ed")) for w, _, _ in words):
        return None  # "i'm shopping around", "i'm locked out"
    if after < len(tokens) and tokens[after].text in _RELATIONS:
        return None  # "this is john's wife": a third party's name
    if after < len(tokens) and tokens[after].text == "s" and text[tokens[after].start - 1] in "'’":
        return None
    if any(w.endswith(("'s", "’s")) for w, _, _ in words):
        return None  # "i'm tom hanks's biggest fan": a possessive names someone else
    noted = _apply_spelling_notes(text, tokens, words, after)
    # "it's tom from acme", "i'm dana with northwind": a name followed by where the caller is from reads as
    # an introduction even after the weak "it's" / "i'm".
    tail = after < len(tokens) and tokens[after].text in _INTRO_TAILS
    if need_tail and not tail:
        return None
    mention = _mention_from_words(noted, turn, strong or tail, honorific)
    if mention is not None and len(noted) == 1 and after + 1 == len(tokens):
        last = tokens[after].text
        mention.open_end = last.isalpha() and len(last) > 1 and last not in _NAME_ENDS | _HESITATIONS
    return mention


_NAME_PLEASE = re.compile(r"\W*name\b", re.IGNORECASE)  # "Name please?"
# A provider, place or thing being talked about: "the name is ..." right after names it, not the caller.
_THING = re.compile(
    r"\b(dentist|doctor|dr|physician|therapist|psychiatrist|stylist|salon|restaurant|hotel|house|apartment|"
    r"movie|film|event|venue|place|clinic|company|business|shop|store|theater|theatre|airline|property)s?\b",
    re.IGNORECASE,
)


def _names_a_thing(call: CallRecord, i: int, at: int) -> bool:
    """Unasked, does "the name is" at `at` in caller turn i name the provider or place just talked about (in the
    same sentence before it, or in the agent's question before the turn)?"""
    text = call.turns[i].text
    s, _ = sentence_at(text, at)
    if _THING.search(text, s, at) is not None:
        return True
    asked = question_before(call, i)
    return asked is not None and _THING.search(asked[0], asked[1][0], asked[1][1]) is not None


def _asks_name(agent_text: str) -> bool:
    lower = agent_text.lower()
    if "name" not in lower and "who" not in lower:
        return False
    return _NAME_QUESTION.search(agent_text) is not None or _NAME_PLEASE.match(agent_text) is not None


_asked_name = per_text(
    "asks_name", _asks_name
)  # asked of the turn before each caller turn, by names and company


def asks_for_name(agent_text: str) -> bool:
    """Does the agent's turn ask who is calling ("Who am I speaking with?", "Can I get your name?")?"""
    return _asked_name(agent_text)


# -- the agent's identity question ----------------------------------------------------------------------


def _questions_answered(
    call: CallRecord, callers: set[int]
) -> Iterator[tuple[int, str, tuple[int, int], re.Match[str] | None]]:
    """Each caller turn right after an agent question: the turn, the question, its last sentence's span, and
    the identity question in that sentence ("Am I speaking with ...?"), if any."""
    for i in sorted(callers):
        asked = question_before(call, i)
        if asked is None:
            continue
        question, last = asked
        m = (
            _IDENTITY_QUESTION.search(question, last[0], last[1])
            if may_say(question, _IDENTITY_NEEDS)
            else None
        )
        yield i, question, last, m


def _identity_mentions(call: CallRecord, callers: set[int]) -> list[_Mention]:
    """ "Am I speaking with Frank Castellano?" answered "yeah speaking" / "this is she" / "yes, hannah lindqvist"."""
    out: list[_Mention] = []
    for i, question, last, m in _questions_answered(call, callers):
        if m is None:
            proposed = _part_proposal(call, i, question, last)
            if proposed is not None:
                out.append(proposed)
            continue
        reaction, span = classify_reaction(call.turns[i].text)
        if reaction is not Reaction.CONFIRM or span is None:
            continue
        if m.group("name").split()[0].casefold() in _NOT_PROPOSED_NAMES:
            continue  # "Is that Okay?", "Are you OK with shared rides?": no name proposed
        offset = m.start("name")
        words = [
            (w.group(), Evidence(i - 1, offset + w.start(), offset + w.end()))
            for w in re.finditer(r"\S+", m.group("name"))
        ]
        confirm_ev = Evidence(i, span[0], span[1])
        text = call.turns[i].text
        tokens = tokenize(text)
        after = next((k for k, t in enumerate(tokens) if t.start >= span[1]), len(tokens))
        said = _read_mention(text, tokens, _skip_lead_ins(tokens, after), i, True)
        proposal = _proposal(words, confirm_ev, honorific=bool(m.group("honorific")))
        if said is None:
            # "Is this Hana?" - "yeah i had with the": a few words after the yes that read as no name may be
            # the surname misheard; the first name stands, the whole name waits (as `open_end` says). A
            # longer answer is a sentence about something else ("yeah that's the problem, can we ...").
            rest = [t for t in tokens[after:] if t.text.isalpha()]
            out.append(_Mention(proposal, i, open_end="last" not in proposal and 2 <= len(rest) <= 4))
            continue
        if not _consistent(said.parts, proposal, nicknames=True):
            out.append(said)  # the caller's own words win over the agent's guess
            continue
        for role, part in said.parts.items():
            part.confidence = max(part.confidence, IDENTITY_CONFIRMED)
            offered = proposal.get(role)
            if offered is not None and offered.key != part.key:
                # "Is this Robert?" - "yeah this is rob": the caller confirmed Robert in a short form.
                part.value = offered.value
                part.evidence = [*offered.evidence, *part.evidence]
        for role, part in proposal.items():
            said.parts.setdefault(role, part)
        out.append(said)
    return out


# "And the last name is Brookfield?", "Your first name, Dana?": a name part the agent proposes.
_PART_QUESTION = re.compile(
    r"(?i:\b(?P<role>last name|surname|family name|first name)(?: is| was|,| would be| should be)?)\s+"
    r"(?P<name>[A-Z][\w'’-]+(?:-[A-Z][\w'’-]+)?)\s*\?"
)
_PART_NEEDS = ("name",)


def _part_proposal(call: CallRecord, i: int, question: str, last: tuple[int, int]) -> _Mention | None:
    """A name part the agent proposed as a question and the caller confirmed with a plain "yes"."""
    if not may_say(question, _PART_NEEDS):
        return None
    m = _PART_QUESTION.search(question, last[0], last[1])
    if m is None:
        return None
    reaction, span = classify_reaction(call.turns[i].text)
    if reaction is not Reaction.CONFIRM or span is None:
        return None
    role = "first" if m.group("role").casefold() == "first name" else "last"
    evidence = [Evidence(i - 1, m.start("name"), m.end("name")), Evidence(i, span[0], span[1])]
    part = _Part(m.group("name"), IDENTITY_CONFIRMED, evidence, from_caller=False)
    return _Mention({role: part}, i)


def _proposal(words: list[tuple[str, Evidence]], confirm: Evidence, *, honorific: bool) -> dict[str, _Part]:
    """The name the agent proposed, as parts whose evidence is the agent's word and the caller's "yes"."""

    def part(chosen: list[tuple[str, Evidence]]) -> _Part:
        value = " ".join(w for w, _ in chosen)
        return _Part(value, IDENTITY_CONFIRMED, [*(e for _, e in chosen), confirm], from_caller=False)

    if honorific:
        return {"last": part(words[-1:])}
    if len(words) == 1:
        return {"first": part(words)}
    return {"first": part(words[:1]), "last": part(words[1:])}


def _consistent(a: dict[str, _Part], b: dict[str, _Part], *, nicknames: bool = False) -> bool:
    shared = set(a) & set(b)
    return bool(shared) and all(_same_part(r, a[r], b[r], nicknames) for r in shared)


def _same_part(role: str, a: _Part, b: _Part, nicknames: bool) -> bool:
    if a.key == b.key:
        return True
    # "rob" for Robert, "jen" for Jennifer: a short form the caller uses for the first name offered.
    short, full = sorted((a.key, b.key), key=len)
    return nicknames and role == "first" and len(short) >= 3 and full.startswith(short)


# -- spelling -----------------------------------------------------------------------------------------


def _spell_targets(agent_text: str) -> list[str]:
    if not (may_say(agent_text, _SPELL_NEEDS) and _SPELL_REQUEST.search(agent_text)):
        return []
    if _SPELL_BOTH.search(agent_text):
        return ["first", "last"]
    if _SPELL_LAST.search(agent_text):
        return ["last"]
    if _SPELL_FIRST.search(agent_text):
        return ["first"]
    return []


_NOT_A_TO_Z = re.compile(r"[^a-z]")  # compiled once: this runs for every caller turn after the name


_EMAIL_WORD = re.compile(r"\be-?mail\b", re.IGNORECASE)
_EMAIL_NEEDS = ("mail",)


def _asks_email_not_name(agent_text: str) -> bool:
    # The two plain substring tests first: most agent turns fail one of them.
    return (
        "name" not in agent_text
        and may_say(agent_text, _EMAIL_NEEDS)
        and _EMAIL_WORD.search(agent_text) is not None
    )


def _apply_spellings(call: CallRecord, callers: set[int], current: _Mention) -> None:
    for i, turn in enumerate(call.turns):
        if i < current.turn:
            continue
        if turn.speaker is Speaker.AGENT:
            _apply_agent_spelling(call, i, current)
            continue
        if i not in callers:
            continue
        targets: list[str] = []
        if i > 0 and call.turns[i - 1].speaker is Speaker.AGENT:
            if _asks_email_not_name(call.turns[i - 1].text):
                continue  # letters in answer to "what's your email?" spell the email, whatever we read of it
            targets = _spell_targets(call.turns[i - 1].text)
            if (
                not targets
                and may_say(call.turns[i - 1].text, _SPELL_NEEDS)
                and _SPELL_IT.search(call.turns[i - 1].text)
            ):
                # "Could you spell that?" right after the name: its parts, in order.
                targets = [r for r in ("first", "last") if r in current.parts]
        spelled = find_spelled_runs(turn.text, min_letters=2 if targets else 3)
        if not spelled:
            continue  # most turns: no need to read their emails
        emails = find_emails(turn.text)
        # Letters that spell an email's local part ("o s i d d i q u i") belong to the email, not the name.
        locals_ = {_NOT_A_TO_Z.sub("", r.value.split("@")[0]) for e in emails for r in e.readings}
        runs = [
            r
            for r in spelled
            if not any(e.start <= r.start < e.end for e in emails) and r.letters not in locals_
        ]
        if not runs:
            continue
        if targets and len(runs) == len(targets):
            for role, run in zip(targets, runs, strict=True):
                _spelled(current, role, run.letters, Evidence(i, run.start, run.end))
            continue
        for run in runs:
            _spelled(current, None, run.letters, Evidence(i, run.start, run.end))


def _apply_agent_spelling(call: CallRecord, i: int, current: _Mention) -> None:
    """ "So that's S-M-Y-T-H?" - "yes": a confirmed agent spelling counts as the caller's."""
    text = call.turns[i].text
    if not text.rstrip().endswith("?"):
        return
    if i + 1 >= len(call.turns) or call.turns[i + 1].speaker is not Speaker.CALLER:
        return
    runs = find_spelled_runs(text)
    if not runs:
        return
    reaction, span = classify_reaction(call.turns[i + 1].text)
    if reaction is not Reaction.CONFIRM or span is None:
        return
    for run in runs:
        ev = Evidence(i, run.start, run.end)
        _spelled(current, None, run.letters, ev, extra=Evidence(i + 1, span[0], span[1]))


def _spelled(
    current: _Mention, role: str | None, letters: str, ev: Evidence, extra: Evidence | None = None
) -> None:
    evidence = [ev] if extra is None else [ev, extra]
    parts = current.parts
    # "w e i c h e n" after "wei chen": the whole name spelled in one go.
    if "first" in parts and "last" in parts and letters == parts["first"].key + parts["last"].key:
        for whole in parts.values():
            _boost(whole, evidence)
        return
    if role is None:
        role = next((r for r, p in parts.items() if p.key == letters), None)
        if role is None and _spells_both_heard(parts, letters):
            # "sham bray" then c-h-a-m-b-r-a-y: one word the recognizer heard as two. Which part of the name
            # it is, nobody said: it waits for review as a surname, the words heard are no name.
            current.superseded.append((_full(current), tuple(_evidence(current))))
            heard_both = [parts.pop("first"), parts.pop("last")]
            spelled_part = _Part(letters, SPELLING_GUESSED, evidence, spelled=True, guessed=True)
            spelled_part.superseded = [(title(h.value), tuple(h.evidence)) for h in heard_both]
            parts["last"] = spelled_part
            return
        if role is None:
            close = [r for r, p in parts.items() if _similarity(p.key, letters) >= SIMILAR_SPELLING]
            if len(close) != 1:
                return
            role = close[0]
    heard = parts.get(role)
    if heard is None:
        parts[role] = _Part(letters, SPELLED_VALUE, evidence, spelled=True)
    elif heard.key == letters:
        pieces = heard.value.casefold().split()
        if len(pieces) > 1 and "-" not in heard.value and _PARTICLES.isdisjoint(pieces[:-1]):
            # "okon kwo" spelled o-k-o-n-k-w-o: the recognizer split one word; the spelling joins it.
            heard.value = letters
            heard.confidence = max(heard.confidence, SPELLED_VALUE)
        _boost(heard, evidence)
        heard.spelled, heard.guessed = True, False
    else:
        # What the caller spells beats what the recognizer heard ("shavon" spelled s-i-o-b-h-a-n).
        current.superseded.append((_full(current), tuple(_evidence(current))))
        spelled = _Part(letters, max(heard.confidence, SPELLED_VALUE), evidence, spelled=True)
        spelled.superseded = [*heard.superseded, (title(heard.value), tuple(heard.evidence))]
        parts[role] = spelled


def _spells_both_heard(parts: dict[str, _Part], letters: str) -> bool:
    """Do the letters spell the two heard words as one: like both together, and nearer their joint length
    than either word's ("sham bray" / c-h-a-m-b-r-a-y, "okon quo" / o-k-o-n-k-w-o)?"""
    if "first" not in parts or "last" not in parts:
        return False
    joined = parts["first"].key + parts["last"].key
    if _similarity(joined, letters) < SIMILAR_SPELLING:
        return False
    gap = abs(len(letters) - len(joined))
    return all(gap < abs(len(letters) - len(p.key)) for p in parts.values())


def _boost(part: _Part, evidence: list[Evidence]) -> None:
    part.confidence = clamp(part.confidence + SPELLED_BOOST)
    part.evidence.extend(e for e in evidence if e not in part.evidence)


def _similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


# -- putting it together ----------------------------------------------------------------------------


def _merge(mentions: list[_Mention]) -> _Mention | None:
    current: _Mention | None = None
    for m in sorted(mentions, key=lambda x: x.turn):
        if current is None:
            current = m
        elif _consistent(current.parts, m.parts, nicknames=True) or not set(current.parts) & set(m.parts):
            # Same name again, or the part we were missing ("its john" ... "Mr. Smith"), or the short form
            # of the first name the agent asked about ("this is rob" ... "Is this Robert?" - "yeah").
            for role, part in m.parts.items():
                mine = current.parts.get(role)
                if mine is None:
                    current.parts[role] = part
                else:
                    if mine.key != part.key and len(part.key) > len(mine.key):
                        mine.value = part.value
                    mine.confidence = clamp(max(mine.confidence, part.confidence) + REPEAT_BOOST)
                    mine.evidence.extend(e for e in part.evidence if e not in mine.evidence)
        elif not m.corrects and max(p.confidence for p in m.parts.values()) <= WEAK_ONE:
            continue  # a weak reading that disagrees is more likely our misreading than a second name
        elif m.corrects:
            m.superseded = [*current.superseded, (_full(current), tuple(_evidence(current)))]
            for role, part in m.parts.items():
                old = current.parts.get(role)
                if old is not None and old.key != part.key:
                    part.superseded = [*old.superseded, (title(old.value), tuple(old.evidence))]
            current = m
        else:
            _conflict(current)
    return current


def _conflict(current: _Mention) -> None:
    for part in current.parts.values():
        part.confidence = min(part.confidence, CONFLICT_CAP)


# The agent addressing the caller by a first name: "Thanks, Priya." / "Thank you, Mary Ann." / "Hi Natalie!"
_ADDRESSED = re.compile(
    r"\b(?:Thanks|Thank you|Hi|Hello|Great|Okay|Perfect|Got it|Sorry|Welcome|Nice to meet you),? "
    r"(?P<name>[A-Z][a-z'’]+(?:[ -][A-Z][a-z'’]+)?)\b"
)


def _echo(call: CallRecord, current: _Mention, agents: frozenset[str]) -> None:
    """What the agent calls the caller next backs our reading, settles it, or contradicts it.

    "Thanks, Priya" shows the words were a name (not "i'm totally lost"), so it lifts the whole name.
    "Thank you, Mary Ann" tells where a three-word name splits. "Thanks, Sarah" writes back the spelling we
    guessed from "sara with an h". "Thank you, Caitlin" when we heard "katelyn" means one of us misheard:
    our reading waits for review (unless the caller spelled it)."""
    first = current.parts.get("first")
    if first is None or not first.from_caller:
        return
    next_turn = True  # the agent's next turn is read whole; later ones only for the name it calls the caller
    for i in range(current.turn + 1, len(call.turns)):
        turn = call.turns[i]
        if turn.speaker is not Speaker.AGENT:
            continue
        if not next_turn:
            _later_vocative(turn.text, i, current, agents)
            if current.parts["first"] is not first or first.evidence[-1].turn == i:
                return
            continue
        next_turn = False
        _settle_double_first(turn.text, i, current)
        first = current.parts["first"]
        m = re.search(rf"\b{re.escape(title(first.value))}\b", turn.text)
        if m:
            echo = Evidence(i, m.start(), m.end())
            if first.guessed:
                first.guessed = False
                first.confidence = max(first.confidence, STRONG_TWO)
            _backed_by_agent(current, first, echo)
            return
        other = _VOCATIVE.search(turn.text)
        if other is None or other.group("name").casefold() in NON_NAME:  # "Sure, Tuesday, October 6th?"
            other = _ADDRESSED.search(turn.text)
        if other is not None:
            said = other.group("name").split()[0]
            key = said.casefold()
            if key not in _HONORIFICS and key not in agents and not first.spelled and key != first.key:
                first.confidence = min(first.confidence, CONFLICT_CAP)
                if key not in NON_NAME and first.from_caller:
                    # One of us misheard, and on recognizer text it is almost always us: the agent's name
                    # for the caller is offered for review, ours kept as what it replaced.
                    start = other.start("name")
                    current.parts["first"] = _agents_reading(
                        first, said, Evidence(i, start, start + len(said))
                    )
            return


def _later_vocative(text: str, i: int, current: _Mention, agents: frozenset[str]) -> None:
    """A later agent turn calling the caller by name ("You're welcome, Larry. Have a great day."): the same
    first name as ours backs it, as the next turn's would; another one is the agent's reading, offered for
    review in ours' place. A name merely mentioned later ("Larry will call you back") is neither: it may be
    someone else's."""
    first = current.parts["first"]
    v = _VOCATIVE.search(text)
    if v is None:
        return
    said = v.group("name")
    key = said.casefold()
    if key in _HONORIFICS or key in agents or key in NON_NAME:
        return
    start = v.start("name")
    evidence = Evidence(i, start, start + len(said))
    if key == first.key:
        _backed_by_agent(current, first, evidence)
    elif not first.spelled:
        current.parts["first"] = _agents_reading(first, said, evidence)


def _backed_by_agent(current: _Mention, part: _Part, evidence: Evidence) -> None:
    """The agent called the caller by our reading of `part`: it lifts every part the caller said."""
    for said in current.parts.values():
        if said.from_caller:
            said.confidence = clamp(said.confidence + ECHO_BOOST)
    part.evidence.append(evidence)


def _agents_reading(ours: _Part, said: str, evidence: Evidence) -> _Part:
    """The agent's different reading of a part of ours, offered for review in its place (capped, whatever
    either side's confidence), ours kept as what it replaced."""
    return _Part(
        said,
        min(ours.confidence, CONFLICT_CAP),
        [evidence],
        from_caller=False,
        superseded=[*ours.superseded, (title(ours.value), tuple(ours.evidence))],
        agent_reading=DIFFERS_REASON,
    )


# The agent addressing the caller at the end of an acknowledgement, the name closing its phrase: "Thanks,
# Ingrid.", "You're welcome, Larry.", "Hi Natalie!", "Got it, Devon, you're booked". Wider than `_ADDRESSED`
# (any case for the acknowledgement, more of them) and stricter on the end (punctuation after the name).
_VOCATIVE_LEAD = (
    r"(?:\b(?i:thanks|thank you|hi|hello|hey|great|okay|ok|perfect|got it|sorry|welcome|nice to meet you|"
    r"wonderful|lovely|sure|no problem|understood|absolutely|of course|good (?:morning|afternoon|evening)|"
    r"all (?:booked|set|done)),? "
    # ... or closing a phrase said to the caller: "the best email for you, Jessica?", "Is that you, Chloe?",
    # "And your number, Trevor?", "Is that right, Dana?"
    r"|(?:\byou|\byour [a-z]+(?: [a-z]+)?|\b(?i:right|correct)"
    # "And the best number, Cody?", "And a phone number, Beth?"
    r"|\b(?:the|a|an) (?:best |good )?(?:phone |contact |callback )?(?:number|email(?: address)?)), )"
)
_VOCATIVE = re.compile(_VOCATIVE_LEAD + r"(?P<name>[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?)(?=[.!?,])")
# The same with a courtesy title, naming the surname: "Thank you, Ms. Ochoa, you're verified.", "Thank you
# for your patience, Ms. Mendez.", "Thank you, Ms. De La Cruz." Not "Dr.": "with Dr. Reyes" is the
# business's doctor far more often than the caller.
_SURNAME_VOCATIVE = re.compile(
    _VOCATIVE_LEAD + r"(?:Mr|Mrs|Ms|Miss|Mx)\.? "
    r"(?P<name>[A-Z][a-z'’]+(?: [A-Z][a-z'’]+){0,2}(?:-[A-Z][a-z'’]+)?)(?=[.!?,])"
)


def _agent_answers(call: CallRecord, after: int) -> Iterator[int]:
    """The agent turns after turn `after` that answer the caller (not going on from the agent's own turn)."""
    for i in range(after + 1, len(call.turns)):
        if call.turns[i].speaker is Speaker.AGENT and call.turns[i - 1].speaker is not Speaker.AGENT:
            yield i


def _addressed_by_agent(call: CallRecord, callers: set[int], agents: frozenset[str]) -> _Mention | None:
    """The first name the agent calls the caller by, once the caller has spoken ("Thanks, Ingrid.", "Hi
    Natalie!", "You're welcome, Larry."), for a call whose caller turns held no name we could read.

    On recognizer text the caller's name is the word most often misheard ("battling it hurt" for Natalie
    Okafor), while the agent's words are the bot's own text: its name for the caller is the only clean
    record of what the caller said. It is the bot's hearing, unchecked, so it waits for review (reason
    `agent_echo_unconfirmed`), and only the first name: an agent addresses people by it. Not the agent's
    own name, not an honorific ("Ms. Mendez" is read by the identity rules), not a listed word."""
    if not callers:
        return None
    for i in _agent_answers(call, min(callers)):
        m = _VOCATIVE.search(call.turns[i].text)
        if m is None:
            continue
        name = m.group("name")
        key = name.casefold()
        if key in _HONORIFICS or key in agents or key in NON_NAME:
            return None
        start = m.start("name")
        evidence = [Evidence(i, start, start + len(name))]
        part = _Part(name, ECHO_ONLY, evidence, from_caller=False, agent_reading=ECHO_REASON)
        return _Mention({"first": part}, i)
    return None


_COURTESY_TITLE = re.compile(r"\bM(?:rs?|s|iss|x)\b")


def _addressed_surname(call: CallRecord, after: int, agents: frozenset[str]) -> tuple[str, Evidence] | None:
    """The surname the agent calls the caller by, with a courtesy title ("Thank you, Mr. Chen."), in an agent
    turn answering the caller after turn `after`."""
    for i in _agent_answers(call, after):
        text = call.turns[i].text
        if "M" not in text or _COURTESY_TITLE.search(text) is None:
            continue  # most turns hold none: a small scan spares the long one
        m = _SURNAME_VOCATIVE.search(text)
        if m is None:
            continue
        name = m.group("name")
        if name.casefold() in agents or name.casefold() in NON_NAME:
            return None
        start = m.start("name")
        return name, Evidence(i, start, start + len(name))
    return None


def _surname_echo(call: CallRecord, current: _Mention, agents: frozenset[str]) -> None:
    """The agent's surname for the caller, checked against ours as `_echo` checks the first name: the same
    backs it; another one is offered for review in ours' place unless the caller spelled it; with none of
    ours, it is the surname for review (the agent's hearing, unchecked)."""
    found = _addressed_surname(call, current.turn, agents)
    if found is None:
        return
    name, evidence = found
    last = current.parts.get("last")
    if last is None:
        current.parts["last"] = _Part(
            name, ECHO_ONLY, [evidence], from_caller=False, agent_reading=ECHO_REASON
        )
    elif last.key == _key(name):
        if last.from_caller:
            last.confidence = clamp(last.confidence + ECHO_BOOST)
        last.evidence.append(evidence)
    elif not last.spelled and last.from_caller:
        current.parts["last"] = _agents_reading(last, name, evidence)


# The agent, after asking for someone by name, speaking of them as another person or of a wrong number: the
# person asked for is not the caller ("I'm looking for Denise Carter. Is she available?").
_NOT_THE_ONE_ASKED = re.compile(
    r"(?i:\b(?:is (?:she|he|they) (?:available|there|home|in)|looking for|wrong (?:number|person)|"
    r"(?:she|he|they) (?:isn'?t|is not|aren'?t)|sorry to bother|who am i speaking)\b)"
)


def _asked_for_unanswered(call: CallRecord, callers: set[int]) -> _Mention | None:
    """The person the agent asked for ("Am I speaking with Gloria Mendez?", "Is this Priyanka?") when the
    caller's reply was neither a yes nor a no we could read (on recognizer text, "the fifty") and the agent
    went on as with that person (it did not ask again, nor speak of them as someone else). The bot's
    understanding of the reply, unchecked: for review (`agent_echo_unconfirmed`), never accepted."""
    for i, _, _, m in _questions_answered(call, callers):
        if m is None or m.group("honorific"):
            continue
        if classify_reaction(call.turns[i].text)[0] is not Reaction.NEUTRAL:
            return None  # a yes or a no: the identity rules read it
        nxt = i + 1
        if nxt >= len(call.turns) or call.turns[nxt].speaker is not Speaker.AGENT:
            return None
        following = call.turns[nxt].text
        words = m.group("name").split()
        if _NOT_THE_ONE_ASKED.search(following) or words[0] in following:
            return None
        start = m.start("name")
        parts: dict[str, _Part] = {}
        for role, chosen in (("first", words[:1]), ("last", words[1:])):
            if not chosen or any(w.casefold() in NON_NAME for w in chosen):
                continue
            offset = start + m.group("name").index(chosen[0])
            value = " ".join(chosen)
            ev = Evidence(i - 1, offset, offset + len(value))
            parts[role] = _Part(value, ECHO_ONLY, [ev], from_caller=False, agent_reading=ECHO_REASON)
        return _Mention(parts, i) if parts else None
    return None


def _settle_double_first(text: str, turn: int, current: _Mention) -> None:
    """ "mary ann stokes" read as Mary / Ann Stokes, and the agent says "Mary Ann": the split moves."""
    first, last = current.parts.get("first"), current.parts.get("last")
    if first is None or last is None or len(last.value.split()) < 2 or len(last.evidence) < 2:
        return
    second = last.value.split()[0]
    pattern = rf"\b{re.escape(title(first.value))}[ -]{re.escape(title(second))}\b"
    m = re.search(pattern, text)
    if m is None:
        return
    first.value = f"{first.value} {second}"
    first.evidence = [*first.evidence, last.evidence[0], Evidence(turn, m.start(), m.end())]
    last.value = " ".join(last.value.split()[1:])
    last.evidence = last.evidence[1:]
    for part in (first, last):
        part.confidence = max(part.confidence, STRONG_TWO)


def extract_names(call: CallRecord) -> dict[str, FieldValue]:
    callers = set(caller_turns(call))
    agents = agent_names(call)
    mentions: list[_Mention] = []
    for i in sorted(callers):
        mentions.extend(_caller_mentions(call, i, agents))
    mentions.extend(_identity_mentions(call, callers))
    current = _merge(mentions)
    if current is None:
        current = _addressed_by_agent(call, callers, agents) or _asked_for_unanswered(call, callers)
        if current is None and callers:
            current = _Mention({}, min(callers))
        if current is not None:
            _surname_echo(call, current, agents)
        return _fields(current) if current is not None and current.parts else {}
    _apply_spellings(call, callers, current)
    _echo(call, current, agents)
    _surname_echo(call, current, agents)
    return _fields(current)


def _full(mention: _Mention) -> str:
    """ "First Last", or the one part that is known (dev-calls README)."""
    return " ".join(title(mention.parts[r].value) for r in ("first", "last") if r in mention.parts)


def _fields(current: _Mention) -> dict[str, FieldValue]:
    out: dict[str, FieldValue] = {}
    parts = [(role, current.parts[role]) for role in ("first", "last") if role in current.parts]
    for role, part in parts:
        out[f"{role}_name"] = _field_value(
            f"{role}_name",
            title(part.value),
            part.confidence,
            part.evidence,
            part.superseded,
            part.agent_reading,
        )
    if all(part.agent_reading for _, part in parts) and len(parts) < 2:
        return out  # one part the agent used says nothing of the whole name
    reason = next((part.agent_reading for _, part in parts if part.agent_reading), None)
    full_conf = min(p.confidence for _, p in parts)
    if current.open_end and "last" not in current.parts:
        full_conf = min(full_conf, CONFLICT_CAP)  # "its andre little": a surname we could not tell apart
    out["full_name"] = _field_value(
        "full_name", _full(current), full_conf, _evidence(current), current.superseded, reason
    )
    return out


def _field_value(
    name: str,
    value: str,
    confidence: float,
    evidence: Sequence[Evidence],
    superseded: Sequence[tuple[str, tuple[Evidence, ...]]] = (),
    review_reason: str | None = None,
) -> FieldValue:
    status = status_for(name, confidence)
    unique = sorted(set(evidence), key=lambda e: (e.turn, e.start, e.end))
    return FieldValue(
        value=value,
        confidence=confidence,
        evidence=tuple(unique),
        extractor=EXTRACTOR,
        status=status,
        reason=None if status is FieldStatus.ACCEPTED else review_reason or "low_confidence",
        superseded=tuple(superseded),
    )
