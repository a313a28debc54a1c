"""Date and time failure kinds seen on calls nobody here wrote (issue 13), written from the issue's text.

The end of a range is not its start; a slot only the agent said becomes the arrangement when the caller
takes it; an unpunctuated "yes that works" running into a question still takes it; a slot the agent turned
down is not booked by repeating it; "no, make it 2:45 instead" replaces the time; a second booking does not
replace the first.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callsync.capture.extract.spoken import render_cardinal
from callsync.capture.extract.when import extract_when, render_spoken_date
from callsync.capture.platforms.generic import parse_generic_call
from callsync.models import CallRecord, FieldStatus

A = FieldStatus.ACCEPTED
MONDAY = "2026-06-08T14:00:00Z"  # 10:00 in New York, Monday 8 June 2026
TODAY = date(2026, 6, 8)


def call(*turns: tuple[str, str]) -> CallRecord:
    payload: dict[str, Any] = {
        "call_id": "t-1",
        "from": "+16175550148",
        "to": "+16175550100",
        "started_at": MONDAY,
        "timezone": "America/New_York",
        "turns": [{"speaker": s, "text": t} for s, t in turns],
    }
    return parse_generic_call(payload)


def value(c: CallRecord, name: str) -> tuple[str | None, FieldStatus | None]:
    fv = extract_when(c).get(name)
    return (fv.value, fv.status) if fv is not None else (None, None)


days = st.integers(min_value=3, max_value=40).map(lambda n: TODAY + timedelta(days=n))
spans = st.integers(min_value=1, max_value=9)
end_words = st.sampled_from(
    [
        "and check out on {d}",
        "and I'll be returning on {d}",
        "and coming back {d}",
        "and fly back on {d}",
        "returning {d}",
    ]
)
start_words = st.sampled_from(["check in on {d}", "leave on {d}", "fly out {d}", "arrive on {d}"])


@given(start=days, span=spans, begin=start_words, end=end_words)
@settings(max_examples=60, deadline=None)
def test_the_end_of_a_range_is_never_taken_for_its_start(
    start: date, span: int, begin: str, end: str
) -> None:
    back = start + timedelta(days=span)
    c = call(
        ("agent", "What dates are you looking at?"),
        (
            "caller",
            f"I'd like to {begin.format(d=render_spoken_date(start))} {end.format(d=render_spoken_date(back))}",
        ),
        ("agent", "Great, you're all booked."),
    )
    assert value(c, "date")[0] in (start.isoformat(), None)


def test_a_return_date_in_a_later_turn_does_not_replace_the_departure() -> None:
    c = call(
        ("agent", "When would you like to fly out?"),
        ("caller", "June 20th"),
        ("agent", "And when would you like to come back?"),
        ("caller", "I need to fly back June 27th"),
    )
    assert value(c, "date")[0] == "2026-06-20"


@given(
    hour=st.integers(min_value=1, max_value=11),
    minute=st.sampled_from([0, 15, 30, 45]),
    take=st.sampled_from(["perfect, book it", "that works for me", "sounds good let's do it", "yes please"]),
)
@settings(max_examples=40, deadline=None)
def test_a_slot_only_the_agent_said_is_the_arrangement_when_the_caller_takes_it(
    hour: int, minute: int, take: str
) -> None:
    c = call(
        ("caller", "I need to bring my car in"),
        ("agent", f"The earliest I have is Thursday at {hour}:{minute:02d} PM."),
        ("caller", take),
    )
    assert value(c, "date") == ("2026-06-11", A)
    assert value(c, "time") == (f"{hour + 12:02d}:{minute:02d}", A)


def test_an_unpunctuated_yes_running_into_a_question_takes_the_offer() -> None:
    c = call(
        ("agent", "I can do Wednesday at 3 PM"),
        ("caller", "yes that works do i need to bring anything"),
    )
    assert value(c, "date") == ("2026-06-10", A)
    assert value(c, "time") == ("15:00", A)


def test_a_slot_the_agent_turned_down_is_not_booked_by_repeating_it() -> None:
    c = call(
        ("caller", "can I get a table for four on Saturday at noon"),
        ("agent", "Saturday at noon is no good, I'm sorry."),
        ("caller", "oh okay never mind then"),
    )
    assert value(c, "time")[1] is not A
    assert value(c, "date")[1] is not A


def test_a_declined_counter_offer_is_not_the_arrangement() -> None:
    c = call(
        ("caller", "do you have anything Friday at 10"),
        ("agent", "Friday is full. I could do Saturday at 9 AM."),
        ("caller", "no that doesn't work for me"),
    )
    assert value(c, "date")[0] != "2026-06-13"
    assert value(c, "time")[0] != "09:00"


@given(
    first=st.integers(min_value=1, max_value=5),
    new_minute=st.sampled_from([15, 30, 45]),
    marker=st.sampled_from(
        ["no make it {t} instead", "actually can we do {t} instead", "sorry make that {t}"]
    ),
)
@settings(max_examples=40, deadline=None)
def test_make_it_another_time_instead_replaces_the_time(first: int, new_minute: int, marker: str) -> None:
    new = f"{first}:{new_minute}"
    c = call(
        ("agent", f"You're booked for Wednesday at {first} PM."),
        ("caller", marker.format(t=new)),
        ("agent", "Sure, no problem."),
    )
    assert value(c, "time")[0] == f"{first + 12:02d}:{new_minute:02d}"
    assert value(c, "date")[0] == "2026-06-10"


def test_a_second_booking_does_not_replace_the_first() -> None:
    c = call(
        ("caller", "I need a train to Ely on Wednesday"),
        ("agent", "I've booked you on the 5:40 PM on Wednesday."),
        ("caller", "great and I also need a hotel room for Friday"),
        ("agent", "Done, you're booked for Friday."),
    )
    assert value(c, "date")[0] == "2026-06-10"


@given(
    dep=st.integers(min_value=6, max_value=11),
    dur=st.integers(min_value=1, max_value=5),
    end=st.sampled_from(["arriving at", "and arrives at", "getting in at", "landing at"]),
)
@settings(max_examples=30, deadline=None)
def test_the_arrival_time_of_a_booked_trip_is_not_its_time(dep: int, dur: int, end: str) -> None:
    c = call(
        ("caller", "I need a train on Wednesday"),
        ("agent", f"I've booked you on a train leaving at {dep}:10 AM {end} {dep + dur}:50 on Wednesday."),
    )
    assert value(c, "time")[0] in (f"{dep:02d}:10", None)


# -- second pass (issue 13): the agent's side of a range, party sizes, changes turned down, cancellations,
# bookings stated without their date.


@given(start=days, span=spans, end=st.sampled_from(["checking out", "check-out", "returning", "coming back"]))
@settings(max_examples=40, deadline=None)
def test_the_end_of_a_stay_in_the_agents_booking_statement_is_not_the_slot(
    start: date, span: int, end: str
) -> None:
    back = start + timedelta(days=span)
    c = call(
        ("caller", "I'd like to book the room please"),
        (
            "agent",
            f"Done. You're booked for {render_spoken_date(start, written=True)}, {end} "
            f"{render_spoken_date(back, written=True)}.",
        ),
        ("caller", "great thanks"),
    )
    assert value(c, "date") == (start.isoformat(), A)


@given(
    size=st.integers(min_value=2, max_value=9),
    spoken=st.booleans(),
    frame=st.sampled_from(
        [
            "a table for {n} tonight",
            "a party of {n} tomorrow",
            "{n} tickets for tonight",
            "{n} seats on Friday",
        ]
    ),
)
@settings(max_examples=40, deadline=None)
def test_a_party_size_next_to_a_date_is_not_a_time(size: int, spoken: bool, frame: str) -> None:
    n = render_cardinal(size) if spoken else str(size)
    c = call(("caller", f"Hi, I'd like {frame.format(n=n)}"), ("agent", "Let me check."))
    assert value(c, "time") == (None, None)


@given(booked=st.integers(min_value=6, max_value=10), asked=st.integers(min_value=1, max_value=5))
@settings(max_examples=30, deadline=None)
def test_a_change_the_agent_turns_down_leaves_the_booked_time(booked: int, asked: int) -> None:
    c = call(
        ("caller", "two tickets for tonight please"),
        ("agent", f"Your tickets are confirmed for the {booked} pm show tonight."),
        ("caller", f"Actually can you change it to the {asked} pm show?"),
        ("agent", f"Sorry, {asked} pm is sold out."),
        ("caller", "ok keep it then"),
    )
    assert value(c, "time") == (f"{booked + 12:02d}:00", A)


def test_a_booking_statement_saying_is_booked_for_is_a_booking_not_a_decline() -> None:
    c = call(
        ("caller", "a table tonight please"),
        ("agent", "Your table is booked for 8 pm tonight."),
        ("caller", "thanks"),
    )
    assert value(c, "time") == ("20:00", A)


@given(denial=st.sampled_from(["no that's wrong", "no, that's not right", "nope that is not correct"]))
@settings(max_examples=10, deadline=None)
def test_a_caller_denying_the_booking_statement_leaves_it_for_review(denial: str) -> None:
    c = call(
        ("caller", "a table tonight please"),
        ("agent", "Your table is booked for 10 pm tonight."),
        ("caller", denial),
    )
    assert value(c, "time")[1] is not A
    assert value(c, "date")[1] is not A


@given(words=st.sampled_from(["Actually, cancel that.", "cancel the booking please", "forget it then"]))
@settings(max_examples=10, deadline=None)
def test_a_caller_cancelling_without_a_date_ends_the_arrangement(words: str) -> None:
    c = call(
        ("caller", "two tickets for tonight"),
        ("agent", "Your tickets are confirmed for the 10 pm show tonight."),
        ("caller", words),
    )
    assert value(c, "date") == (None, None)
    assert value(c, "time") == (None, None)


@given(
    day=days,
    hour=st.integers(min_value=13, max_value=21),
    done=st.sampled_from(
        [
            "Booking was successful. The reference number is 8XK2JS.",
            "I have reserved it for you.",
            "Okay, booked. Anything else?",
            "You're all booked, the reference is QR55.",
        ]
    ),
)
@settings(max_examples=40, deadline=None)
def test_a_booking_stated_without_its_date_books_what_the_caller_asked(
    day: date, hour: int, done: str
) -> None:
    c = call(
        ("caller", f"I need a table for 4 at {hour}:00 on {render_spoken_date(day, written=True)}"),
        ("agent", done),
        ("caller", "thanks"),
    )
    assert value(c, "date") == (day.isoformat(), A)
    assert value(c, "time") == (f"{hour:02d}:00", A)


def test_a_booking_stated_without_its_date_does_not_book_a_day_turned_down() -> None:
    c = call(
        ("caller", "I need a train to Cambridge on Tuesday"),
        ("agent", "There are no trains on Tuesday. Would Wednesday work?"),
        ("caller", "no thanks"),
        ("agent", "Okay. I've booked the taxi you asked about."),
    )
    assert value(c, "date")[1] is not A


def test_a_second_request_does_not_replace_a_first_one_nothing_booked_yet() -> None:
    c = call(
        ("caller", "I need a train to Cambridge on Tuesday"),
        ("agent", "TR1234 leaves at 10:15."),
        ("caller", "Thanks. I also need a hotel for Thursday."),
    )
    assert value(c, "date")[0] == "2026-06-09"


@given(
    done=st.sampled_from(
        [
            "Your tickets have been purchased.",
            "I've purchased your tickets.",
            "I have made the reservation.",
            "Okay, your tickets are booked.",
            "Your table has been reserved.",
            "I've bought the tickets for you.",
        ]
    ),
    hour=st.integers(min_value=1, max_value=11),
)
@settings(max_examples=40, deadline=None)
def test_a_purchase_stated_without_its_date_is_what_the_caller_asked(done: str, hour: int) -> None:
    c = call(
        ("caller", f"I'd like two tickets for Dune on Friday at {hour}:30 pm"),
        ("agent", "Which theater?"),
        ("caller", "AMC on Main"),
        ("agent", done),
        ("caller", "thanks"),
    )
    assert value(c, "date") == ("2026-06-12", A)
    assert value(c, "time") == (f"{hour + 12}:30", A)


@given(
    refusal=st.sampled_from(
        [
            "Sorry, Friday is booked up.",
            "I'm afraid Friday is fully booked.",
            "There is nothing available Friday.",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_a_refusal_is_not_a_booking_stated_without_its_date(refusal: str) -> None:
    c = call(("caller", "a table for Friday at 7 pm please"), ("agent", refusal), ("caller", "ok"))
    assert value(c, "date")[1] is not A


def test_you_are_all_set_alone_books_nothing() -> None:
    c = call(("caller", "can you refund it by Friday"), ("agent", "You're all set."), ("caller", "thanks"))
    assert value(c, "date")[1] is not A


@given(
    bound=st.sampled_from(["after", "before", "by", "no later than"]),
    hour=st.integers(min_value=13, max_value=21),
)
@settings(max_examples=40, deadline=None)
def test_a_bound_on_the_time_is_not_the_time(bound: str, hour: int) -> None:
    c = call(
        ("caller", f"I need a train to London on Saturday leaving {bound} {hour}:00"),
        ("agent", f"TR1234 leaves at {hour}:40. Booking was successful, reference 7GAWK763."),
        ("caller", "thanks"),
    )
    assert value(c, "time")[0] != f"{hour}:00"
    assert value(c, "date") == ("2026-06-13", A)


@given(asked=st.integers(min_value=1, max_value=9), shift=st.sampled_from([15, 30, 45]))
@settings(max_examples=30, deadline=None)
def test_a_booking_stated_without_its_time_after_the_agent_spoke_of_another_time_leaves_the_time_for_review(
    asked: int, shift: int
) -> None:
    c = call(
        ("caller", f"two tickets for Dune tonight at {asked} pm"),
        ("agent", f"There is a {asked}:{shift} pm showing."),
        ("caller", "ok"),
        ("agent", "Your tickets have been purchased."),
    )
    assert value(c, "time")[1] is not A


def test_a_booking_stated_without_its_date_after_the_agent_spoke_of_another_day_books_no_day() -> None:
    c = call(
        ("caller", "a train on Saturday please"),
        ("agent", "There is one on Sunday at 9 am."),
        ("caller", "ok"),
        ("agent", "Booking was successful."),
    )
    assert value(c, "date")[1] is not A


@given(day=days)
@settings(max_examples=20, deadline=None)
def test_the_agents_echo_of_a_garbled_answer_to_when_is_the_day_for_review(day: date) -> None:
    said = f"{day.strftime('%A')}, {day.strftime('%B')} {day.day}."
    c = call(
        ("agent", "Lovely. When would you like it delivered?"),
        ("caller", "right in the fight fight one"),
        ("agent", f"{said} Can I take your name and number?"),
        ("caller", "that would lower the one"),
        ("agent", "All booked."),
    )
    fv = extract_when(c)["date"]
    assert (fv.value, fv.status, fv.reason) == (
        day.isoformat(),
        FieldStatus.NEEDS_REVIEW,
        "agent_echo_unconfirmed",
    )


def test_a_past_day_echoed_after_when_is_nothing_arranged() -> None:
    c = call(
        ("agent", "I'm sorry to hear that. When did it happen?"),
        ("caller", "the last the fight"),
        ("agent", "Thursday, June 4th. Let me open a claim."),
    )
    assert value(c, "date") == (None, None)
