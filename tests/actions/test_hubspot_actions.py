"""Workflow actions against the HubSpot emulator over HTTP, through the real engine: one object per
(call, rule) whatever fails or is replayed, nothing done on a doubtful value until a person decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callsync.services import review as review_service
from callsync.services.errors import AlreadyDecided
from callsync.store.tables import ReviewItemRow
from tests.actions.conftest import (
    BOOKED,
    BOOKED_VAGUE,
    CALLBACK,
    FRUSTRATED,
    MAPPING,
    SALES,
    TRANSFERRED,
)


def action_items(h: Any) -> list[ReviewItemRow]:
    with h.db.session() as s:
        return [r for r in s.query(ReviewItemRow).all() if r.kind == "action"]


def test_a_booked_call_books_one_meeting_and_logs_the_call(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-book", BOOKED)
    assert h.sync().confirmed == 1
    (meeting,) = h.objects("meetings")
    props = meeting["properties"]
    assert props["hs_meeting_title"] == "Consultation with Dana Whitfield"
    assert props["hs_meeting_start_time"].startswith("2026-11-24T20:00:00")  # 3 PM New York
    assert props["hs_meeting_end_time"].startswith("2026-11-24T20:45:00")
    assert props["hubspot_owner_id"] == "1001"
    (contact,) = h.objects("contacts")
    assert h.associated("meetings", meeting["id"], "contacts") == [contact["id"]]
    (call,) = h.objects("calls")
    body = call["properties"]["hs_call_body"]
    assert "Outcome: appointment_booked" in body and "callsync trace --call c-book" in body
    assert "booked for Tuesday" not in body, "never the transcript"
    assert call["properties"]["hs_call_direction"] == "INBOUND"
    assert call["properties"]["hs_call_duration"] == "240000"
    runs = h.runs()
    assert runs["c-book:book"].status == "confirmed" and runs["c-book:book"].result == "created"
    assert runs["c-book:call_log"].record_id == call["id"]
    assert set(runs) == {"c-book:book", "c-book:call_log"}, "no other rule holds for this call"


def test_meeting_create_answered_by_a_dropped_connection_leaves_one_meeting(make_harness: Any) -> None:
    rule = {"method": "POST", "path": "/crm/v3/objects/meetings", "fault": "drop_response_after_commit"}
    h = make_harness({"rules": [rule]})
    h.ingest("c-drop", BOOKED)
    assert h.sync().confirmed == 1
    assert len(h.objects("meetings")) == 1
    assert h.sandbox.count_requests("POST", "/crm/v3/objects/meetings") == 1, (
        "the retry found it by its stamp"
    )
    assert h.runs()["c-drop:book"].result == "found"


def test_replaying_a_call_never_makes_a_second_object(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-rep", BOOKED)
    h.sync()
    assert h.rerun("c-rep") == "confirmed"
    assert h.rerun("c-rep") == "confirmed"
    assert len(h.objects("meetings")) == 1 and len(h.objects("calls")) == 1
    assert h.runs()["c-rep:book"].result == "created", "the ledger row of a done action is history"


def test_a_booking_whose_time_is_in_review_waits_then_books_once_on_approval(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-vague", BOOKED_VAGUE)
    assert h.sync().confirmed == 1
    assert h.objects("meetings") == [], "nothing booked on a guessed time"
    assert h.runs()["c-vague:book"].status == "review"
    (item,) = action_items(h)
    assert item.reason.startswith("book a meeting 'Consultation with Dana Whitfield' for Tue 24 Nov 4:00 PM?")
    decision = review_service.approve(h.db, h.tenants(), item.id, reviewer="rita")
    assert decision.status == "approved"
    (meeting,) = h.objects("meetings")
    assert meeting["properties"]["hs_meeting_start_time"].startswith("2026-11-24T21:00:00")
    run = h.runs()["c-vague:book"]
    assert (run.status, run.reviewer, run.record_id) == ("confirmed", "rita", meeting["id"])
    with pytest.raises(AlreadyDecided):
        review_service.approve(h.db, h.tenants(), item.id, reviewer="rita")
    assert h.rerun("c-vague") == "confirmed"
    assert len(h.objects("meetings")) == 1, "a replay after the approval finds the approved meeting"


def test_a_corrected_booking_time_is_booked_at_the_reviewers_time(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-fix", BOOKED_VAGUE)
    h.sync()
    (item,) = action_items(h)
    assert (
        review_service.correct(h.db, h.tenants(), item.id, "2026-11-24T10:00", reviewer="rita").status
        == "corrected"
    )
    (meeting,) = h.objects("meetings")
    assert meeting["properties"]["hs_meeting_start_time"].startswith("2026-11-24T15:00:00")  # 10 AM New York


def test_a_rejected_booking_is_dropped_and_ledgered_and_never_runs(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-no", BOOKED_VAGUE)
    h.sync()
    (item,) = action_items(h)
    review_service.reject(h.db, item.id, reviewer="rita", note="the caller cancelled")
    assert h.runs()["c-no:book"].status == "dropped"
    assert h.rerun("c-no") == "confirmed"
    assert h.objects("meetings") == [] and h.runs()["c-no:book"].status == "dropped"


def test_a_sales_call_with_a_budget_moves_its_deal_forward(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-sale", SALES)
    h.sync()
    (deal,) = h.objects("deals")
    assert deal["properties"]["dealstage"] == "qualifiedtobuy"
    assert h.runs()["c-sale:qualify"].result == "moved"


def test_a_stage_rule_never_moves_a_deal_backwards(make_harness: Any, tmp_path: Path) -> None:
    # Deals of this mapping start further along than the rule's stage.
    mapping = tmp_path / "later.yaml"
    text = Path(MAPPING).read_text().replace('dealstage: {default: "appointmentscheduled"}',
                                             'dealstage: {default: "presentationscheduled"}')  # fmt: skip
    mapping.write_text(text)
    h = make_harness(mapping=str(mapping))
    h.ingest("c-back", SALES)
    h.sync()
    (deal,) = h.objects("deals")
    assert deal["properties"]["dealstage"] == "presentationscheduled"
    run = h.runs()["c-back:qualify"]
    assert (run.status, run.result) == ("confirmed", "held_back") and "backwards" in (run.detail or "")


def test_a_stage_rule_that_allows_it_moves_backwards(make_harness: Any, tmp_path: Path) -> None:
    mapping = tmp_path / "back.yaml"
    text = Path(MAPPING).read_text().replace('dealstage: {default: "appointmentscheduled"}',
                                             'dealstage: {default: "presentationscheduled"}')  # fmt: skip
    mapping.write_text(
        text.replace("with: {stage: qualifiedtobuy}", "with: {stage: qualifiedtobuy, allow_backwards: true}")
    )
    h = make_harness(mapping=str(mapping))
    h.ingest("c-back2", SALES)
    h.sync()
    (deal,) = h.objects("deals")
    assert deal["properties"]["dealstage"] == "qualifiedtobuy"


def test_a_frustrated_caller_with_an_open_cs_task_gets_no_second_task(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-f1", FRUSTRATED)
    h.sync()
    (task,) = h.objects("tasks")
    assert (
        task["properties"]["hs_task_priority"] == "HIGH" and task["properties"]["hubspot_owner_id"] == "1002"
    )
    h.ingest("c-f2", FRUSTRATED)
    h.sync()
    assert len(h.objects("tasks")) == 1
    assert h.runs()["c-f2:unhappy"].result == "already_open"
    assert h.runs()["c-f2:unhappy"].record_id == task["id"]
    # Once customer success has done it, the next frustrated call gets a task of its own.
    h.patch("tasks", task["id"], {"hs_task_status": "COMPLETED"})
    h.ingest("c-f3", FRUSTRATED)
    h.sync()
    assert len(h.objects("tasks")) == 2


def test_a_support_call_opens_one_ticket_with_priority_from_sentiment(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-sup", FRUSTRATED)  # a late order: support intent, frustrated caller
    h.sync()
    (ticket,) = h.objects("tickets")
    assert ticket["properties"]["hs_ticket_priority"] == "HIGH"
    assert ticket["properties"]["hs_pipeline_stage"] == "1"
    assert "Sentiment: frustrated" in ticket["properties"]["content"]


def test_a_transferred_call_hands_the_caller_to_the_owner_with_a_task(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-hand", TRANSFERRED)
    h.sync()
    (contact,) = h.objects("contacts")
    assert contact["properties"]["hubspot_owner_id"] == "1001"
    tasks = [t for t in h.objects("tasks") if t["properties"]["hs_task_subject"].startswith("Handed over")]
    assert len(tasks) == 1 and tasks[0]["properties"]["hubspot_owner_id"] == "1001"


def test_a_callback_task_is_due_at_the_callback_time(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-cb", CALLBACK)
    h.sync()
    (task,) = [
        t for t in h.objects("tasks") if t["properties"]["hs_task_subject"] == "Call back Dana Whitfield"
    ]
    assert task["properties"]["hs_timestamp"].startswith("2026-11-21T19:00:00")  # 2 PM New York


def test_an_action_the_crm_keeps_refusing_is_a_dead_letter_and_its_replay_makes_it_once(
    make_harness: Any,
) -> None:
    from callsync.pipeline.replay import replay
    from callsync.store.tables import CallRow, DeadLetterRow
    from callsync.trust.dead_letters import list_dead_letters

    refused = {
        "method": "POST",
        "path": "/crm/v3/objects/meetings",
        "fault": "status",
        "status": 400,
        "times": 1,
    }
    h = make_harness({"rules": [refused]})
    h.ingest("c-dl", BOOKED)
    assert h.sync().dead_letter == 1
    (dead,) = list_dead_letters(h.db)
    assert dead.operation == "upsert_action:book"
    assert h.runs()["c-dl:book"].status == "dead_letter" and h.runs()["c-dl:call_log"].status == "confirmed"
    assert h.objects("meetings") == []
    replay(h.db, [dead.id])
    assert h.sync().confirmed == 1
    assert len(h.objects("meetings")) == 1 and len(h.objects("calls")) == 1
    assert h.runs()["c-dl:book"].status == "confirmed"
    with h.db.session() as s:
        assert s.query(CallRow).one().sync_state == "confirmed"
        assert s.query(DeadLetterRow).count() == 1


def test_a_correction_that_is_not_a_time_is_refused_in_one_line_and_the_item_stays_open(
    make_harness: Any,
) -> None:
    from callsync.services.errors import ServiceError

    h = make_harness()
    h.ingest("c-bad", BOOKED_VAGUE)
    h.sync()
    (item,) = action_items(h)
    with pytest.raises(ServiceError) as caught:
        review_service.correct(h.db, h.tenants(), item.id, "next tuesday-ish", reviewer="rita")
    assert (
        str(caught.value)
        == "'next tuesday-ish' is not a time: write it as 2026-11-24T16:00 (the tenant's local time)"
    )
    assert h.objects("meetings") == [] and h.runs()["c-bad:book"].status == "review"
    (still,) = action_items(h)
    assert still.status == "open"
