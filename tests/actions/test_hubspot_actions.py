"""Workflow actions against the HubSpot emulator over HTTP, through the real engine."""

from __future__ import annotations

from typing import Any

from tests.actions.conftest import BOOKED


def test_a_booked_call_books_one_meeting_and_logs_the_call(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-book", BOOKED)
    assert h.sync().confirmed == 1
    (meeting,) = h.objects("meetings")
    props = meeting["properties"]
    assert props["hs_meeting_title"] == "Consultation with Dana Whitfield"
    assert props["hs_meeting_start_time"].startswith("2026-11-24T20:00:00")  # 3 PM New York
    assert props["hubspot_owner_id"] == "1001"
    (call,) = h.objects("calls")
    body = call["properties"]["hs_call_body"]
    assert "Outcome: appointment_booked" in body and "callsync trace --call c-book" in body
    assert "booked for Tuesday" not in body, "never the transcript"
    runs = h.runs()
    assert runs["c-book:book"].status == "confirmed" and runs["c-book:book"].result == "created"
    assert runs["c-book:call_log"].record_id == call["id"]
