"""The recognizer's word confidence: a name or number heard with low confidence goes to review (issue 13)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callsync.capture.extract import extract_call
from callsync.capture.extract.word_confidence import LOW_WORD_CONFIDENCE, doubtful_words
from callsync.capture.platforms.generic import parse_generic_call
from callsync.models import FieldStatus


def call_with_words(confidences: dict[str, float]) -> dict[str, Any]:
    said = "my name is priya raman and my number is six one seven five five five oh one four eight"
    words = [{"word": w, "confidence": confidences.get(w, 0.97)} for w in said.split()]
    return {
        "call_id": "t-1",
        "from": "+16175550100",
        "to": "+16175550199",
        "turns": [
            {"speaker": "agent", "text": "Can I get your name and a good number?"},
            {"speaker": "caller", "text": said, "words": words},
        ],
    }


def test_without_doubtful_words_the_values_are_accepted() -> None:
    ex = extract_call(parse_generic_call(call_with_words({})))
    assert ex.fields["last_name"].status is FieldStatus.ACCEPTED
    assert ex.fields["phone"].status is FieldStatus.ACCEPTED


@given(conf=st.floats(min_value=0.0, max_value=LOW_WORD_CONFIDENCE - 0.01))
@settings(max_examples=20, deadline=None)
def test_a_surname_heard_with_low_confidence_goes_to_review(conf: float) -> None:
    ex = extract_call(parse_generic_call(call_with_words({"raman": conf})))
    fv = ex.fields["last_name"]
    assert (fv.status, fv.reason) == (FieldStatus.NEEDS_REVIEW, "low_word_confidence")
    assert ex.fields["phone"].status is FieldStatus.ACCEPTED  # only the values on that word


@given(
    digit=st.sampled_from(["six", "seven", "oh", "four", "eight"]),
    conf=st.floats(min_value=0.0, max_value=LOW_WORD_CONFIDENCE - 0.01),
)
@settings(max_examples=20, deadline=None)
def test_a_number_with_a_doubtful_digit_goes_to_review(digit: str, conf: float) -> None:
    ex = extract_call(parse_generic_call(call_with_words({digit: conf})))
    assert ex.fields["phone"].status is FieldStatus.NEEDS_REVIEW
    assert ex.fields["phone"].reason == "low_word_confidence"


def test_word_lists_are_found_in_retell_shaped_payloads() -> None:
    raw = {
        "call": {
            "transcript_object": [
                {
                    "role": "user",
                    "content": "its raman",
                    "words": [
                        {"word": "its", "start": 0.1, "end": 0.2, "confidence": 0.9},
                        {"word": "raman", "start": 0.2, "end": 0.5, "confidence": 0.31},
                    ],
                }
            ]
        }
    }
    payload = {"call_id": "t-2", "turns": [{"speaker": "caller", "text": "its raman"}]}
    call = parse_generic_call(payload)
    call = replace(call, raw=raw)
    assert doubtful_words(call) == {0: frozenset({"raman"})}
