"""Email extraction: caller words only, read-backs, corrections, ambiguity, evidence."""

from __future__ import annotations

from callsync.capture.extract.email import extract_email
from callsync.models import FieldStatus, FieldValue
from tests.capture import make_call, said


def email_of(*turns: tuple[str, str], direction: str = "inbound") -> FieldValue | None:
    return extract_email(make_call(*turns, direction=direction))


def test_spoken_email_asked_for_is_accepted_with_exact_evidence() -> None:
    call = make_call(
        ("agent", "What's the best email to send the confirmation to?"),
        ("caller", "priya dot raman at gmail dot com"),
    )
    fv = extract_email(call)
    assert fv is not None
    assert (fv.value, fv.status) == ("priya.raman@gmail.com", FieldStatus.ACCEPTED)
    assert said(call, fv.evidence) == [(1, "priya dot raman at gmail dot com")]
    assert fv.extractor == "email@1"


def test_email_is_lower_cased() -> None:
    fv = email_of(("agent", "Your email?"), ("caller", "its Jane.Doe@Example.COM"))
    assert fv is not None and fv.value == "jane.doe@example.com"


def test_confirmed_read_back_raises_confidence() -> None:
    plain = email_of(("agent", "Email?"), ("caller", "j smyth eighty eight at yahoo dot com"))
    confirmed = email_of(
        ("agent", "Email?"),
        ("caller", "j smyth eighty eight at yahoo dot com"),
        ("agent", "Let me read that back: jsmyth88@yahoo.com. Is that right?"),
        ("caller", "yep"),
    )
    assert plain is not None and confirmed is not None
    assert confirmed.confidence > plain.confidence
    assert {e.turn for e in confirmed.evidence} == {1, 2, 3}


def test_agent_only_email_confirmed_by_caller_is_caller_data() -> None:
    call = make_call(
        ("agent", "I have your email as luis.herrera84@outlook.com. Is that still the best one?"),
        ("caller", "yeah thats it"),
        direction="outbound",
    )
    fv = extract_email(call)
    assert fv is not None and fv.value == "luis.herrera84@outlook.com"
    assert fv.status is FieldStatus.ACCEPTED
    assert said(call, fv.evidence) == [(0, "luis.herrera84@outlook.com"), (1, "yeah")]


def test_agent_only_email_not_confirmed_is_not_caller_data() -> None:
    assert email_of(("agent", "I'll send it to marisol@brightpath.com."), ("caller", "ok bye")) is None
    assert email_of(("agent", "Is your email marisol@brightpath.com?"), ("caller", "no")) is None


def test_agent_own_email_is_not_caller_data_even_with_a_yes() -> None:
    assert email_of(("agent", "You can email our team at help@ledgerly.io, okay?"), ("caller", "yes")) is None


def test_caller_correction_wins_and_superseded_is_kept() -> None:
    fv = email_of(
        ("agent", "What's your email?"),
        ("caller", "jane at gmail dot com sorry its actually jane dot doe at yahoo dot com"),
    )
    assert fv is not None and fv.value == "jane.doe@yahoo.com"
    assert fv.status is FieldStatus.ACCEPTED
    assert [v for v, _ in fv.superseded] == ["jane@gmail.com"]


def test_two_different_emails_without_a_correction_need_review() -> None:
    fv = email_of(
        ("agent", "What's your email?"),
        ("caller", "jane at gmail dot com or jdoe at work dot com"),
    )
    assert fv is not None and fv.status is FieldStatus.NEEDS_REVIEW


def test_denied_read_back_lowers_the_value_it_repeats() -> None:
    fv = email_of(
        ("agent", "Email?"),
        ("caller", "jane at gmail dot com"),
        ("agent", "So that's jane@gmail.com?"),
        ("caller", "no"),
    )
    assert fv is not None and fv.status is FieldStatus.NEEDS_REVIEW


def test_glued_words_need_review_until_a_read_back_settles_them() -> None:
    unsure = email_of(("agent", "And an email?"), ("caller", "wei chen at outlook dot com"))
    assert unsure is not None and unsure.status is FieldStatus.NEEDS_REVIEW
    assert unsure.reason == "ambiguous_reading"
    settled = email_of(
        ("agent", "And an email?"),
        ("caller", "wei chen at outlook dot com"),
        ("agent", "Is that weichen@outlook.com, all one word?"),
        ("caller", "yes all one word"),
    )
    assert settled is not None and settled.value == "weichen@outlook.com"
    assert settled.status is FieldStatus.ACCEPTED


def test_no_dot_correction_of_a_read_back_settles_the_local_part() -> None:
    fv = email_of(
        ("agent", "What's your name and email?"),
        ("caller", "brendan walsh b walsh at gmail dot com"),
        ("agent", "So that's b.walsh@gmail.com?"),
        ("caller", "no no dot just b walsh bwalsh"),
        ("agent", "Thanks, bwalsh@gmail.com. And the company name?"),
        ("caller", "walsh landscaping"),
    )
    assert fv is not None and fv.value == "bwalsh@gmail.com"
    assert fv.status is FieldStatus.ACCEPTED


def test_confirmed_clean_read_back_replaces_a_garbled_spoken_email() -> None:
    fv = email_of(
        ("agent", "Your email?"),
        ("caller", "its jane dot doe at g male dot com"),
        ("agent", "Is that jane.doe@gmail.com?"),
        ("caller", "yes"),
    )
    assert fv is not None and fv.value == "jane.doe@gmail.com"
    assert [v for v, _ in fv.superseded] == ["jane.doe@gmale.com"]
    assert {e.turn for e in fv.evidence} >= {1, 2, 3}


def test_unprompted_at_dot_com_is_not_accepted() -> None:
    fv = email_of(("agent", "How did you find us?"), ("caller", "i saw the listing at realtor dot com"))
    assert fv is None or fv.status is FieldStatus.NEEDS_REVIEW


def test_voicemail_greeting_is_not_the_caller() -> None:
    fv = email_of(
        ("caller", "you have reached jane at jane dot com please leave a message after the tone"),
        ("agent", "Hi Jane, this is Sam. Please call us back."),
        direction="outbound",
    )
    assert fv is None


def test_a_yes_to_a_different_question_does_not_confirm_the_echoed_email() -> None:
    fv = email_of(
        ("agent", "I'll send the forms to marisol@brightpath.com. Would you like a text reminder too?"),
        ("caller", "yes please"),
    )
    assert fv is None


def test_hyphen_in_a_spoken_domain_is_kept_not_dropped() -> None:
    call = make_call(
        ("agent", "What's the best email for you?"), ("caller", "carla at acme-corp dot co dot uk")
    )
    fv = extract_email(call)
    assert fv is not None and fv.value == "carla@acme-corp.co.uk"
    assert fv.status is FieldStatus.ACCEPTED


def test_spaced_dash_in_a_domain_waits_for_review() -> None:
    call = make_call(("agent", "What's the best email for you?"), ("caller", "carla at acme – corp dot com"))
    fv = extract_email(call)
    assert fv is not None and fv.status is FieldStatus.NEEDS_REVIEW
    assert fv.reason == "ambiguous_reading"
