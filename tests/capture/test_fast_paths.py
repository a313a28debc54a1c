"""The extractor's cheap pre-checks never change an answer: each only skips work that could find nothing."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from callsync.capture.extract import callback, company, job_title, when
from callsync.capture.extract.spoken import Token, joined, may_say

# (pattern, the words `may_say` looks for before running it)
GATED: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (job_title.ROLE_QUESTION, job_title._ROLE_QUESTION_NEEDS),
    (company._COMPANY_QUESTION, company._COMPANY_QUESTION_NEEDS),
    (callback._CALLER_ASKS, callback._CALLER_ASKS_NEEDS),
    (callback._AGENT_WILL_CALL, callback._AGENT_WILL_CALL_NEEDS),
    (when._CANCEL, when._CANCEL_NEEDS),
]


@given(data=st.data())
def test_a_gated_pattern_only_matches_text_holding_one_of_its_words(data: st.DataObject) -> None:
    for pattern, needles in GATED:
        # Any ASCII text the pattern matches (hypothesis writes them from the pattern itself, in any case).
        text = data.draw(st.from_regex(pattern, alphabet=st.characters(max_codepoint=127)))
        assert pattern.search(text) is not None
        assert may_say(text, needles), (pattern.pattern, text)


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
