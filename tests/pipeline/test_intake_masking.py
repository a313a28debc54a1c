"""The masking every received payload goes through before it is stored (intake)."""

from __future__ import annotations

import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from callsync import redaction
from callsync.redaction import CARD_MASK, mask_payload, mask_sensitive

# Pieces that make the masks' patterns match, nearly match or stop: digits and spoken digits in any case,
# their separators, words around them, the SSN cue words, quotes and JSON punctuation.
_PIECES = st.sampled_from(
    [*"0123456789", "000", "666", "00", "0000", " ", "-", ",", ".", "  ", "\t", "\n", "a", "x", "_",
     "one", "One", "ONE", "oh", "OH", "zero", "four", "seven", "nine", "eight", "someone", "fourteen",
     "social", "Social Security", "ssn", "SSN", "my", '"', ":", "4111111111111111", "4111 1111 1111 1111",
     "123-45-6789", "123 45 6789", "078-05-1120", "é", "\u0663"]
)  # fmt: skip
_TEXTS = st.lists(_PIECES, max_size=40).map("".join)

# The run pattern as it was before a run had one way to be split (kept to show the fix changed no mask).
_OLD_DIGIT_RUN = re.compile(
    rf"(?<![\w]){redaction._DIGIT_TOKEN}(?:(?:[\s,.\-]{{0,3}}|(?<=\d)){redaction._DIGIT_TOKEN})*(?![\w])",
    re.IGNORECASE,
)


def _short_digit_strings(text: str) -> bool:
    # The old pattern takes 2^n steps on n glued digits followed by a letter: keep its inputs small.
    return all(len(d) <= 12 for d in re.findall(r"\d+", text))


@settings(max_examples=300, deadline=None)
@given(_TEXTS.filter(_short_digit_strings))
def test_digit_runs_are_found_exactly_where_the_old_pattern_found_them(text: str) -> None:
    assert [m.span() for m in redaction._DIGIT_RUN.finditer(text)] == [
        m.span() for m in _OLD_DIGIT_RUN.finditer(text)
    ]


def test_a_long_number_glued_to_a_letter_is_masked_in_linear_time() -> None:
    card = "4111111111111111"
    text = "ref " + "1" * 60 + "x and card " + card + "9" * 40 + "z " + card
    started = time.perf_counter()
    masked = mask_sensitive(text)
    assert time.perf_counter() - started < 2.0  # was 2^60 steps
    assert masked.endswith(CARD_MASK) and "1" * 60 + "x" in masked


def test_a_card_in_a_transcript_turn_is_masked_and_the_rest_kept() -> None:
    raw = '{"call_id": "c1", "turns": [{"speaker": "caller", "text": "card 4111 1111 1111 1111 thanks"}]}'
    assert mask_payload(raw) == raw.replace("4111 1111 1111 1111", CARD_MASK)
