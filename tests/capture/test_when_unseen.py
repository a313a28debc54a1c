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
