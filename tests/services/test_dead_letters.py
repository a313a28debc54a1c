"""services.dead_letters and services.quarantine called directly: discarding keeps the row for audit."""

from __future__ import annotations

import json

import pytest

from callsync.services import dead_letters, quarantine
from callsync.services.errors import AlreadyDecided, NotFound, ServiceError
from callsync.store.db import Database
from callsync.store.tables import CallRow, DeadLetterRow, QuarantineRow


def two_dead_letters_of_one_call(db: Database) -> tuple[int, int]:
    with db.session() as s:
        s.add(CallRow(tenant="t1", call_id="c-1", platform="generic", direction="inbound",
                      raw_payload=json.dumps({}), sync_state="dead_letter", workflow_id="sync:t1:c-1"))  # fmt: skip
        rows = [
            DeadLetterRow(tenant="t1", crm="x", call_id="c-1", workflow_id=f"sync:t1:c-1{n}", operation="upsert",
                          request={}, last_error="HTTP 400", attempts=1)
            for n in ("", ":company")
        ]  # fmt: skip
        s.add_all(rows)
        s.flush()
        return rows[0].id, rows[1].id


def call_state(db: Database) -> str:
    with db.session() as s:
        return str(s.query(CallRow.sync_state).scalar())


def test_discarding_the_last_open_dead_letter_of_a_call_closes_it(sqlite_db: Database) -> None:
    first, second = two_dead_letters_of_one_call(sqlite_db)
    discarded = dead_letters.discard(sqlite_db, first, reason="spam call", by="alice")
    assert discarded.status == "discarded" and discarded.discarded is not None
    assert discarded.discarded["by"] == "alice" and discarded.discarded["reason"] == "spam call"
    assert call_state(sqlite_db) == "dead_letter", "its other dead letter is still open"
    dead_letters.discard(sqlite_db, second, reason="spam call", by="alice")
    assert call_state(sqlite_db) == "closed"
    assert [d.status for d in dead_letters.list_(sqlite_db, status=None)] == ["discarded", "discarded"]


def test_discarding_needs_a_reason_and_an_open_dead_letter(sqlite_db: Database) -> None:
    first, _ = two_dead_letters_of_one_call(sqlite_db)
    with pytest.raises(ServiceError, match="--reason"):
        dead_letters.discard(sqlite_db, first, reason="  ", by="alice")
    dead_letters.discard(sqlite_db, first, reason="spam", by="alice")
    with pytest.raises(AlreadyDecided, match="not open"):
        dead_letters.discard(sqlite_db, first, reason="spam", by="alice")
    with pytest.raises(NotFound):
        dead_letters.get(sqlite_db, 999)


def test_replaying_for_a_tenant_with_no_configuration_is_refused_before_queueing(sqlite_db: Database) -> None:
    first, _ = two_dead_letters_of_one_call(sqlite_db)
    with pytest.raises(ServiceError, match="no configuration here for tenant"):
        dead_letters.queue_replays(sqlite_db, [first], runnable_tenants={})
    assert {d.status for d in dead_letters.list_(sqlite_db)} == {"open"}


def test_a_discarded_quarantined_payload_is_kept_whole(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        row = QuarantineRow(tenant=None, source="file:1", reason="bad speaker", payload="{...}")
        s.add(row)
        s.flush()
        qid = row.id
    kept = quarantine.discard(sqlite_db, qid, reason="test data", by="alice")
    assert (kept.status, kept.payload) == ("discarded", "{...}")
    assert "bad speaker" in kept.reason and "alice" in kept.reason and "test data" in kept.reason
    assert quarantine.list_(sqlite_db) == []
    assert [q.id for q in quarantine.list_(sqlite_db, None)] == [qid]
    with pytest.raises(ServiceError, match="no quarantine status"):
        quarantine.list_(sqlite_db, "bogus")
