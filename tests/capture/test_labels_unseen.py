"""Labels on calls nobody here wrote (issue 13): purchases are sales, reservations booking, a search for a
place's details an inquiry; a bought ticket is resolved, not an appointment; a caller who repeats
themselves in annoyance, shouts or says "that sucks" is frustrated."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callsync.capture.extract import extract_call
from callsync.capture.extract.labels import (
    classify_intent,
    classify_outcome,
    classify_sentiment,
    reports_booking,
)
from callsync.capture.platforms.generic import parse_generic_call
from tests.capture import friday_call, make_call


@given(
    ask=st.sampled_from(
        [
            "I'd like to buy two tickets for the 7 pm showing",
            "can you book me a round trip flight from Seattle to Chicago",
            "hey can I order a large pepperoni pizza",
            "I need a lyft ride to the airport",
            "I want to purchase tickets to the concert on friday",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_purchases_in_the_call_are_sales(ask: str) -> None:
    call = make_call(("agent", "Hi, how can I help?"), ("caller", ask))
    assert classify_intent(call).value == "sales"


@given(
    ask=st.sampled_from(
        [
            "I'd like to make a reservation for four on saturday",
            "can I get a table for two tonight",
            "I need to book a room for three nights",
            "I want to reserve a table at the thai place",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_reservations_are_booking(ask: str) -> None:
    call = make_call(("agent", "Hi, how can I help?"), ("caller", ask))
    assert classify_intent(call).value == "booking"


@given(
    ask=st.sampled_from(
        [
            "I'm looking for a cheap restaurant in the north part of town",
            "what is the address of the police station",
            "could you give me the phone number for the hospital",
            "are there any italian places in the centre",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_asking_for_a_places_details_is_an_inquiry(ask: str) -> None:
    call = make_call(("agent", "Hi, how can I help?"), ("caller", ask))
    assert classify_intent(call).value == "inquiry"


def test_bought_tickets_are_resolved_not_an_appointment() -> None:
    call = make_call(
        ("caller", "two tickets for the 9 pm show please"),
        ("agent", "OK. Your tickets are booked for the 9:10 PM show and sent to your email."),
        ("caller", "thanks"),
    )
    assert classify_outcome(call).value == "resolved"


def test_a_table_booked_is_an_appointment() -> None:
    call = make_call(
        ("caller", "a table for two at 8 please"),
        ("agent", "Done, I've booked your table for two at 8 PM tonight."),
        ("caller", "thanks"),
    )
    assert classify_outcome(call).value == "appointment_booked"


def test_the_business_promising_to_call_back_is_a_callback() -> None:
    call = make_call(
        ("caller", "can you escalate it"),
        ("agent", "I have let my manager know, they will give you a call."),
        ("caller", "ok thanks"),
    )
    assert classify_outcome(call).value == "callback_scheduled"


@given(
    annoyed=st.sampled_from(
        [
            "I've already mentioned this. Please give me the address",
            "well that sucks what else do you have",
            "I said the WEST side of town not the east",
            "how many times do I have to say it",
            "are you even listening to me",
            "this is useless",
        ]
    )
)
@settings(max_examples=12, deadline=None)
def test_annoyance_in_a_callers_words_is_frustrated(annoyed: str) -> None:
    call = make_call(
        ("agent", "What area would you like?"),
        ("caller", annoyed),
        ("agent", "Sorry about that."),
    )
    assert classify_sentiment(call).value == "frustrated"


def test_a_calm_search_is_neutral() -> None:
    call = make_call(
        ("agent", "How can I help?"),
        ("caller", "I need a moderately priced restaurant in the south"),
        ("agent", "Pizza Express is in the south."),
        ("caller", "what is the phone number"),
    )
    assert classify_sentiment(call).value == "neutral"


@given(
    said=st.sampled_from(
        [
            "the technician didn't show up and i took the day off",
            "nobody's called me back and it's the third time i'm calling",
            "i've been charged twice for the same visit",
            "that's ridiculous i don't want to wait another week",
            "i'd like to book a cleaning for next week",
            "you've been so helpful thank you so much",
        ]
    ),
    apostrophe=st.sampled_from(["'", "’"]),
)
@settings(max_examples=30, deadline=None)
def test_a_callers_apostrophes_do_not_change_the_labels(said: str, apostrophe: str) -> None:
    # Recognizers (pocketsphinx writes "didn't") and typists keep apostrophes; others drop them.
    written = said.replace("'", apostrophe)
    bare = said.replace("'", "")
    agent = ("agent", "Thanks for calling, how can I help?")
    with_marks = make_call(agent, ("caller", written))
    without = make_call(agent, ("caller", bare))
    for classify in (classify_intent, classify_outcome, classify_sentiment):
        assert classify(with_marks).value == classify(without).value


@given(
    apology=st.sampled_from(
        [
            "I'm sorry about that. Can I get your order number?",
            "I'm so sorry. What's the tracking number?",
            "Oh no, sorry to hear that. Let me pull up your account.",
            "We apologize for the trouble. What's your name?",
        ]
    ),
    garbled=st.sampled_from(
        [
            "yeah i order delivery an hour ago and half the order was living",
            "the whole heck of a clinical than",
        ]
    ),
)
@settings(max_examples=20, deadline=None)
def test_the_agent_apologising_for_a_cueless_opening_reads_as_a_complaint(apology: str, garbled: str) -> None:
    # On recognizer text the caller's cue word is often misheard; the bot's apology is its own text.
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"), ("caller", garbled), ("agent", apology)
    )
    assert classify_intent(call).value == "complaint"


@given(
    reply=st.sampled_from(
        [
            "Sorry, I didn't catch that. Could you say it again?",
            "I'm sorry, I missed that. What's your name?",
            "Sure, I can help with that. What's your name?",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_an_agent_asking_again_is_no_apology_for_a_problem(reply: str) -> None:
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"),
        ("caller", "the whole heck of a clinical than"),
        ("agent", reply),
    )
    assert classify_intent(call).value != "complaint"


def test_a_callers_own_cue_outranks_the_agents_apology() -> None:
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"),
        ("caller", "i'd like to book a cleaning for next week"),
        ("agent", "Sorry about the wait! What day works?"),
    )
    assert classify_intent(call).value == "booking"


@given(
    question=st.sampled_from(
        [
            "Great. What's your budget?",
            "Wonderful. Do you have a budget in mind?",
            "That would be about $348 a month. Is that in your range?",
            "And how much were you hoping to spend?",
        ]
    ),
    garbled=st.sampled_from(
        [
            "by letting period is our bathroom",
            "i knew that i run all landscaping company and i'm looking at schedule and software which york",
        ]
    ),
)
@settings(max_examples=20, deadline=None)
def test_the_agent_asking_for_a_budget_after_a_cueless_opening_reads_as_sales(
    question: str, garbled: str
) -> None:
    # The caller's words gave no cue (misheard); the bot qualifying a sale is its own text.
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"), ("caller", garbled), ("agent", question)
    )
    label = classify_intent(call)
    assert label.value == "sales"
    assert label.turns == (2,), "the evidence is the agent's question"


def test_a_callers_own_cue_outranks_the_agents_budget_question() -> None:
    for said, intent in (
        ("i'd like to book a cleaning for next week", "booking"),
        ("are there any restaurants in the centre", "inquiry"),
        ("my account is locked", "support"),
    ):
        call = make_call(
            ("agent", "Thanks for calling, how can I help?"),
            ("caller", said),
            ("agent", "What's your budget?"),
        )
        assert classify_intent(call).value == intent, said


def test_without_a_budget_question_a_cueless_opening_stays_an_inquiry() -> None:
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"),
        ("caller", "by letting period is our bathroom"),
        ("agent", "Sure. Can I get your name?"),
    )
    assert classify_intent(call).value == "inquiry"


@given(
    handling=st.sampled_from(
        [
            "I've blocked the card and opened a dispute for that charge.",
            "I see it. I'm disputing the charge with the merchant now.",
            "Okay, I've opened a support ticket and a technician will call you.",
            "I've filed a claim for the damaged package.",
        ]
    ),
    opening=st.sampled_from(
        [
            "i've learned that are gone like to note on but and make",  # a cueless opening, misheard
            "hi i have a question about the deal i got last month",  # a question about something misheard
        ]
    ),
)
@settings(max_examples=20, deadline=None)
def test_the_agent_handling_a_dispute_or_ticket_after_a_cueless_or_bare_question_reads_as_support(
    handling: str, opening: str
) -> None:
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"), ("caller", opening), ("agent", handling)
    )
    label = classify_intent(call)
    assert label.value == "support"
    assert label.turns == (2,), "the evidence is the agent's handling"


def test_a_callers_own_question_or_cue_outranks_the_agents_ticket() -> None:
    for said, intent in (
        ("do you take aetna insurance", "inquiry"),  # a question about something said: not overridden
        ("i'd like to book a cleaning for next week", "booking"),
        ("the technician never showed up this is ridiculous", "complaint"),
    ):
        call = make_call(
            ("agent", "Thanks for calling, how can I help?"),
            ("caller", said),
            ("agent", "I've opened a ticket for our team to follow up."),
        )
        assert classify_intent(call).value == intent, said


def test_the_agents_ticket_outranks_its_apology_for_the_problem() -> None:
    call = make_call(
        ("agent", "Bayside IT Services, this is the help desk assistant. What's going on?"),
        ("caller", "i said they felt then the office manager or had been than killing"),
        ("agent", "Sorry about that. Do you have a ticket number already?"),
        ("caller", "yeah it is the first time"),
        ("agent", "I've opened ticket 48213 for you. What's the best callback number?"),
    )
    label = classify_intent(call)
    assert label.value == "support" and label.turns == (4,)


def test_an_agent_booking_outranks_a_support_cue_in_the_opening() -> None:
    call = make_call(
        ("agent", "Bright Minds Tutoring, how can I help?"),
        ("caller", "my daughter needs help with algebra before her finals"),
        ("agent", "Would you like a free assessment session? I have Wednesday at 4 PM."),
        ("caller", "yes please"),
        ("agent", "Got it. You're booked for Wednesday, September 30th at 4 PM."),
    )
    assert classify_intent(call).value == "booking"


@given(
    pricing=st.sampled_from(
        [
            "I'll put a quote together and email it to you today.",
            "I'll send the pricing over now.",
            "Great, I'll email you a proposal by Friday.",
            "Okay. What's the best email for the proposal?",
            "And the best email address for your quote?",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_the_agent_pricing_the_request_outranks_a_misheard_booking_cue(pricing: str) -> None:
    call = make_call(
        ("agent", "Thank you for calling Summit Heating and Air. How can I help you today?"),
        ("caller", "i could have a daily from bright light for some look at the office"),
        ("agent", "Do you have a budget in mind?"),
        ("caller", "what the data and twenty five thousand dollars for the whole job"),
        ("agent", pricing),
    )
    label = classify_intent(call)
    assert label.value == "sales" and label.turns == (4,)


def test_a_quote_call_that_books_a_visit_stays_a_booking() -> None:
    call = make_call(
        ("agent", "Northgate Plumbing, how can I help?"),
        ("caller", "can someone come take a look at our water heater"),
        ("agent", "Sure. We'll put a quote together at the visit. You're booked for Monday at 9 AM."),
    )
    assert classify_intent(call).value == "booking"


def test_a_charge_alone_is_no_support_handling() -> None:
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"),
        ("caller", "hi i have a question"),
        ("agent", "There's a $50 deposit charge to hold the room."),
    )
    assert classify_intent(call).value == "inquiry"


@given(thanks=st.sampled_from(["and i appreciate that", "i appreciate you", "appreciate your help"]))
@settings(max_examples=5, deadline=None)
def test_appreciation_in_any_form_is_positive(thanks: str) -> None:
    call = make_call(("agent", "You're all set."), ("caller", thanks))
    assert classify_sentiment(call).value == "positive"


@given(
    closing=st.sampled_from(
        [
            "no, I don't want anything else, thanks",
            "no i dont want anything else thanks",
            "I don't want anything else",
        ]
    )
)
@settings(max_examples=5, deadline=None)
def test_declining_anything_else_is_a_polite_closing_not_a_refusal(closing: str) -> None:
    call = make_call(
        ("agent", "How can I help?"),
        ("caller", "I need a table for two tonight"),
        ("agent", "Done, it is reserved, the reference is ABC123. Anything else?"),
        ("caller", closing),
    )
    assert classify_outcome(call).value != "no_outcome"


def test_not_wanting_the_offer_is_still_a_refusal() -> None:
    call = make_call(
        ("agent", "Can I interest you in our premium plan?"),
        ("caller", "no i dont want it please dont call again"),
    )
    assert classify_outcome(call).value == "no_outcome"


@given(
    first=st.sampled_from(
        ["I hear you, and I'm sorry.", "I'm so sorry about that.", "We apologize for the trouble."]
    ),
    second=st.sampled_from(
        [
            "I completely understand, and I apologize.",
            "I'm sorry. I've flagged it.",
            "Thank you for your patience.",
        ]
    ),
)
@settings(max_examples=20, deadline=None)
def test_an_agent_soothing_the_caller_twice_reads_as_frustrated(first: str, second: str) -> None:
    # The caller's words are misheard past every cue; the bot keeps soothing them, in its own intact text.
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"),
        ("caller", "he had actually i didn't have my premium blend of like"),
        ("agent", first),
        ("caller", "had not done and there i've been lucky and five eleven years"),
        ("agent", second),
    )
    label = classify_sentiment(call)
    assert label.value == "frustrated" and label.turns == (2, 4)


@given(
    reply=st.sampled_from(
        [
            "I'm sorry, there are no Italian restaurants in the north.",
            "I'm sorry, but we don't have any rooms that night.",
            "Sorry, I didn't catch that. Could you repeat it?",
            "I'm sorry, I missed that. What's your name?",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_apologies_for_the_line_or_for_what_is_unavailable_are_not_soothing(reply: str) -> None:
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"),
        ("caller", "looking for a place to eat"),
        ("agent", reply),
        ("caller", "what about the centre"),
        ("agent", reply),
    )
    assert classify_sentiment(call).value == "neutral"


def test_one_apology_or_a_callers_thanks_keeps_the_callers_own_sentiment() -> None:
    once = make_call(
        ("agent", "How can I help?"),
        ("caller", "my package shows delivered but it is not here"),
        ("agent", "I'm so sorry about that. What's the tracking number?"),
    )
    assert classify_sentiment(once).value == "neutral"
    thanked = make_call(
        ("agent", "How can I help?"),
        ("caller", "my package shows delivered but it is not here"),
        ("agent", "I'm so sorry about that."),
        ("caller", "thank you so much, that's great"),
        ("agent", "I apologize again for the trouble."),
    )
    assert classify_sentiment(thanked).value == "positive"


@given(
    ask=st.sampled_from(
        [
            "What's the best phone number to reach you?",
            "And what's a good email address for you?",
            "Could you spell your last name for me?",
            "Let me read that back: 646-555-0128?",
        ]
    ),
    garbled=st.sampled_from(
        [
            "no the last digit is on the keyboard that fight fight fight will want to buy it",
            "it's four one five they quote for like five five five",
        ]
    ),
)
@settings(max_examples=20, deadline=None)
def test_an_answer_to_a_contact_detail_question_states_no_reason_for_the_call(ask: str, garbled: str) -> None:
    # Misheard digits and letters come out as words ("five" as "fight", "by" as "buy"): read as cues, they
    # made a billing question a sale.
    call = make_call(
        ("agent", "Thank you for calling Evergreen Landscaping. How can I help you today?"),
        ("caller", "hi there i have a question about the bill i got last month"),
        ("agent", f"Sure, I can help with that. {ask}"),
        ("caller", garbled),
    )
    assert classify_intent(call).value == "support"


def test_a_reason_given_in_answer_to_a_question_that_is_not_for_a_detail_still_counts() -> None:
    call = make_call(
        ("agent", "Thanks for calling. Can I have your name?"),
        ("caller", "sure it's dana"),
        ("agent", "Thanks, Dana. What can I do for you?"),
        ("caller", "i want to buy a family plan"),
    )
    assert classify_intent(call).value == "sales"


def test_a_page_that_stopped_showing_times_is_support_not_a_property_showing() -> None:
    call = make_call(
        ("agent", "Thanks for calling Slotwise support, this is Kai. What can I help with?"),
        ("caller", "hi our booking page stopped showing available times for my staff"),
    )
    assert classify_intent(call).value == "support"
    viewing = make_call(
        ("agent", "Harborview Realty, how can I help?"), ("caller", "can i get a showing of the unit")
    )
    assert classify_intent(viewing).value == "booking"


@given(
    fix=st.sampled_from(
        [
            "It looks like a calendar sync expired. I've reconnected it.",
            "The account was locked. I've unlocked it and sent a reset link.",
            "I've reset your password; check your email.",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_the_agent_putting_right_the_callers_own_thing_is_support_not_a_complaint(fix: str) -> None:
    # The caller's words are misheard past every cue; the agent's apology alone would read as a complaint.
    call = make_call(
        ("agent", "Thanks for calling Slotwise support, this is Kai. What can I help with?"),
        ("caller", "i heard a cage not feeling it a little time for my cat"),
        ("agent", "Sorry about that. What's the email on your account?"),
        ("caller", "the intel and lakeview family dot com"),
        ("agent", fix),
    )
    assert classify_intent(call).value == "support"


def test_a_credit_or_refund_after_an_apology_stays_a_complaint() -> None:
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"),
        ("caller", "he had actually i didnt have my premium blend of like"),
        ("agent", "I'm so sorry about that."),
        ("caller", "had not done and there"),
        ("agent", "I've added a credit of forty dollars to your account."),
    )
    assert classify_intent(call).value == "complaint"


@given(
    reply=st.sampled_from(
        [
            "No, this is Lakeshore Realty, a real estate office.",
            "I think you may have the wrong number.",
            "I'm sorry, we may have an old number on file.",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_the_agent_telling_a_garbled_caller_they_reached_someone_else_is_a_wrong_number(reply: str) -> None:
    call = make_call(
        ("agent", "Lakeshore Realty, this is Ava. How can I help?"),
        ("caller", "yeah that that young and"),
        ("agent", reply),
        ("caller", "the real number"),
    )
    assert classify_intent(call).value == "other"


def test_a_call_that_settled_a_date_with_nothing_else_said_of_its_reason_is_a_booking() -> None:
    call = make_call(
        ("agent", "ClearView Auto Glass, how can I help?"),
        ("caller", "hey i got attractive got my windshield from iraq but i laid"),
        ("agent", "We can do a mobile replacement Tuesday at 11 AM. Where would the car be?"),
        ("caller", "at my job"),
        ("agent", "Okay, Tuesday, April 21st at 11 AM."),
    )
    assert classify_intent(call).value == "inquiry"  # the words alone
    assert classify_intent(call, arranged=True).value == "booking"  # with the date the call settled


def test_a_settled_date_does_not_outrank_what_the_caller_said_of_the_reason() -> None:
    call = make_call(
        ("agent", "Thanks for calling, how can I help?"),
        ("caller", "i'd like to buy two tickets for the 7 pm showing on friday"),
        ("agent", "Okay, two tickets for Friday at 7 PM. You're all set."),
    )
    assert classify_intent(call, arranged=True).value == "sales"


def test_extraction_gives_the_intent_the_date_the_call_settled() -> None:
    turns = [
        ("agent", "ClearView Auto Glass, how can I help?"),
        ("caller", "hey i got attractive got my windshield from iraq but i laid"),
        ("agent", "We can do a mobile replacement Tuesday at 11 AM. Where would the car be?"),
        ("caller", "at my job"),
        ("agent", "Okay, Tuesday, April 21st at 11 AM."),
    ]
    payload = {
        "call_id": "t-1",
        "from": "+16175550148",
        "to": "+16175550100",
        "started_at": "2026-04-17T15:00:00Z",
        "timezone": "America/New_York",
        "turns": [{"speaker": s, "text": t} for s, t in turns],
    }
    extraction = extract_call(parse_generic_call(payload))
    assert extraction.fields["date"].value == "2026-04-21"
    assert extraction.intent.value == "booking"


_SEARCH = ("caller", "Can you help me find a place to eat in San Jose?")
_FOUND = ("agent", "Ariake is a nice restaurant in San Jose.")


@given(
    made=st.sampled_from(
        [
            "Your reservation has been made.",
            "The appointment is successfully booked.",
            "The reservation is done.",
            "Booking confirmed!",
            "It's booked! They're at 301 Old San Francisco Road.",
            "I was able to make that reservation for you.",
            "I have completed the reservation for you.",
            "Your visit has been scheduled.",
            "It was booked successfully.",
            "Absolutely. I've gone ahead and reserved it for you.",
            "Apartment visit confirmed.",
            "Alright, we got you scheduled.",
            "Appointment successfully created.",
            # extractor 52, read on the second dev task set
            "I have successful made your reservation.",
            "You are all set. Successfully done with your reservation.",
            "I have your appointment set up.",
            "OK! Your reservation has been saved.",
            "Reservation successfully completed.",
            "Done. Reservation made.",
            "And everything is confirmed.",
            "Your visit to the apartment is scheduled.",
            "Your walk through is schedule.",
            "Excellent, I have the appointment scheduled for you.",
            "You are now confirmed.",
            "You have made the reservation.",
            "You have a reservation now.",
            "Your appointment to the dentist has been successful booked.",
            "Your appointment was able to be scheduled exactly as requested.",
            "Your successful reservation will cost $504.",
        ]
    )
)
@settings(max_examples=120, deadline=None)
def test_the_agent_reporting_a_reservation_made_books_the_call(made: str) -> None:
    call = make_call(
        _SEARCH,
        _FOUND,
        ("caller", "Sounds good."),
        ("agent", "Please confirm: a table for 2 at 6 pm today at Ariake."),
        ("caller", "Yes, that's right."),
        ("agent", made),
    )
    assert classify_outcome(call).value == "appointment_booked"
    assert classify_intent(call).value == "booking"


def test_a_reservation_the_agent_could_not_make_is_not_booked() -> None:
    call = make_call(
        _SEARCH,
        _FOUND,
        ("caller", "Sounds good."),
        ("agent", "Please confirm: a table for 2 at 6 pm today at Ariake."),
        ("caller", "Yes."),
        ("agent", "Sorry, the reservation was not successful."),
    )
    assert classify_outcome(call).value != "appointment_booked"


def test_tickets_confirmed_after_their_read_back_are_a_sale_resolved_not_an_appointment() -> None:
    call = make_call(
        ("caller", "Can you help me find something fun to go to around Atlanta?"),
        ("agent", "There is Falcons Vs Buccaneers next Monday at 7:30 pm."),
        ("caller", "I like it."),
        ("agent", "Please confirm: 4 tickets for Falcons Vs Buccaneers next Monday."),
        ("caller", "That's fine."),
        ("agent", "Reservation confirmed. Enjoy!"),
    )
    assert classify_outcome(call).value == "resolved"
    assert classify_intent(call).value == "sales"


@given(
    request=st.sampled_from(
        [
            ("That sounds great. Please make a reservation.", "booking"),
            ("Nice, then reserve three tickets for that.", "sales"),
            ("Great, can you book it for me?", "booking"),
            ("Could you get me a cab to the airport?", "sales"),
            ("yes i like the sound of that please put me an appointment at the salon", "booking"),
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_a_reservation_or_purchase_asked_for_after_a_search_is_the_reason_for_the_call(
    request: tuple[str, str],
) -> None:
    said, intent = request
    call = make_call(
        _SEARCH,
        _FOUND,
        ("caller", "Are there any others?"),
        _FOUND,
        ("caller", "What is their address?"),
        ("agent", "It is at 1008 Blossom Hill Road."),
        ("caller", said),  # the fourth caller turn: past the opening the reason is usually read from
    )
    assert classify_intent(call).value == intent


@given(
    offer=st.sampled_from(
        [
            ("Would you like me to make a reservation?", "booking"),
            ("Shall I book an appointment there?", "booking"),
            ("Would you like to schedule a visit?", "booking"),
            ("Do you want tickets for it?", "sales"),
            ("Should I pick you up some tickets?", "sales"),
        ]
    ),
    yes=st.booleans(),
)
@settings(max_examples=40, deadline=None)
def test_the_agents_offer_to_book_or_sell_counts_only_when_the_caller_takes_it(
    offer: tuple[str, str], yes: bool
) -> None:
    asked, intent = offer
    reply = "Yes, please." if yes else "No, thanks."
    call = make_call(_SEARCH, _FOUND, ("caller", "That sounds nice."), ("agent", asked), ("caller", reply))
    assert (classify_intent(call).value == intent) is yes


@given(
    ask=st.sampled_from(
        [
            "Can you find me one-way Economy class flight tickets on Delta?",
            "I need oneway flights for a trip from Vancouver",
            "I'm looking for a bus to Fresno on the 3rd",
            "I plan to leave on the 8th and I need help searching for a bus.",
            "I need to book for a cab for one person, can you help me?",
        ]
    )
)
@settings(max_examples=20, deadline=None)
def test_a_fare_shopped_for_is_a_sale(ask: str) -> None:
    call = make_call(("agent", "How can I help?"), ("caller", ask))
    assert classify_intent(call).value == "sales"


@given(
    agent=st.sampled_from(
        [
            "There is a Delta Airlines flight that leaves at 5:35 pm, has 1 stop and is priced at $364.",
            "There's a bus with 0 transfers for $11 at 6:40 am.",
            "I found an Economy ticket for $20 that leaves at 7 am.",
            "I found an outbound American Airlines flight with 1 stop.",
            "I found a bus that has 0 transfers, departs at 6:10 am and costs $26.",
            "OK. So you need a cab for 1 to 379 Gellert Boulevard, and you don't mind sharing, right?",
        ]
    ),
    opening=st.sampled_from(
        ["can you help me find a book", "can you find me one way economy class like to cook"]
    ),
)
@settings(max_examples=40, deadline=None)
def test_travel_the_agent_finds_for_a_garbled_caller_is_a_sale(agent: str, opening: str) -> None:
    call = make_call(
        ("caller", opening),
        ("agent", "And where to?"),
        ("caller", "long beach california"),
        ("agent", agent),
        ("caller", "that will work"),
    )
    assert classify_intent(call).value == "sales"


def test_movie_tickets_offered_and_turned_down_leave_a_search() -> None:
    call = make_call(
        ("caller", "Can you show me some movie listings in San Jose?"),
        ("agent", "I found 7 movies, including Shazam! at CineLux."),
        ("caller", "What times do you have for Shazam?"),
        ("agent", "There's a showing at 10:30 pm. Would you like to buy tickets?"),
        ("caller", "No, that's all I need."),
    )
    assert classify_intent(call).value == "inquiry"


@given(
    offer=st.sampled_from(
        [
            ("Can I get those tickets for you?", "sales"),
            ("Do you want to visit?", "booking"),
            ("Please confirm: Book house in London for 3 people, checking in tomorrow.", "booking"),
            ("Please confirm that I got everything correctly: An appointment for 3:30 pm.", "booking"),
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_an_offer_taken_by_a_garbled_yes_is_the_reason(offer: tuple[str, str]) -> None:
    asked, intent = offer
    call = make_call(
        ("caller", "hyun period that out and then"),
        ("agent", "There is a Lights event at the Foundry today, and 29 East Allen Street has a unit free."),
        ("caller", "i think i'd prefer that option"),
        ("agent", asked),
        ("caller", "yeah i think i want to cut"),
    )
    assert classify_intent(call).value == intent


@given(
    said=st.sampled_from(
        [
            "Certainly, I bought you 4 tickets to the Phillies Vs Pirates game.",
            "I just reserved your spot!",
            "I'll confirm your reservation, enjoy your event!",
            "Was successful confirmed, will arrive at 11:18 am.",
            "The ticket from PDX International Airport is successful.",
            "Your visit to the apartment is already scheduled.",
            "Your appointment has be confirmed.",
            "I've schedule your visit for the 10th.",
            "Reservation reserved, their number is 510-899-8626.",
        ]
    )
)
@settings(max_examples=40, deadline=None)
def test_more_reports_of_a_booking_made_are_read(said: str) -> None:
    assert reports_booking(said)


@given(said=st.sampled_from(["Would you like me to book it?", "Do you have a reservation?", "Are you done?"]))
@settings(max_examples=10, deadline=None)
def test_questions_about_booking_are_no_report_of_one(said: str) -> None:
    assert not reports_booking(said)


# -- extractor 58: the day the call arranged is a booking made ---------------------------------------------


@given(
    done=st.sampled_from(
        ["It was successful.", "Done. The address is 16 Kentucky Street.", "Reservation succeful."]
    )
)
@settings(max_examples=6, deadline=None)
def test_a_day_arranged_in_words_the_outcome_cues_do_not_know_is_a_booking(done: str) -> None:

    call = friday_call(
        ("caller", "Please book a table for 2 at 5:30 in the evening."),
        ("agent", "Just to confirm, you want a table today at A16 in Oakland for 2 people at 5:30 pm?"),
        ("caller", "Yes, that's right."),
        ("agent", done),
    )
    assert extract_call(call).outcome.value == "appointment_booked"


@given(
    turns=st.sampled_from(
        [
            (
                ("caller", "I need a one way flight ticket, leaving on March 13th."),
                ("agent", "Please confirm: Delta Airlines, economy, departing March 13th, 2 passengers."),
            ),
            (
                ("caller", "I want to send flowers to my mom, delivered next Saturday."),
                ("agent", "Please confirm delivery next Saturday to 112 Willow Lane."),
            ),
        ]
    )
)
@settings(max_examples=4, deadline=None)
def test_a_departure_or_delivery_arranged_is_no_appointment(
    turns: tuple[tuple[str, str], tuple[str, str]],
) -> None:

    call = friday_call(*turns, ("caller", "Yes, that's right."), ("agent", "It was successful."))
    assert extract_call(call).outcome.value != "appointment_booked"


@given(
    declined=st.sampled_from(
        ["No, thanks. I don't want to book it now.", "Maybe, but I don't want to schedule anything now."]
    )
)
@settings(max_examples=4, deadline=None)
def test_declining_the_offer_to_book_after_a_search_is_no_failed_call(declined: str) -> None:
    call = make_call(
        ("caller", "I need help finding a salon in Napa."),
        ("agent", "I found 4 salons you might like. Stags Barbershop is a great salon located in Napa."),
        ("caller", "That sounds great."),
        ("agent", "Would you like me to book you an appointment?"),
        ("caller", declined),
        ("agent", "Is there anything else I can help you with?"),
        ("caller", "No, thank you."),
    )
    assert classify_outcome(call).value != "no_outcome"


def test_not_wanting_what_the_call_offers_is_still_no_outcome() -> None:
    call = make_call(
        ("agent", "Hi, I'm calling from Brightline Energy about lowering your bill."),
        ("caller", "I don't want to switch providers, thanks."),
        ("agent", "Understood, have a good day."),
    )
    assert classify_outcome(call).value == "no_outcome"


@given(
    vehicle=st.sampled_from(["vehicle", "car", "standard car", "SUV"]),
    rent=st.sampled_from(
        ["I'd like to search for a rental vehicle.", "I need to rent a car.", "Can you find me a car hire?"]
    ),
)
@settings(max_examples=12, deadline=None)
def test_a_car_rented_for_days_is_a_booking_even_where_the_read_back_says_vehicle(
    vehicle: str, rent: str
) -> None:
    c = friday_call(
        ("caller", rent),
        ("agent", "When would you like to pick it up?"),
        ("caller", "On the 7th, around 10:30 in the morning."),
        (
            "agent",
            f"Please verify: you are picking up a {vehicle} on March 7th at 10:30 am, drop-off March 8th.",
        ),
        ("caller", "Yup, that's all right with me."),
        ("agent", f"Your {vehicle} has been booked."),
    )
    ex = extract_call(c)
    assert ex.intent.value == "booking"
    assert ex.outcome.value == "appointment_booked"


def test_a_misheard_rent_does_not_make_a_ride_a_booking() -> None:
    c = friday_call(
        ("caller", "we're going to rent a one hundred and thirty three"),
        ("agent", "Where would you like the ride to go?"),
        ("caller", "to the airport please"),
        ("agent", "Please confirm: a pool ride for 2 to the airport."),
        ("caller", "yes"),
        ("agent", "Your ride has been booked and the vehicle is on its way."),
    )
    ex = extract_call(c)
    assert ex.intent.value == "sales"
    assert ex.outcome.value == "resolved"


@given(
    size=st.sampled_from(
        [
            "I would like a large car.",
            "I want a small car.",
            "I'd like a medium-sized car.",
            "I am interested in a small rental car.",
        ]
    )
)
@settings(max_examples=8, deadline=None)
def test_the_size_of_a_car_to_rent_is_no_order_of_a_drink(size: str) -> None:
    c = friday_call(
        ("caller", f"I need to rent a car on March 7th. {size}"),
        ("agent", "Please confirm: a car picked up on March 7th at 10:30 am."),
        ("caller", "Yes."),
        ("agent", "Your car has been reserved."),
    )
    assert extract_call(c).intent.value == "booking"


def test_a_large_drink_is_still_an_order() -> None:
    c = friday_call(("caller", "Hi, I'd like a large latte please."), ("agent", "Sure, that's $4.50."))
    assert extract_call(c).intent.value == "sales"


# -- extractor 69: what the caller turns down, sees, or shops for -----------------------------------------


@given(
    offer=st.sampled_from(
        ["Would you like for me to book you an appointment?", "Do you want to buy tickets now?"]
    ),
    answer=st.sampled_from(
        [
            "No, thanks. I don't want to book it now.",
            "No, I don't want to book an appointment right now. Thanks.",
            "I will purchase a ticket later, what time is it on?",
            "I think I am not ready to purchase tickets, so no.",
            "No thanks, I will buy tickets later.",
        ]
    ),
)
@settings(max_examples=20, deadline=None)
def test_turning_down_the_offer_to_book_or_sell_leaves_a_search_an_inquiry(offer: str, answer: str) -> None:
    call = make_call(
        ("caller", "Can you find me a salon in Napa?"),
        ("agent", "I found 4 salons. Stags Barbershop is a great salon in Napa."),
        ("caller", "That sounds great."),
        ("agent", offer),
        ("caller", answer),
        ("agent", "Is there anything else I can help you with?"),
        ("caller", "No, thank you."),
    )
    assert classify_intent(call).value == "inquiry"


def test_a_caller_asking_to_book_after_turning_down_a_read_back_still_books() -> None:
    """Only an offer to book is turned down by "no": a read-back the caller corrects is still booked."""
    call = make_call(
        ("caller", "Could you book an appointment at the dentist for me?"),
        ("agent", "Please confirm: an appointment at 3 pm on Friday."),
        ("caller", "No, make it 4 pm."),
    )
    assert classify_intent(call).value == "booking"


@given(
    ask=st.sampled_from(
        [
            "I want to see a movie in Emeryville.",
            "I'd like to see it on the 9th. What time is the show?",
            "I want to go see the concert on Saturday.",
            "I need to see what events are on in New York.",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_seeing_a_movie_show_or_event_is_no_booking(ask: str) -> None:
    call = make_call(("caller", ask), ("agent", "There is 1 showing at 9 pm at AMC Bay Street."))
    assert classify_intent(call).value == "inquiry"


@given(ask=st.sampled_from(["I need to see a dentist.", "We want to see the house on Elm Street."]))
@settings(max_examples=5, deadline=None)
def test_seeing_a_doctor_or_a_house_is_still_a_booking(ask: str) -> None:
    call = make_call(("caller", ask), ("agent", "Sure, what day works for you?"))
    assert classify_intent(call).value == "booking"


def test_a_title_the_agent_offered_is_no_complaint() -> None:
    call = make_call(
        ("caller", "Can you find me a movie in San Jose?"),
        ("agent", "I found 2 movies. What do you think about Long Shot or Missing Link?"),
        ("caller", "Missing Link sounds awesome."),
        ("agent", "Would you like to buy tickets?"),
        ("caller", "No, not now."),
    )
    assert classify_intent(call).value == "inquiry"


def test_a_package_reported_missing_is_still_a_complaint() -> None:
    call = make_call(
        ("agent", "Thanks for calling. Is your order the one with the Missing Link book?"),
        ("caller", "My package is missing, it never arrived."),
    )
    assert classify_intent(call).value == "complaint"


@given(day=st.sampled_from(["the 9th", "March 12th", "Friday", "the 9th of March", "next Tuesday"]))
@settings(max_examples=10, deadline=None)
def test_coming_back_on_a_day_is_a_return_trip_not_a_fault_come_back(day: str) -> None:
    call = make_call(
        ("caller", f"I'm leaving from SF on the 3rd and want to come back on {day}."),
        ("agent", "I found a flight that leaves at 7:05 am for $391."),
    )
    assert classify_intent(call).value == "sales"


def test_the_fault_coming_back_on_is_still_a_complaint() -> None:
    call = make_call(("agent", "How can I help?"), ("caller", "The check engine light came back on again."))
    assert classify_intent(call).value == "complaint"


@given(
    ask=st.sampled_from(
        [
            "I'm looking for a flight to Atlanta on the 3rd.",
            "I am looking for a one way economy flight.",
            "Are there any other buses available?",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_shopping_for_a_fare_the_agent_sells_is_sales(ask: str) -> None:
    call = make_call(
        ("caller", ask), ("agent", "I found 3 flights. There is a Delta flight that leaves at 7:05 am.")
    )
    assert classify_intent(call).value == "sales"


def test_event_tickets_read_back_without_the_word_ticket_are_a_sale() -> None:
    call = make_call(
        ("caller", "I want to find some events in Vancouver."),
        ("agent", "I found Whitecaps Vs Earthquakes, it starts tomorrow at BC Place."),
        ("caller", "Sounds perfect! Can you get me in?"),
        ("agent", "Whitecaps Vs Earthquakes for 2 people tomorrow in Vancouver, is that correct?"),
        ("caller", "Yes, that is good."),
        ("agent", "Reservation was successful."),
    )
    assert classify_intent(call).value == "sales"
    assert classify_outcome(call).value == "resolved"


def test_a_table_read_back_without_the_word_table_is_a_booking() -> None:
    call = make_call(
        ("caller", "I want some Persian food in San Francisco."),
        ("agent", "I found 10 restaurants. I suggest Barcha."),
        ("caller", "OK, please reserve a seat for two people on March 3rd at 10:45."),
        ("agent", "Please confirm your booking with Barcha on March 3rd at 10:45 am for 2 people."),
        ("caller", "That's correct."),
        ("agent", "Your reservation is confirmed."),
    )
    assert classify_intent(call).value == "booking"
    assert classify_outcome(call).value == "appointment_booked"


# -- extractor 70 -------------------------------------------------------------------------------------------


@given(who=st.sampled_from(["a dermatologist", "a general practitioner", "a 4 bedroom unit", "a restaurant"]))
@settings(max_examples=8, deadline=None)
def test_interest_in_a_place_or_a_professional_is_no_sale(who: str) -> None:
    call = make_call(
        ("caller", f"I am interested in {who} in Santa Rosa."),
        ("agent", "I found one. Would you like me to book an appointment there?"),
        ("caller", "Yes, please."),
    )
    assert classify_intent(call).value == "booking"


def test_interest_in_a_membership_is_still_a_sale() -> None:
    call = make_call(("caller", "I'm interested in a membership at your gym."), ("agent", "Great!"))
    assert classify_intent(call).value == "sales"


@given(
    ask=st.sampled_from(
        [
            "Yes that is good and I want a reservation at a restaurant.",
            "I would like to arrange an inspection.",
        ]
    )
)
@settings(max_examples=5, deadline=None)
def test_wanting_a_reservation_or_arranging_a_visit_later_in_the_call_is_a_booking(ask: str) -> None:
    call = make_call(
        ("caller", "What is there in San Mateo?"),
        ("agent", "What kind of food?"),
        ("caller", "A diner."),
        ("agent", "Central Park Bistro is a good place in San Mateo."),
        ("caller", "What is the address?"),
        ("agent", "181 East 4th Avenue."),
        ("caller", ask),
        ("agent", "What time?"),
    )
    assert classify_intent(call).value == "booking"


@given(
    said=st.sampled_from(
        [
            "I don't need a reservation now.",
            "I do not want an appointment yet.",
            "I never want a reservation.",
        ]
    )
)
@settings(max_examples=5, deadline=None)
def test_not_needing_a_reservation_is_no_booking(said: str) -> None:
    call = make_call(
        ("caller", "What is there in San Mateo?"),
        ("agent", "Central Park Bistro is a good place in San Mateo."),
        ("caller", said),
    )
    assert classify_intent(call).value == "inquiry"


def test_an_inspection_confirmed_is_a_booking_made() -> None:
    assert reports_booking("Your inspection of the apartment is now confirmed.")


@given(
    offer=st.sampled_from(
        ["Can I help you purchase tickets?", "Should I go ahead and reserve your tickets now?"]
    ),
    answer=st.sampled_from(["No, I'll buy them at the box office.", "No. I don't want to buy any tickets."]),
)
@settings(max_examples=8, deadline=None)
def test_more_offers_to_sell_turned_down(offer: str, answer: str) -> None:
    call = make_call(
        ("caller", "What movies are showing in Healdsburg?"),
        ("agent", "Does Dumbo or Shazam sound good?"),
        ("caller", "I love Dumbo."),
        ("agent", offer),
        ("caller", answer),
    )
    assert classify_intent(call).value == "inquiry"


def test_putting_the_tickets_off_unasked_is_no_sale() -> None:
    call = make_call(
        ("caller", "What movies are showing in Brentwood?"),
        ("agent", "The CineLux has Dumbo on the 1st of March at 6:30 pm."),
        ("caller", "That sounds good. I will get tickets later."),
    )
    assert classify_intent(call).value == "inquiry"


@given(
    ask=st.sampled_from(
        ["Can you fetch a cab for me?", "I need a shared cab to get there.", "Can you find me a cab?"]
    )
)
@settings(max_examples=5, deadline=None)
def test_asking_for_a_cab_buys_a_ride(ask: str) -> None:
    call = make_call(
        ("caller", "What time is Shazam playing in Walnut Creek?"),
        ("agent", "On what date?"),
        ("caller", "Today."),
        ("agent", "There is a showing at 10 pm."),
        ("caller", "Where is the theater?"),
        ("agent", "At 1201 Locust Street."),
        ("caller", ask),  # a fourth turn: the caller's opening turns are read for a ride elsewhere
    )
    assert classify_intent(call).value == "sales"


@given(
    answer=st.sampled_from(
        [
            "No, I don't want them now.",
            "No I'm not interested in those. Are any other movies playing?",
            "No, I am not interested in making the purchase right now.",
        ]
    )
)
@settings(max_examples=5, deadline=None)
def test_a_caller_turning_down_what_they_searched_for_got_an_answer(answer: str) -> None:
    call = make_call(
        ("caller", "Can you find me a movie in Concord?"),
        ("agent", "I found The Curse of La Llorona. Would you like to buy tickets?"),
        ("caller", answer),
        ("agent", "Anything else?"),
        ("caller", "No, thanks."),
    )
    assert classify_outcome(call).value == "resolved"


def test_not_interested_in_a_business_calling_out_is_still_no_outcome() -> None:
    call = make_call(
        ("agent", "Hi, this is Sam from Brightpath. Would you like to book a free demo of our software?"),
        ("caller", "No, I'm not interested."),
        ("agent", "Okay, have a good day."),
        ("caller", "Bye."),
        direction="outbound",
    )
    assert classify_outcome(call).value == "no_outcome"


def test_asking_for_other_options_is_no_refusal() -> None:
    call = make_call(
        ("caller", "Can you find me a movie in Concord?"),
        ("agent", "I found Long Shot and Dumbo."),
        ("caller", "I'm not interested in those. Are any other movies playing?"),
        ("agent", "Shazam is playing at 9 pm."),
        ("caller", "Great, thanks."),
    )
    assert classify_outcome(call).value == "resolved"


# -- extractor 72 -------------------------------------------------------------------------------------------


@given(
    ask=st.sampled_from(
        [
            "Sounds good. Add it as an event to my calendar.",
            "I wish to include it in my calendar.",
            "No thanks, but can you add it to my calendar?",
        ]
    )
)
@settings(max_examples=6, deadline=None)
def test_a_meeting_put_on_the_callers_calendar_is_a_booking(ask: str) -> None:
    call = make_call(
        ("caller", "I wish to search for a movie in Livermore."),
        ("agent", "How about Dumbo? There's a session at 7 pm."),
        ("caller", "What about other movies?"),
        ("agent", "Hellboy is on at 8 pm. Would you like to buy tickets?"),
        ("caller", ask),
    )
    assert classify_intent(call).value == "booking"


def test_turning_the_offer_down_but_asking_a_question_stays_an_inquiry() -> None:
    call = make_call(
        ("caller", "I want to find a comedy movie to watch at Century Oakridge."),
        ("agent", "Little is playing. Would you like to buy tickets?"),
        ("caller", "No, I don't want to purchase tickets now. But can you tell me when I can see it?"),
        ("agent", "It is on at 7 pm."),
    )
    assert classify_intent(call).value == "inquiry"


# -- extractor 75: calendar entries made, and a provider found but not booked ----------------------------------


def _movie_then_calendar(made: str) -> list[tuple[str, str]]:
    return [
        ("caller", "I'd like to find a movie to see in Berkeley."),
        ("agent", "Hellboy is playing tomorrow at 3:30 pm at United Artists Berkeley 7."),
        ("caller", "Okay, that sounds great."),
        ("agent", "Do you want to purchase a ticket?"),
        ("caller", "No thanks, but can you put it on my calendar? Make it for 3:30 pm."),
        ("agent", "Alright, please confirm: adding the movie to your calendar for March 2nd at 3:30 pm."),
        ("caller", "Yep, that's perfect."),
        ("agent", made),
        ("caller", "Thanks for all your help."),
    ]


@given(
    made=st.sampled_from(
        [
            "The event has been added to your calendar.",
            "The event has successfully been added to your calendar.",
            "The event has been successfully included.",
            "I successfully put the event in your calendar.",
        ]
    )
)
@settings(max_examples=8, deadline=None)
def test_an_event_put_on_the_calendar_after_the_tickets_were_turned_down_is_booked(made: str) -> None:
    extraction = extract_call(friday_call(*_movie_then_calendar(made)))
    assert extraction.outcome.value == "appointment_booked"
    assert extraction.fields["date"].value == "2024-03-02"
    assert extraction.fields["time"].value == "15:30"
    assert extraction.fields["date"].status.value == "accepted"


def test_tickets_bought_in_a_call_that_only_asked_what_the_calendar_shows_are_no_appointment() -> None:
    call = friday_call(
        ("caller", "Could you tell me when I am available on March 4th? What does my calendar show?"),
        (
            "agent",
            "You are available from 1 pm to 11 pm on March 4th. Would you like to add an event to your calendar?",
        ),
        ("caller", "No, that is not necessary. Can I buy tickets for the Mandy Harvey concert that day?"),
        ("agent", "Please confirm your purchase of 2 tickets for the March 4th event."),
        ("caller", "That is fine with me."),
        ("agent", "Your tickets have been purchased."),
    )
    assert extract_call(call).outcome.value == "resolved"


@given(no=st.sampled_from(["I think I'll wait. Thank you for the information.", "Nope, not now."]))
@settings(max_examples=4, deadline=None)
def test_a_provider_found_and_the_offer_to_book_turned_down_is_an_inquiry(no: str) -> None:
    call = make_call(
        ("caller", "I'm interested in making an appointment at a dentist. Can you help?"),
        ("agent", "There are 10 dentists in Gilroy. May I suggest Albert Lee?"),
        ("caller", "That sounds perfect."),
        ("agent", "Great! Would you like me to book an appointment now?"),
        ("caller", no),
        ("agent", "Of course. Can I be of any other assistance today?"),
        ("caller", "I don't think so. Thank you for your help!"),
    )
    assert classify_intent(call).value == "inquiry"


def test_asking_to_book_before_turning_down_another_time_stays_a_booking() -> None:
    call = make_call(
        ("caller", "I really need to see a dentist. Please book an appointment with A J Dental Lab."),
        ("agent", "Please confirm an appointment with A J Dental Lab on March 2nd at 2:45 pm."),
        ("caller", "Yup, that's right."),
        (
            "agent",
            "Sorry, I wasn't able to book it. Do you want me to book an appointment on March 2nd at 2:30 pm?",
        ),
        ("caller", "No thanks, that's all I needed help with."),
    )
    assert classify_intent(call).value == "booking"


@given(
    said=st.sampled_from(
        [
            ("agent", "I have added the movie to your calendar."),
            ("caller", "Please add it to my calendar."),
        ]
    )
)
@settings(max_examples=4, deadline=None)
def test_a_calendar_entry_made_or_asked_for_is_an_appointment_beside_tickets(said: tuple[str, str]) -> None:
    from callsync.capture.extract.labels import _no_appointment

    tickets = ("agent", "Do you want to purchase tickets?")
    assert _no_appointment(make_call(tickets))
    assert not _no_appointment(make_call(tickets, said))


def test_an_event_on_the_calendar_after_a_showing_is_a_booking_not_a_sale() -> None:
    call = friday_call(
        ("caller", "I wish to search for a movie in Larkspur on March 8th."),
        ("agent", "There is a show at 4 pm in Lark Theater. Shall I get tickets?"),
        ("caller", "No. I wish to include it in my calendar."),
        (
            "agent",
            "Kindly ensure that, on March 8th, the event Movie show is at 549 Magnolia Avenue at 4 pm.",
        ),
        ("caller", "Yes. It is good."),
        ("agent", "This event has been successfully scheduled."),
    )
    extraction = extract_call(call)
    assert (extraction.intent.value, extraction.outcome.value) == ("booking", "appointment_booked")


def test_tickets_bought_after_the_calendar_entry_was_offered_and_declined_are_a_sale() -> None:
    call = friday_call(
        ("caller", "Am I free next Wednesday?"),
        (
            "agent",
            "For March 6th you will be free from 7 am till 8:30 pm. Do you want an event to be added to your calendar?",
        ),
        ("caller", "No. I am looking for Sports events in Atlanta that day."),
        ("agent", "The Falcons Vs Buccaneers match is on March 6th at 6 pm. Do you want tickets?"),
        ("caller", "Yes I want to buy 4 tickets for this event."),
        ("agent", "Please confirm 4 tickets for the match on March 6th in Atlanta?"),
        ("caller", "Yes, that is what I want."),
        ("agent", "Your requested tickets have been booked. Enjoy your time there!"),
    )
    extraction = extract_call(call)
    assert (extraction.intent.value, extraction.outcome.value) == ("sales", "resolved")
