"""Dates and times: relative words in the call's local calendar, and the arrangement the call ends with."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from callsync.capture.extract import extract_call
from callsync.capture.extract.when import (
    extract_when,
    find_dates,
    find_times,
    local_today,
    render_spoken_date,
    render_spoken_time,
)
from callsync.capture.platforms.generic import parse_generic_call
from callsync.models import CallRecord, FieldStatus

A = FieldStatus.ACCEPTED
R = FieldStatus.NEEDS_REVIEW
MONDAY = date(2026, 6, 8)


def call_at(
    started_at: str, *turns: tuple[str, str], timezone: str | None = "America/New_York"
) -> CallRecord:
    payload: dict[str, Any] = {
        "call_id": "t-1",
        "from": "+16175550148",
        "to": "+16175550100",
        "started_at": started_at,
        "turns": [{"speaker": s, "text": t} for s, t in turns],
    }
    if timezone is not None:
        payload["timezone"] = timezone
    return parse_generic_call(payload)


def when(call: CallRecord, default_timezone: str = "UTC") -> dict[str, tuple[str, FieldStatus]]:
    return {k: (v.value, v.status) for k, v in extract_when(call, default_timezone=default_timezone).items()}


def dates(text: str, today: date = MONDAY) -> list[date]:
    return [d.value for d in find_dates(text, today)]


# -- reading dates and times --------------------------------------------------------------------------


def test_relative_words_resolve_against_the_local_date() -> None:
    assert dates("tomorrow") == [date(2026, 6, 9)]
    assert dates("the day after tomorrow") == [date(2026, 6, 10)]
    assert dates("a week from tomorrow") == [date(2026, 6, 16)]
    assert dates("today") == [MONDAY]


def test_bare_weekday_is_the_next_such_day_after_today() -> None:
    assert dates("thursday") == [date(2026, 6, 11)]
    assert dates("this monday") == [date(2026, 6, 15)]  # today is Monday: the next one


def test_next_weekday_keeps_both_readings_when_it_is_ambiguous() -> None:
    (wednesday,) = find_dates("next wednesday", MONDAY)  # this week's or next week's?
    assert set(wednesday.alternatives) == {date(2026, 6, 10), date(2026, 6, 17)}
    (sunday,) = find_dates("next monday", date(2026, 6, 10))  # said on a Wednesday: only one Monday ahead
    assert sunday.alternatives == () and sunday.value == date(2026, 6, 15)


def test_calendar_dates_take_the_next_occurrence() -> None:
    assert dates("november twenty first") == [date(2026, 11, 21)]
    assert dates("the first of january") == [date(2027, 1, 1)]
    assert dates("Saturday, November 21st") == [date(2026, 11, 21)]
    assert dates("monday the 23rd", date(2026, 2, 17)) == [date(2026, 2, 23)]


def test_past_and_vague_dates() -> None:
    (last,) = find_dates("i was rear ended last friday", MONDAY)
    assert last.past and last.value == date(2026, 6, 5)
    (birth,) = find_dates("march third nineteen seventy eight", MONDAY)
    assert birth.past
    assert dates("the first week of december") == []  # vague: no date
    assert dates("may one of our agents call you") == []


def test_times_with_and_without_am_pm() -> None:
    assert [t.value for t in find_times("you're booked at 2:30 PM")] == ["14:30"]
    assert [t.value for t in find_times("half seven if you have it")] == ["07:30"]
    assert [t.value for t in find_times("quarter past two please")] == ["14:15"]
    (guessed,) = find_times("monday at four")
    assert guessed.value == "16:00" and not guessed.half_day_known


def test_time_windows_are_marked() -> None:
    assert all(t.window for t in find_times("between 1 and 3 PM"))


@given(day=st.integers(0, 700), style=st.sampled_from(["month_day", "day_of_month"]), written=st.booleans())
def test_calendar_date_rendered_spoken_reads_back(day: int, style: str, written: bool) -> None:
    today = date(2026, 1, 1)
    target = today + timedelta(days=day % 360)
    assert dates(render_spoken_date(target, style=style, written=written), today) == [target]


@given(
    hour=st.integers(0, 23), minute=st.integers(0, 59), style=st.sampled_from(["words", "written", "past"])
)
def test_time_rendered_spoken_reads_back(hour: int, minute: int, style: str) -> None:
    (t,) = find_times(render_spoken_time(hour, minute, style=style))
    assert (t.hour, t.minute) == (hour, minute)


# -- the arrangement --------------------------------------------------------------------------------------


def test_booking_statement_gives_date_and_time_with_the_callers_words_as_evidence() -> None:
    call = call_at(
        "2026-11-19T19:10:27Z",
        ("agent", "We have showings this Saturday. Would 11 AM work for you?"),
        ("caller", "saturday at eleven works"),
        ("agent", "You're booked for Saturday, November 21st at 11 AM."),
    )
    fields = extract_when(call)
    assert (fields["date"].value, fields["date"].status) == ("2026-11-21", A)
    assert (fields["time"].value, fields["time"].status) == ("11:00", A)
    assert any(e.turn == 1 for e in fields["time"].evidence)


def test_tomorrow_follows_the_local_date_of_an_evening_call() -> None:
    # 9:44 PM in Chicago is already the next day in UTC.
    call = call_at(
        "2026-03-07T03:44:00Z",
        ("agent", "I have tomorrow at 11 AM. Does that work?"),
        ("caller", "yes"),
        timezone="America/Chicago",
    )
    assert local_today(call, "UTC") == date(2026, 3, 6)
    assert when(call)["date"] == ("2026-03-07", A)


def test_tenant_timezone_is_used_when_the_call_has_none() -> None:
    call = call_at(
        "2026-03-07T03:44:00Z",
        ("agent", "You're booked for tomorrow at 9 AM."),
        timezone=None,
    )
    assert when(call, default_timezone="America/Chicago")["date"] == ("2026-03-07", A)
    assert when(call, default_timezone="UTC")["date"] == ("2026-03-08", A)


def test_caller_taking_one_of_several_offers() -> None:
    call = call_at(
        "2026-06-08T14:00:00Z",
        ("agent", "I have Tuesday at 9 AM or Wednesday at 3 PM."),
        ("caller", "wednesday at three"),
    )
    assert when(call) == {"date": ("2026-06-10", A), "time": ("15:00", A)}


def test_agent_callback_commitment_is_the_arranged_date_without_a_vague_time() -> None:
    call = call_at(
        "2026-09-02T22:40:04Z",
        ("caller", "he better"),
        ("agent", "He'll call you tomorrow morning to set up a recheck."),
        timezone="America/Denver",
    )
    assert when(call) == {"date": ("2026-09-03", A)}


def test_cancelled_appointment_leaves_no_date() -> None:
    call = call_at(
        "2026-06-09T21:26:02Z",
        ("caller", "hi i need to cancel my appointment for thursday"),
        ("agent", "No problem. I've cancelled your Thursday, June 11th appointment at 2 PM."),
    )
    assert when(call) == {}


def test_background_dates_are_not_the_arrangement() -> None:
    call = call_at(
        "2026-04-15T23:20:47Z",
        ("caller", "i was rear ended last friday"),
        ("agent", "Your policy renews on May 15th."),
    )
    assert when(call) == {}


def test_a_date_only_the_caller_asked_for_waits_for_review() -> None:
    call = call_at(
        "2026-12-11T01:30:42Z",
        ("agent", "When would you like to move in?"),
        ("caller", "the first of january ideally"),
    )
    fv = extract_when(call)["date"]
    assert (fv.value, fv.status, fv.reason) == ("2027-01-01", R, "requested_not_arranged")


def test_the_callers_correction_of_a_read_back_date_wins() -> None:
    call = call_at(
        "2027-06-06T22:12:32Z",
        ("caller", "hi can i get a blowout on wednesday around noon"),
        ("agent", "Sure. So that's Tuesday, June 8th at noon?"),
        ("caller", "no wednesday the ninth"),
        ("agent", "Sorry about that! Wednesday, June 9th at 12 PM. Your name?"),
    )
    fv = extract_when(call)["date"]
    assert (fv.value, fv.status) == ("2027-06-09", A)


def test_a_changed_request_keeps_the_first_date_as_superseded() -> None:
    call = call_at(
        "2026-08-17T15:30:35Z",
        ("caller", "can i come in thursday actually no make it friday"),
        ("agent", "You're booked for Friday, August 21st at 3 PM."),
        timezone="America/Chicago",
    )
    fv = extract_when(call)["date"]
    assert (fv.value, fv.status) == ("2026-08-21", A)
    assert [v for v, _ in fv.superseded] == ["2026-08-20"]


def test_am_pm_guessed_from_business_hours_waits_for_review() -> None:
    call = call_at(
        "2026-11-12T17:15:31Z",
        ("caller", "can you call me monday at five thirty"),
        ("agent", "Talk to you Monday, Frank!"),
    )
    fields = extract_when(call)
    assert fields["date"].status is A
    assert (fields["time"].value, fields["time"].status, fields["time"].reason) == (
        "17:30",
        R,
        "half_day_guessed",
    )


def test_window_is_not_an_appointment_time() -> None:
    call = call_at(
        "2027-03-09T16:15:05Z",
        ("agent", "You're all set for today between 1 and 3 PM."),
        timezone="America/Chicago",
    )
    assert when(call) == {"date": ("2027-03-09", A)}


def test_no_start_time_means_no_relative_date() -> None:
    payload = {"call_id": "t", "turns": [{"speaker": "agent", "text": "You're booked for tomorrow at 9 AM."}]}
    assert extract_call(parse_generic_call(payload)).fields.get("date") is None
