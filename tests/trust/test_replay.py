"""Replaying dead letters: a fresh sync of the call from its first step, serialized with the caller's other
calls, that never doubles what an earlier attempt already wrote, and that settles the dead letter by how
it ended."""

from __future__ import annotations

from typing import Any

from dbos import DBOSClient

from callsync.delivery import Outcome, PreparedCall, Status
from callsync.pipeline.replay import replay
from callsync.store.ledger import record_outcome
from callsync.store.tables import CallRow, DeadLetterRow
from callsync.trust.dead_letters import get_dead_letter, list_dead_letters, settle_replays
from tests.pipeline.test_engine import DANA, Harness, call_payload, make_harness

__all__ = ["make_harness"]

CREATE = "/crm/v3/objects/contacts(/batch/create)?"  # alone or in a batch


def dead_lettered(make: Any, rules: list[dict[str, Any]], *payloads: dict[str, Any]) -> Harness:
    h: Harness = make({"rules": rules})
    h.ingest(*(payloads or (call_payload("c-dana", DANA),)))
    assert h.sync().dead_letter >= 1
    return h


def call_state(h: Harness, call_id: str) -> str:
    return next(r.sync_state for r in h.rows(CallRow) if r.call_id == call_id)


def test_replay_after_the_cause_is_gone_confirms_the_call_and_resolves_the_dead_letter(
    make_harness: Any,
) -> None:
    refused = {"method": "POST", "path": CREATE, "fault": "status", "status": 400}  # once
    h = dead_lettered(make_harness, [refused])
    (dead,) = list_dead_letters(h.db)
    assert (dead.call_id, dead.status, dead.call_state) == ("c-dana", "open", "dead_letter")
    assert "400" in dead.last_error and dead.request["plan"]["identity"]["email"]

    (queued,) = replay(h.db, [dead.id])
    assert queued.queued and queued.workflow_id == f"sync:t1:c-dana:replay{dead.id}"
    assert call_state(h, "c-dana") == "queued"
    assert get_dead_letter(h.db, dead.id).status == "replaying"  # type: ignore[union-attr]
    assert list_dead_letters(h.db) == []  # no longer open

    assert h.sync().confirmed == 1
    (settled,) = settle_replays(h.db)
    assert (settled.dead_letter_id, settled.status, settled.call_state) == (dead.id, "resolved", "confirmed")
    assert len(h.contacts()) == 1
    assert settle_replays(h.db) == []


def test_a_rerun_of_the_original_finish_after_the_replay_was_queued_neither_reopens_nor_moves_the_call(
    make_harness: Any,
) -> None:
    # DBOS re-runs a finish step whose checkpoint was not saved: the worker stopped just after the finish
    # committed the dead letter, and a replay was queued before the original workflow was recovered.
    refused = {"method": "POST", "path": CREATE, "fault": "status", "status": 400}  # once
    h = dead_lettered(make_harness, [refused])
    (dead,) = list_dead_letters(h.db)
    replay(h.db, [dead.id])

    state = record_outcome(
        h.db, "t1", "hubspot", "c-dana", dead.workflow_id, PreparedCall(status=Status.READY),
        Outcome(status=Status.DEAD_LETTER, error="HTTP 400", attempts=1),
    )  # fmt: skip
    assert state == "queued" and call_state(h, "c-dana") == "queued"
    assert list_dead_letters(h.db) == [] and len(h.rows(DeadLetterRow)) == 1

    assert h.sync().confirmed == 1
    (settled,) = settle_replays(h.db)
    assert (settled.status, settled.call_state) == ("resolved", "confirmed")


def test_replaying_a_call_whose_write_had_landed_finds_it_instead_of_creating_again(
    make_harness: Any,
) -> None:
    # The create lands; its read-back is refused, which dead-letters the call with the record in the CRM.
    # The first batch read looks the caller up; the second is the read-back.
    refused = {"method": "POST", "path": "/crm/v3/objects/contacts/batch/read", "fault": "status", "status": 400,
               "skip": 1, "times": 1}  # fmt: skip
    h = dead_lettered(make_harness, [refused])
    assert len(h.contacts()) == 1
    (dead,) = list_dead_letters(h.db)
    replay(h.db, [dead.id])
    assert h.sync().confirmed == 1
    assert len(h.contacts()) == 1, "the replay found the stamped record"
    assert h.sandbox.count_requests("POST", CREATE) == 1
    assert settle_replays(h.db)[0].status == "resolved"


def test_a_replay_that_fails_again_leaves_a_new_open_dead_letter(make_harness: Any) -> None:
    refused = {"method": "POST", "path": CREATE, "fault": "status", "status": 400, "times": 2}
    h = dead_lettered(make_harness, [refused])
    (first,) = list_dead_letters(h.db)
    replay(h.db, [first.id])
    assert h.sync().dead_letter == 1
    (settled,) = settle_replays(h.db)
    assert (settled.status, settled.call_state) == ("replayed", "dead_letter")
    (second,) = list_dead_letters(h.db)
    assert second.id == settled.new_dead_letter != first.id
    assert second.status == "open" and "400" in (settled.error or "")
    assert [d.status for d in list_dead_letters(h.db, status=None)] == ["replayed", "open"]
    # The new one replays under its own workflow id.
    (again,) = replay(h.db, [second.id])
    assert again.workflow_id == f"sync:t1:c-dana:replay{second.id}"
    assert h.sync().confirmed == 1


def test_only_open_dead_letters_replay_and_twice_is_refused(make_harness: Any) -> None:
    h = dead_lettered(make_harness, [{"method": "POST", "path": CREATE, "fault": "status", "status": 400}])
    (dead,) = list_dead_letters(h.db)
    assert replay(h.db, [dead.id])[0].queued
    second = replay(h.db, [dead.id, 999])
    assert [(r.queued, r.reason) for r in second] == [
        (False, "it is replaying, not open"),
        (False, "no such dead letter"),
    ]
    assert h.sync().confirmed == 1


def test_a_replay_runs_in_the_callers_queue_partition(make_harness: Any) -> None:
    h = dead_lettered(make_harness, [{"method": "POST", "path": CREATE, "fault": "status", "status": 400}])
    (dead,) = list_dead_letters(h.db)
    replay(h.db, [dead.id])
    client = DBOSClient(system_database_engine=h.db.engine)
    try:
        (workflow,) = client.list_workflows(workflow_ids=[dead.replay_workflow_id], load_input=True)
    finally:
        client.destroy()
    (row,) = h.rows(CallRow)
    assert workflow.queue_partition_key == row.identity_key == "line:+14155550123"
    assert workflow.input is not None and list(workflow.input["args"]) == ["t1", "c-dana"]
    h.sync()


def test_replaying_many_dead_letters_of_one_caller_keeps_them_one_at_a_time(make_harness: Any) -> None:
    refused = {"method": "POST", "path": CREATE, "fault": "status", "status": 400, "times": 2}
    h = dead_lettered(
        make_harness,
        [refused],
        call_payload("c-1", DANA, ended_at="2026-11-20T21:07:00Z"),
        call_payload("c-2", [*DANA, "i moved to contoso"], ended_at="2026-11-20T21:09:00Z"),
    )
    dead = list_dead_letters(h.db)
    assert len(dead) == 2
    assert all(r.queued for r in replay(h.db, [d.id for d in dead]))
    assert h.sync().confirmed == 2
    assert len(h.contacts()) == 1
    assert {s.status for s in settle_replays(h.db)} == {"resolved"}
    assert {r.status for r in h.rows(DeadLetterRow)} == {"resolved"}
