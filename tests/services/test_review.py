"""services.review called directly: every call reaches a final state; decisions name their reviewer."""

from __future__ import annotations

import json

import pytest

from callsync.services import review
from callsync.services.errors import AlreadyDecided, NotFound, ServiceError
from callsync.store.db import Database
from callsync.store.tables import CallRow, ReviewItemRow


def call_in_review(db: Database, call_id: str, *kinds: str) -> list[int]:
    with db.session() as s:
        s.add(CallRow(tenant="t1", call_id=call_id, platform="generic", direction="inbound",
                      raw_payload=json.dumps({"call_id": call_id}), sync_state="review",
                      workflow_id=f"sync:t1:{call_id}"))  # fmt: skip
        items = [
            ReviewItemRow(dedupe_key=f"t1|{call_id}|{kind}", tenant="t1", call_id=call_id, crm="x", kind=kind,
                          field="deal" if kind == "waiting_object" else None,
                          reason="why", proposed_value={"email": None}, current_value=None, detail={})
            for kind in kinds
        ]  # fmt: skip
        s.add_all(items)
        s.flush()
        return [i.id for i in items]


def state(db: Database, call_id: str) -> str:
    with db.session() as s:
        return str(s.query(CallRow.sync_state).filter_by(call_id=call_id).scalar())


def test_rejecting_the_only_item_of_a_call_in_review_closes_the_call(sqlite_db: Database) -> None:
    (item,) = call_in_review(sqlite_db, "c-anon", "no_identity")
    decision = review.reject(sqlite_db, item, reviewer="alice", note="a wrong number")
    assert decision.status == "rejected" and decision.call_state == "closed"
    assert state(sqlite_db, "c-anon") == "closed"
    shown = review.get_item(sqlite_db, item)
    assert shown.decision == {"action": "reject", "note": "a wrong number", "reviewer": "alice"}


def test_a_call_stays_in_review_while_another_of_its_items_is_open(sqlite_db: Database) -> None:
    first, second = call_in_review(sqlite_db, "c-2", "no_identity", "waiting_object")
    assert review.reject(sqlite_db, first, reviewer="alice").call_state == "review"
    assert review.reject(sqlite_db, second, reviewer="alice").call_state == "closed"


def test_a_decided_item_cannot_be_decided_again(sqlite_db: Database) -> None:
    (item,) = call_in_review(sqlite_db, "c-3", "no_identity")
    review.reject(sqlite_db, item, reviewer="alice")
    with pytest.raises(AlreadyDecided, match="already rejected"):
        review.reject(sqlite_db, item, reviewer="bob")
    with pytest.raises(NotFound):
        review.get_item(sqlite_db, 999)


def test_listing_refuses_a_status_or_kind_that_does_not_exist(sqlite_db: Database) -> None:
    call_in_review(sqlite_db, "c-4", "no_identity")
    assert [i.kind for i in review.list_items(sqlite_db, kind="no_identity")] == ["no_identity"]
    with pytest.raises(ServiceError, match="one of: open"):
        review.list_items(sqlite_db, status="bogus")
    with pytest.raises(ServiceError, match="no review kind"):
        review.list_items(sqlite_db, kind="bogus")


def test_resolving_needs_a_record_and_only_fits_identity_questions(sqlite_db: Database) -> None:
    no_identity, waiting = call_in_review(sqlite_db, "c-5", "no_identity", "waiting_object")
    with pytest.raises(ServiceError, match="choose the record with --record"):
        review.resolve(sqlite_db, {}, no_identity, reviewer="alice", record=None)
    with pytest.raises(ServiceError, match="pass its --tenant-file"):
        review.resolve(sqlite_db, {}, no_identity, reviewer="alice", record="101")
    # A waiting object is answered with the existing record it is, for a tenant this process knows.
    with pytest.raises(ServiceError, match="choose the existing"):
        review.resolve(sqlite_db, {}, waiting, reviewer="alice", record=None)
    with pytest.raises(ServiceError, match="pass its --tenant-file"):
        review.resolve(sqlite_db, {}, waiting, reviewer="alice", record="101")


def test_reconcile_counts_a_closed_call_as_closed_not_as_still_queued(sqlite_db: Database) -> None:
    from datetime import UTC, datetime

    from callsync.trust.reconcile import ReconcileReport, count_calls

    (item,) = call_in_review(sqlite_db, "c-6", "no_identity")
    review.reject(sqlite_db, item, reviewer="alice")
    report = ReconcileReport(since=None, generated_at=datetime.now(UTC))
    count_calls(report, [state(sqlite_db, "c-6")])
    assert (report.received, report.closed, report.queued, report.review) == (1, 1, 0, 0)
    assert report.to_json()["calls"]["closed"] == 1
