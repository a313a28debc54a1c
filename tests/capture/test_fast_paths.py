"""The extractor's cheap pre-checks never change an answer: each only skips work that could find nothing."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callsync.capture.extract import (
    callback,
    company,
    dialogue,
    job_title,
    labels,
    name,
    reference,
    spoken,
    when,
)
from callsync.capture.extract.spoken import Token, joined, may_say
from tests.capture import make_call

# (pattern, the words `may_say` looks for before running it)
GATED: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (job_title.ROLE_QUESTION, job_title._ROLE_QUESTION_NEEDS),
    (company._COMPANY_QUESTION, company._COMPANY_QUESTION_NEEDS),
    (callback._CALLER_ASKS, callback._CALLER_ASKS_NEEDS),
    (callback._AGENT_WILL_CALL, callback._AGENT_WILL_CALL_NEEDS),
    (when._CANCEL, when._CANCEL_NEEDS),
    (name._SPELL_REQUEST, name._SPELL_NEEDS),
    (name._SPELL_IT, name._SPELL_NEEDS),
    (when._CALLER_CANCEL, when._CALLER_CANCEL_NEEDS),
    (when._DONE, when._DONE_NEEDS),
    (name._SOMEONE_ELSES, name._SOMEONE_ELSES_NEEDS),
    (when._ASKS_CONFIRM, when._CONFIRMS_NEEDS),
    (when._RIDE, when._RIDE_NEEDS),
    (when._ASKS_END, when._ASKS_END_NEEDS),
    (when._CHANGED_TO, when._CHANGED_TO_NEEDS),
    (when._SCHEDULED_TOPIC, when._SCHEDULED_TOPIC_NEEDS),
    (dialogue._ASKS_THEIR_NUMBER, dialogue._ASKS_THEIR_NUMBER_NEEDS),
    (spoken._REPEAT_WORD, spoken._REPEAT_NEEDS),
    (name._IDENTITY_QUESTION, name._IDENTITY_NEEDS),
    (name._PART_QUESTION, name._PART_NEEDS),
    (name._EMAIL_WORD, name._EMAIL_NEEDS),
]


@given(data=st.data())
def test_a_gated_pattern_only_matches_text_holding_one_of_its_words(data: st.DataObject) -> None:
    for pattern, needles in GATED:
        # Any ASCII text the pattern matches (hypothesis writes them from the pattern itself, in any case).
        text = data.draw(st.from_regex(pattern, alphabet=st.characters(max_codepoint=127)))
        assert pattern.search(text) is not None
        assert may_say(text, needles), (pattern.pattern, text)


# Apart from GATED: these patterns are long (writing texts from them is slow) or hold word boundaries that
# most drawn texts miss.
LONG_GATED: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (when._FAILED, when._FAILED_NEEDS),
    (when._ANOTHER_TASK, when._ANOTHER_TASK_NEEDS),
    (when._TO_CALENDAR, when._TO_CALENDAR_NEEDS),
]


# Built once: building a strategy from a long pattern costs more than drawing from it.
_LONG_TEXTS = {p.pattern: st.from_regex(p, alphabet=st.characters(max_codepoint=127)) for p, _ in LONG_GATED}


@pytest.mark.parametrize(("pattern", "needles"), LONG_GATED, ids=["failed", "another_task", "to_calendar"])
@settings(
    max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], deadline=None
)
@given(data=st.data())
def test_a_long_gated_pattern_only_matches_text_holding_one_of_its_words(
    pattern: re.Pattern[str], needles: tuple[str, ...], data: st.DataObject
) -> None:
    text = data.draw(_LONG_TEXTS[pattern.pattern])
    assert pattern.search(text) is not None
    assert may_say(text, needles), text


# The spelling hint as one pattern that starts with its look-behind (slow to scan, plain to read).
_PLAIN_SPELLING_HINT = re.compile(
    r"(?<![^\W\d_])[^\W\d_](?![^\W\d_])[\s.,-]+(?:[^\W\d_](?![^\W\d_])|as in|"
    + "|".join(spoken.LETTER_NAMES)
    + r")|\b(double|triple)\b",
    re.IGNORECASE,
)


@settings(max_examples=500)
@given(
    text=st.lists(st.sampled_from([*"abdsAB19_'’ .,-–\né\u212a", "as in", "ess", "double"])).map("".join)
    | st.from_regex(_PLAIN_SPELLING_HINT)
)
def test_the_spelling_hint_finds_what_the_plain_pattern_finds(text: str) -> None:
    found = _PLAIN_SPELLING_HINT.search(text) is not None
    assert spoken._holds_spelling_hint(text) == found, text


_ID_PIECES = [*"abo5²_- .,", "oh", "o", "two", "double", "triple", "twenty", "dash", "order", "ABC"]


@settings(max_examples=300)
@given(text=st.lists(st.sampled_from(_ID_PIECES)).map(" ".join))
def test_text_that_may_hold_no_digit_holds_no_id(text: str) -> None:
    # `ids_in` skips text `may_hold_digit` rules out: every id holds a digit.
    tokens = spoken.tokenize(text)
    if not spoken.may_hold_digit(text):
        assert all(reference._read_id(text, tokens, k) is None for k in range(len(tokens))), text


def test_the_gates_let_through_the_questions_they_guard() -> None:
    assert job_title.asks_role("And what's your ROLE there?")
    assert company._asks_company("Who do you work for?")
    assert callback._caller_asks("Can you CALL ME BACK tomorrow")
    assert not job_title.asks_role("Thanks for calling, how can I help?")


def test_text_with_non_ascii_letters_always_goes_to_the_pattern() -> None:
    # Case-insensitive matching folds the Kelvin sign to "k": no substring test can stand in for it.
    assert may_say("wor\u212a for", ("work",))
    assert company._asks_company("who do you wor\u212a for")


def test_a_single_space_joins_tokens_of_both_kinds() -> None:
    text = "b o b"
    left, right = Token("b", 0, 1), Token("o", 2, 3)
    assert joined(text, left, right) and joined(text, left, right, letters=True)
    assert not joined("5. 6", Token("5", 0, 1), Token("6", 3, 4))  # a sentence end is not a separator


LABEL_CUES = sorted(labels._NEEDLES.items(), key=lambda item: item[0].pattern)


@pytest.mark.parametrize(("pattern", "needles"), LABEL_CUES, ids=lambda v: str(v)[:30])
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_label_cue_only_matches_text_holding_one_of_its_plain_pieces(
    pattern: re.Pattern[str], needles: tuple[str, ...], data: st.DataObject
) -> None:
    # Cues are matched on lower-cased text; hypothesis writes texts the pattern matches.
    text = data.draw(st.from_regex(pattern, alphabet=st.characters(max_codepoint=127)).map(str.lower))
    if pattern.search(text) is not None:
        assert any(needle in text for needle in needles), (pattern.pattern, text)


def test_a_cue_phrase_keeps_only_the_text_it_cannot_match_without() -> None:
    assert labels._required_literal("nobody (ever )?(called|came)") == "nobody "
    assert labels._required_literal("i'?m (afraid|sorry)") == "m "
    assert labels._required_literal("we help (\\w+ ){0,2}(practices|clinics)") == "we help "
    assert labels._required_literal("(that|this|it) sucks") == " sucks"
    assert labels._required_literal("(second|third) time") == " time"
    assert labels._required_literal("(a|b)") is None
    assert labels._required_literal("a|b") is None


def test_a_call_without_a_cue_has_no_hits_and_one_with_it_does() -> None:
    call = make_call(("agent", "How can I help?"), ("caller", "This is ridiculous, I want a refund"))
    joined_turns = labels._Joined(call, [0, 1])
    assert joined_turns.hits(labels._FRUSTRATED_STRONG).turns == (1,)
    assert joined_turns.hits(labels._DEMO).turns == ()


@given(text=st.from_regex(name._AGENT_SELF_NAME))
def test_an_agent_introduction_holds_one_of_its_cues_as_written(text: str) -> None:
    assert any(cue in text for cue in name._AGENT_SELF_NAME_CUES), text


_AROUND_AT = st.lists(
    st.sampled_from(
        [
            "jane",
            "doe",
            "g",
            "mail",
            "out",
            "look",
            "acme",
            "corp",
            "com",
            "net",
            "dot",
            "the",
            "office",
            "3",
            "pm",
            "hot",
            "yahoo",
            "proton",
            "uk",
            "co",
            "dash",
            "x",
        ]
    ),
    min_size=0,
    max_size=6,
)


@given(before=_AROUND_AT, after=_AROUND_AT, sep=st.sampled_from([" ", " ", ".", "-"]))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_the_spoken_email_gate_skips_only_at_that_begins_no_address(
    before: list[str], after: list[str], sep: str
) -> None:
    # Without a dot (said or written between words) and without the start of a webmail name after "at",
    # no spoken address can begin at that "at": the gate in `_find_emails` skips it.
    text = " ".join(before) + " at " + sep.join(after)
    tokens = spoken.tokenize(text)
    dotted = not spoken.DOT_WORDS.isdisjoint(spoken.words(text)) or spoken._WRITTEN_DOT.search(text)
    for k, token in enumerate(tokens):
        if token.text != "at" or dotted:
            continue
        if k + 1 >= len(tokens) or tokens[k + 1].text not in spoken._PROVIDER_PREFIXES:
            assert spoken._spoken_email_at(text, tokens, k) is None, text
