"""A confirmed outcome in the ledger: new fields inserted, the unconfirmed intents an earlier attempt left
completed in place, confirmed rows (history) never rewritten, and a re-run finish adding nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from callsync.capture.platforms.generic import parse_generic_call
from callsync.delivery import FieldWrite, Outcome, PreparedCall, Status
from callsync.pipeline.intake import receive_call
from callsync.store.db import Database
from callsync.store.ledger import record_outcome, save_intents
from callsync.store.tables import LedgerRow

CALL = {"call_id": "c-1", "turns": [{"speaker": "caller", "text": "hi"}]}
PREPARED = PreparedCall(status=Status.READY, integration_version="v1")
WORKFLOW = "sync:t:c-1"


def _write(new: str) -> FieldWrite:
    return FieldWrite(new=new, decision="fill", policy="fill_if_empty", confidence=0.9)


def _confirmed(writes: dict[str, FieldWrite], at: datetime) -> Outcome:
    return Outcome(
        status=Status.CONFIRMED, object_type="contacts", record_id="r-1", writes=writes, confirmed_at=at
    )


def _rows(db: Database) -> dict[str, tuple[str, datetime | None]]:
    with db.session() as s:
        rows = s.scalars(select(LedgerRow).order_by(LedgerRow.id)).all()
    assert len({r.field for r in rows}) == len(rows), "one ledger row per field"
    return {r.field: (r.new_value, r.confirmed_at) for r in rows}


def test_a_confirmed_outcome_completes_its_intents_in_place_and_adds_the_other_fields(sqlite_db: Database) -> None:
    receive_call(sqlite_db, parse_generic_call(CALL, tenant="t"), json.dumps(CALL))
    # An earlier attempt recorded what it was about to write; its answer was lost.
    save_intents(sqlite_db, "t", "hubspot", "c-1", "contacts", "r-1", {"email": _write("a@x.com")}, PREPARED)
    assert _rows(sqlite_db) == {"email": ("a@x.com", None)}
    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    writes = {"email": _write("a@x.com"), "phone": _write("+14155550100")}
    assert record_outcome(sqlite_db, "t", "hubspot", "c-1", WORKFLOW, PREPARED, _confirmed(writes, at)) == (
        "confirmed"
    )
    rows = _rows(sqlite_db)
    assert set(rows) == {"email", "phone"}
    assert all(confirmed_at is not None for _, confirmed_at in rows.values())


def test_a_rerun_finish_neither_adds_rows_nor_rewrites_confirmed_ones(sqlite_db: Database) -> None:
    receive_call(sqlite_db, parse_generic_call(CALL, tenant="t"), json.dumps(CALL))
    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    record_outcome(sqlite_db, "t", "hubspot", "c-1", WORKFLOW, PREPARED, _confirmed({"email": _write("a@x.com")}, at))
    first = _rows(sqlite_db)
    later = _confirmed({"email": _write("b@x.com")}, datetime(2026, 12, 7, tzinfo=UTC))
    record_outcome(sqlite_db, "t", "hubspot", "c-1", WORKFLOW, PREPARED, later)
    assert _rows(sqlite_db) == first
