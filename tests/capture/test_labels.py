"""Intent, outcome and sentiment baselines: each label in the allowed set, with the turns that support it."""

from __future__ import annotations

import pytest

from callsync.capture.extract.labels import (
    INTENTS,
    OUTCOMES,
    SENTIMENTS,
    classify_intent,
    classify_outcome,
    classify_sentiment,
)
from tests.capture import make_call


def test_booked_appointment_is_booking_and_appointment_booked() -> None:
    call = make_call(
        ("agent", "Sunrise Dental, how can I help?"),
        ("caller", "hi id like to book a cleaning"),
        ("agent", "You're booked for Friday at 3 PM."),
        ("caller", "ok thanks"),
    )
    intent, outcome = classify_intent(call), classify_outcome(call)
    assert (intent.value, outcome.value) == ("booking", "appointment_booked")
    assert intent.turns == (1,) and outcome.turns == (2,)


def test_charge_dispute_is_a_complaint_with_a_callback() -> None:
    call = make_call(
        ("agent", "Rapid Rooter, how can I help?"),
        ("caller", "yeah you guys charged my card twice for the same job"),
        ("agent", "I'll have our billing team call you back Monday morning."),
        ("caller", "monday seriously i want my money back"),
    )
    assert classify_intent(call).value == "complaint"
    assert classify_outcome(call).value == "callback_scheduled"
    assert classify_sentiment(call).value == "frustrated"


def test_quote_request_transferred_is_sales_and_transferred() -> None:
    call = make_call(
        ("agent", "Keystone Insurance."),
        ("caller", "hi im shopping around for car insurance and wanted a quote"),
        ("agent", "Let me transfer you to one of our licensed agents."),
        ("caller", "sure thanks"),
    )
    assert (classify_intent(call).value, classify_outcome(call).value) == ("sales", "transferred")


def test_account_help_resolved_is_support() -> None:
    call = make_call(
        ("agent", "PipelineIQ support."),
        ("caller", "hi im locked out of my account"),
        ("agent", "I've unlocked it and sent a reset link. Anything else?"),
        ("caller", "no thats everything thank you so much"),
    )
    assert classify_intent(call).value == "support"
    assert classify_outcome(call).value == "resolved"
    assert classify_sentiment(call).value == "positive"


@pytest.mark.parametrize(
    "opening",
    [
        "hi there my name is brenda i have a question about the bill i got last month",
        "hi um i have some questions about my invoice",
        "yeah im calling about our last statement",
        "i wanted to ask about the invoice we received on friday",
        "i want to make my monthly payment",
    ],
)
def test_a_question_about_the_callers_own_bill_is_support_not_inquiry(opening: str) -> None:
    call = make_call(
        ("agent", "Northgate Plumbing, how can I help you today?"),
        ("caller", opening),
        ("agent", "Sure, I can help with that."),
    )
    assert classify_intent(call).value == "support"


def test_asking_what_a_service_costs_is_still_an_inquiry() -> None:
    call = make_call(
        ("agent", "Northgate Plumbing, how can I help you today?"),
        ("caller", "i have a question how much do you charge per hour"),
    )
    assert classify_intent(call).value == "inquiry"


def test_after_hours_message_is_voicemail() -> None:
    call = make_call(
        ("agent", "Our office is closed. Please leave a message after the tone."),
        ("caller", "hi um i just wanted to know if you guys take medicaid"),
        ("agent", "Your message has been saved. Goodbye."),
    )
    assert classify_outcome(call).value == "voicemail"
    assert classify_intent(call).value == "inquiry"


def test_outbound_answering_machine_is_voicemail() -> None:
    call = make_call(
        ("caller", "the person you are trying to reach is not available"),
        ("agent", "Hi, this message is for Marisol, returning your request for a demo."),
        direction="outbound",
    )
    outcome = classify_outcome(call)
    assert outcome.value == "voicemail" and 0 in outcome.turns
    assert classify_intent(call).value == "sales"


def test_wrong_number_is_other_with_no_outcome() -> None:
    call = make_call(
        ("agent", "Is this Denise Carter?"),
        ("caller", "no theres no denise here you got the wrong number"),
        ("agent", "My apologies."),
        ("caller", "ok bye"),
        direction="outbound",
    )
    assert (classify_intent(call).value, classify_outcome(call).value) == ("other", "no_outcome")


def test_plain_politeness_is_neutral() -> None:
    call = make_call(("agent", "Anything else?"), ("caller", "ok thanks"))
    assert classify_sentiment(call).value == "neutral"


def test_labels_are_always_in_the_allowed_sets_with_confidence_in_range() -> None:
    for call in (make_call(("agent", "Hello?")), make_call(("caller", "hello?")), make_call()):
        for label, allowed in (
            (classify_intent(call), INTENTS),
            (classify_outcome(call), OUTCOMES),
            (classify_sentiment(call), SENTIMENTS),
        ):
            assert label.value in allowed and 0 <= label.confidence <= 1
