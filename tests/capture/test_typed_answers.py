"""Answers typed over several chat messages, and the number "on the account" (issue 13, second pass).

Typed support chats split one answer over messages ("cminh730" / "cminh730@email.com" / "8823045591"): each
message still answers the agent's question. "The phone number on the account" asks for a phone number held
by the account, not for an account number. A username is not an order id.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callsync.capture.extract.email import extract_email
from callsync.capture.extract.phone import extract_phone
from callsync.capture.extract.reference import extract_reference
from callsync.models import FieldStatus
from tests.capture import make_call

A = FieldStatus.ACCEPTED
valid_tail = st.integers(min_value=10, max_value=99).map(lambda n: f"61755501{n:02d}")
holders = st.sampled_from(
    [
        "What is the phone number on the account?",
        "What's the phone number on your account?",
        "Can I get the phone number associated with the order?",
        "And the phone number for your membership?",
        "What phone number is linked to the account?",
    ]
)
written = st.sampled_from(["({a}) {b}-{c}", "{a}-{b}-{c}", "{a} {b} {c}", "{a}{b}{c}"])


@given(question=holders, digits=valid_tail, form=written)
@settings(max_examples=60, deadline=None)
def test_the_phone_number_on_the_account_is_a_phone_number(question: str, digits: str, form: str) -> None:
    said = form.format(a=digits[:3], b=digits[3:6], c=digits[6:])
    fv = extract_phone(make_call(("agent", question), ("caller", f"it's {said}"))).get("phone")
    assert fv is not None and (fv.value, fv.status) == (f"+1{digits}", A)


@given(
    question=st.sampled_from(["What's the account number?", "Can I have the number on your card?"]),
    digits=valid_tail,
)
@settings(max_examples=20, deadline=None)
def test_an_account_or_card_number_is_still_not_a_phone(question: str, digits: str) -> None:
    assert extract_phone(make_call(("agent", question), ("caller", digits))).get("phone") is None


user = st.from_regex(r"[a-z]{3,8}[0-9]{1,4}", fullmatch=True)
order = st.integers(min_value=1_000_000_000, max_value=9_999_999_999).map(str)


@given(name=user, number=order, between=st.integers(min_value=0, max_value=1))
@settings(max_examples=50, deadline=None)
def test_an_answer_spread_over_chat_messages_answers_the_question(
    name: str, number: str, between: int
) -> None:
    turns = [("agent", "Can I get your username, email address, and order ID?")]
    turns += [("caller", name)] * between
    turns += [("caller", f"{name}@email.com"), ("caller", number)]
    call = make_call(*turns)
    email = extract_email(call)
    assert email is not None and (email.value, email.status) == (f"{name}@email.com", A)
    ref = extract_reference(call)
    assert ref is not None and ref.value == number


@given(name=user)
@settings(max_examples=30, deadline=None)
def test_a_username_is_not_an_order_id(name: str) -> None:
    call = make_call(
        ("agent", "Could you give me your username and the order ID?"),
        ("caller", name),
        ("agent", "Thanks."),
    )
    ref = extract_reference(call)
    assert ref is None or ref.value != name.upper()


def test_a_message_three_turns_after_the_question_is_not_its_answer() -> None:
    call = make_call(
        ("agent", "What's your email address?"),
        ("caller", "one sec"),
        ("caller", "looking"),
        ("caller", "still looking"),
        ("caller", "I saw the deal at shopdeals dot com"),
    )
    fv = extract_email(call)
    assert fv is None or fv.status is not A
