from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from callsync.trust.trace import sentence_around


def test_sentence_is_cut_at_punctuation_around_the_value() -> None:
    text = "Hi there. My email is dana at x dot com. Thanks!"
    start = text.index("dana")
    sentence, s, e = sentence_around(text, start, start + 4)
    assert sentence == "My email is dana at x dot com."
    assert sentence[s:e] == "dana"


def test_unpunctuated_asr_turn_is_one_sentence() -> None:
    text = "  yeah my name is marcus lee and my number is five five five"
    start = text.index("marcus")
    sentence, s, e = sentence_around(text, start, start + 10)
    assert sentence == text.strip()
    assert sentence[s:e] == "marcus lee"


@given(st.lists(st.text(alphabet="abc xyz", min_size=1, max_size=12), min_size=1, max_size=5), st.data())
def test_the_highlight_is_exactly_the_value(parts: list[str], data: st.DataObject) -> None:
    text = ". ".join(parts)
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    span = text[start:end]
    assume("." not in span and span == span.strip() and span)
    sentence, s, e = sentence_around(text, start, end)
    assert sentence[s:e] == span
