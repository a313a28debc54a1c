"""Job titles stated by the caller, and the number the caller wants to be called back on."""

from __future__ import annotations

from callsync.capture.extract import extract_call
from callsync.capture.extract.callback import extract_callback
from callsync.capture.extract.job_title import extract_job_title
from callsync.models import FieldStatus
from tests.capture import make_call

A = FieldStatus.ACCEPTED
R = FieldStatus.NEEDS_REVIEW


def title(*turns: tuple[str, str]) -> tuple[str, FieldStatus] | None:
    fv = extract_job_title(make_call(*turns))
    return None if fv is None else (fv.value, fv.status)


def test_role_at_an_organisation() -> None:
    assert title(
        ("agent", "Who am I speaking with?"),
        ("caller", "kevin odonnell im the controller at tallgrass freight"),
    ) == ("Controller", A)
    assert title(
        ("agent", "Hi"), ("caller", "hi this is natalie im the hr director at greenfield packaging")
    ) == ("HR Director", A)


def test_role_with_of_and_a_bare_answer_to_the_role_question() -> None:
    assert title(("agent", "Hi"), ("caller", "hi this is rachel im the vp of operations")) == (
        "VP of Operations",
        A,
    )
    assert title(("agent", "And what's your role there?"), ("caller", "im the owner")) == ("Owner", A)


def test_not_a_job_title() -> None:
    assert title(("agent", "Hi"), ("caller", "hi im a new patient and id like to book a cleaning")) is None
    assert title(("agent", "Hi"), ("caller", "im the owner of the house on elm street")) is None


def test_call_me_back_at_gives_the_callback_number() -> None:
    call = make_call(
        ("agent", "Our office is closed. Please leave a message after the tone."),
        (
            "caller",
            "please call me back at seven two oh five five five oh one five eight sorry its actually seven two oh five five five oh one eight five",
        ),
    )
    fv = extract_callback(call)
    assert fv is not None and (fv.value, fv.status) == ("+17205550185", A)
    assert [v for v, _ in fv.superseded] == ["+17205550158"]


def test_number_asked_for_after_a_promised_call_is_the_callback_number() -> None:
    call = make_call(
        ("agent", "A loan officer can call you tomorrow afternoon. What's the best number?"),
        ("caller", "three one two five five five oh one seven nine"),
    )
    fv = extract_callback(call)
    assert fv is not None and fv.value == "+13125550179"


def test_this_number_for_the_call_back_is_the_callers_line() -> None:
    call = make_call(
        ("agent", "Should the tech call you at this number?"),
        ("caller", "yes this number"),
        caller="+19175550118",
    )
    fv = extract_callback(call)
    assert fv is not None and fv.value == "+19175550118"


def test_contact_number_alone_is_not_a_callback_number() -> None:
    call = make_call(
        ("agent", "What's the best number to reach you?"),
        ("caller", "six one seven five five five oh one four eight"),
    )
    fields = extract_call(call).fields
    assert fields["phone"].value == "+16175550148"
    assert "callback_phone" not in fields
