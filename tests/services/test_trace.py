"""services.trace: the moments of a write in the order they happened, named for what they are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callsync.services.errors import NotFound
from callsync.services.trace import field_trace, moments
from callsync.store.db import Database
from callsync.store.tables import LedgerRow

T0 = datetime(2026, 11, 20, 15, 28, 16, tzinfo=UTC)


def ledger_row(**kw: object) -> LedgerRow:
    values: dict[str, object] = dict(tenant="t1", crm="x", object_type="contacts", record_id="1", field="email",
                                     old_value=None, new_value="a@b.co", policy="call_wins", decision="written",
                                     call_id="c-1", confidence=0.9, evidence=[], integration_version="v")  # fmt: skip
    return LedgerRow(**(values | kw))


def test_a_write_confirmed_before_its_row_was_recorded_reads_in_that_order(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        s.add(ledger_row(confirmed_at=T0, written_at=T0 + timedelta(seconds=8)))
    (entry,) = field_trace(sqlite_db, "x", "1", "email").entries
    assert [m.what for m in moments(entry)] == ["confirmed by read-back", "recorded in the ledger"]


def test_sent_acknowledged_confirmed_come_in_time_order(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        s.add(ledger_row(sent_at=T0, acknowledged_at=T0 + timedelta(seconds=1),
                         confirmed_at=T0 + timedelta(seconds=2), written_at=T0 + timedelta(seconds=3)))  # fmt: skip
    (entry,) = field_trace(sqlite_db, "x", "1", "email").entries
    found = moments(entry)
    assert [m.what for m in found] == [
        "sent",
        "acknowledged",
        "confirmed by read-back",
        "recorded in the ledger",
    ]
    assert [m.at for m in found] == sorted(m.at for m in found)


def test_a_reviewers_write_traces_to_the_original_call_and_the_reviewer(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        s.add(ledger_row(call_id="review:7", policy="reviewer", reviewer="alice", reviewed_at=T0,
                         review_item_id=7, origin_call_id="c-1", confirmed_at=T0))  # fmt: skip
    (entry,) = field_trace(sqlite_db, "x", "1", "email").entries
    assert entry.call_id == "c-1" and entry.ledger_call_id == "review:7"
    assert entry.review is not None and (entry.review.reviewer, entry.review.item_id) == ("alice", 7)


def test_a_field_never_written_is_not_found(sqlite_db: Database) -> None:
    with pytest.raises(NotFound, match="no record of writing x 9 email"):
        field_trace(sqlite_db, "x", "9", "email")


def test_a_value_from_the_caller_id_says_so_instead_of_quoting(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        s.add(ledger_row(field="phone", new_value="+14155550123",
                         evidence=[{"turn": -1, "start": 0, "end": 0, "source": "caller_id"}]))  # fmt: skip
    (entry,) = field_trace(sqlite_db, "x", "1", "phone").entries
    assert entry.quotes == () and entry.other_sources == ("caller_id",)
