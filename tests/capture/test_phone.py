"""Phone extraction: E.164, extensions, the caller's own line, read-backs, corrections, what is not a phone."""

from __future__ import annotations

import pytest

from callsync.capture.extract.phone import extract_phone
from callsync.models import CallRecord, FieldStatus, FieldValue
from tests.capture import make_call, said


def phone_of(call: CallRecord) -> FieldValue | None:
    return extract_phone(call).get("phone")


def test_spoken_digits_become_e164_with_exact_evidence() -> None:
    call = make_call(
        ("agent", "And the best phone number for you?"),
        ("caller", "six one seven five five five oh one four eight"),
    )
    fv = phone_of(call)
    assert fv is not None and (fv.value, fv.status) == ("+16175550148", FieldStatus.ACCEPTED)
    assert said(call, fv.evidence) == [(1, "six one seven five five five oh one four eight")]


def test_extension_goes_to_phone_extension_not_into_the_phone() -> None:
    call = make_call(
        ("agent", "A phone number in case we need to reach you?"),
        ("caller", "my office line two one five five five five oh one three two extension four one"),
    )
    fields = extract_phone(call)
    assert fields["phone"].value == "+12155550132"
    assert fields["phone_extension"].value == "41"
    assert said(call, fields["phone_extension"].evidence) == [(1, "extension four one")]


def test_plus_country_code_overrides_the_default_region() -> None:
    call = make_call(
        ("agent", "Is there a good number in case we need to follow up?"),
        ("caller", "sure its plus four four two oh seven nine four six oh one two three"),
    )
    fv = phone_of(call)
    assert fv is not None and fv.value == "+442079460123"


def test_caller_correction_wins_and_superseded_is_kept() -> None:
    call = make_call(
        ("agent", "And a good callback number?"),
        (
            "caller",
            "six oh two five five five oh one six seven wait no sorry thats my old one "
            "its six oh two five five five oh one seven six",
        ),
    )
    fv = phone_of(call)
    assert fv is not None and fv.value == "+16025550176"
    assert fv.status is FieldStatus.ACCEPTED
    assert [v for v, _ in fv.superseded] == ["+16025550167"]


def test_confirmed_read_back_raises_confidence() -> None:
    turns = [("agent", "Best number?"), ("caller", "nine one seven triple five oh one double one")]
    plain = phone_of(make_call(*turns))
    confirmed = phone_of(make_call(*turns, ("agent", "Let me confirm: 917-555-0111?"), ("caller", "yes")))
    assert plain is not None and confirmed is not None and confirmed.value == plain.value == "+19175550111"
    assert confirmed.confidence > plain.confidence


def test_denied_agent_guess_is_not_caller_data() -> None:
    call = make_call(
        ("agent", "And your phone number, is it 412-555-0153?"),
        ("caller", "no its oh one three five at the end four one two five five five oh one three five"),
    )
    fv = phone_of(call)
    assert fv is not None and fv.value == "+14125550135"
    assert fv.superseded == ()


def test_agent_own_number_is_not_caller_data() -> None:
    call = make_call(
        ("agent", "If the pain gets worse, you can call our after-hours line at 312-555-0101."),
        ("caller", "ok"),
        ("agent", "You can reach me directly at 888-555-0107, okay?"),
        ("caller", "yes"),
    )
    assert phone_of(call) is None


def test_this_number_is_the_callers_line_on_inbound_calls() -> None:
    call = make_call(
        ("agent", "Is the number you're calling from the best way to reach you?"),
        ("caller", "yeah this number is fine"),
        caller="+13125550117",
    )
    fv = phone_of(call)
    assert fv is not None and (fv.value, fv.status) == ("+13125550117", FieldStatus.ACCEPTED)
    assert (1, "this number is fine") in said(call, fv.evidence)


def test_this_number_is_the_to_line_on_outbound_calls() -> None:
    call = make_call(
        ("agent", "Should we call you at this number?"),
        ("caller", "yeah this is my cell"),
        direction="outbound",
        caller="+16175550187",
    )
    fv = phone_of(call)
    assert fv is not None and fv.value == "+16175550187"


@pytest.mark.parametrize(
    "answer",
    [
        "just use the number im calling from",
        "just use the number that im calling from",
        "you can use the line i am calling on",
        # a recognizer's inserted word, as pocketsphinx heard "the number I'm calling from"
        "people just use the number of im calling from",
        "the phone uh im calling from is fine",
    ],
)
def test_the_number_im_calling_from(answer: str) -> None:
    call = make_call(("agent", "What's the best number?"), ("caller", answer))
    fv = phone_of(call)
    assert fv is not None and fv.value == "+16175550148"


def test_a_number_someone_else_is_calling_from_is_not_the_callers_line() -> None:
    call = make_call(("agent", "What's the best number?"), ("caller", "not the number hes calling from"))
    assert phone_of(call) is None


def test_yes_to_another_question_is_not_a_this_number_confirmation() -> None:
    call = make_call(
        ("agent", "I see a call from this number yesterday. Am I speaking with Hannah?"),
        ("caller", "yes hannah lindqvist"),
    )
    assert phone_of(call) is None


def test_having_had_this_number_is_not_giving_it() -> None:
    call = make_call(
        ("agent", "I'm looking for Denise Carter. Is she available?"),
        ("caller", "no theres no denise here ive had this number for like six years"),
    )
    assert phone_of(call) is None


def test_a_work_number_given_instead_wins_over_this_number() -> None:
    call = make_call(
        ("agent", "Is this the best number to reach you?"),
        (
            "caller",
            "during the day its better to call my work number six four six five five five oh one five two",
        ),
    )
    fv = phone_of(call)
    assert fv is not None and fv.value == "+16465550152"


def test_account_and_card_digits_are_not_a_phone() -> None:
    call = make_call(
        ("agent", "Can I get your account number?"),
        ("caller", "sure its four one two five five five oh one three five"),
    )
    assert phone_of(call) is None


def test_business_own_line_said_by_the_caller_is_not_caller_data() -> None:
    call = make_call(
        ("agent", "How can I help?"),
        ("caller", "i called six one seven five five five oh one hundred yesterday"),
    )
    assert phone_of(call) is None


def test_seven_digits_without_area_code_are_not_invented_into_a_number() -> None:
    call = make_call(("agent", "Your phone?"), ("caller", "five five five oh one four eight"))
    assert phone_of(call) is None


def test_digits_nobody_called_a_number_need_review() -> None:
    call = make_call(
        ("agent", "How can I help?"), ("caller", "um six one seven five five five oh one four eight")
    )
    fv = phone_of(call)
    assert fv is not None and fv.status is FieldStatus.NEEDS_REVIEW


def test_two_numbers_without_a_correction_need_review() -> None:
    call = make_call(
        ("agent", "Best number?"),
        (
            "caller",
            "six one seven five five five oh one four eight or six one seven five five five oh one nine nine",
        ),
    )
    fv = phone_of(call)
    assert fv is not None and fv.status is FieldStatus.NEEDS_REVIEW


def test_voicemail_greeting_number_is_not_caller_data() -> None:
    call = make_call(
        ("caller", "you have reached six one seven five five five oh one eight seven please leave a message"),
        ("agent", "Hi, this is Ava from Harborview Realty. Call us back at 617-555-0100."),
        direction="outbound",
        caller="+16175550187",
    )
    assert phone_of(call) is None
