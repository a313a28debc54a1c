"""Several calls' ledger writes in one transaction (store/group_commit.py gathers them) leave exactly what
each call's own transaction would: outcomes of every kind, and extracted values replaced per call."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from callsync.capture.platforms.generic import parse_generic_call
from callsync.delivery import FieldWrite, Outcome, PreparedCall, ReviewRequest, Status
from callsync.models import Extraction, FieldValue, Label
from callsync.pipeline.intake import receive_call
from callsync.reconcile.identity import IdentityKeys
from callsync.store.db import Database
from callsync.store.ledger import (
    IdentityLink,
    LinkQuery,
    OutcomeToRecord,
    link_identities,
    linked_records,
    linked_records_of,
    record_outcome,
    record_outcomes,
    save_field_values_of,
)
from callsync.store.tables import CallRow, DeadLetterRow, FieldValueRow, LedgerRow, ReviewItemRow

PREPARED = PreparedCall(status=Status.READY, integration_version="v1")
AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _db(path: Path, calls: int) -> Database:
    db = Database(f"sqlite:///{path}")
    db.migrate()
    for n in range(calls):
        call = {"call_id": f"c-{n}", "turns": [{"speaker": "caller", "text": "hi"}]}
        receive_call(db, parse_generic_call(call, tenant="t"), json.dumps(call))
    return db


def _outcomes() -> list[OutcomeToRecord]:
    write = FieldWrite(new="a@x.com", decision="fill", policy="fill_if_empty", confidence=0.9)
    confirmed = Outcome(
        status=Status.CONFIRMED,
        object_type="contacts",
        record_id="r-1",
        writes={"email": write},
        confirmed_at=AT,
    )
    review = Outcome(
        status=Status.REVIEW, review=ReviewRequest(kind="identity_conflict", reason="two records")
    )
    dead = Outcome(status=Status.DEAD_LETTER, error="the CRM refused it", attempts=3, errors=["refused"])
    return [
        OutcomeToRecord("t", "hubspot", f"c-{n}", f"sync:t:c-{n}", PREPARED, outcome)
        for n, outcome in enumerate([confirmed, review, dead, confirmed])
    ]


def _state(db: Database) -> tuple[object, ...]:
    with db.session() as s:
        calls = sorted((c.call_id, c.sync_state) for c in s.scalars(select(CallRow)))
        ledger = sorted(
            (r.call_id, r.field, r.new_value, r.confirmed_at is not None)
            for r in s.scalars(select(LedgerRow))
        )
        reviews = sorted((r.call_id, r.kind, r.reason) for r in s.scalars(select(ReviewItemRow)))
        dead = sorted((d.call_id, d.last_error, d.status) for d in s.scalars(select(DeadLetterRow)))
    return calls, ledger, reviews, dead


def test_outcomes_recorded_together_leave_what_each_recorded_alone_would(tmp_path: Path) -> None:
    alone, together = _db(tmp_path / "alone.db", 4), _db(tmp_path / "together.db", 4)
    states = [
        record_outcome(alone, o.tenant, o.crm, o.call_id, o.workflow_id, o.prepared, o.outcome)
        for o in _outcomes()
    ]
    assert (
        record_outcomes(together, _outcomes())
        == states
        == ["confirmed", "review", "dead_letter", "confirmed"]
    )
    assert _state(together) == _state(alone)
    # Run again (a finish DBOS repeats): nothing more is added, together as alone.
    record_outcomes(together, _outcomes())
    for o in _outcomes():
        record_outcome(alone, o.tenant, o.crm, o.call_id, o.workflow_id, o.prepared, o.outcome)
    assert _state(together) == _state(alone)


def _extraction(call_id: str, **values: str) -> Extraction:
    fields = {
        name: FieldValue(value=v, confidence=0.9, evidence=(), extractor="test") for name, v in values.items()
    }
    label = Label("other", 0.5)
    return Extraction(
        call_id=call_id, fields=fields, intent=label, outcome=label, sentiment=Label("neutral", 0.5)
    )


def _values(db: Database) -> list[tuple[str, str, object]]:
    with db.session() as s:
        return sorted((v.call_id, v.name, v.value) for v in s.scalars(select(FieldValueRow)))


def test_field_values_saved_together_replace_each_calls_own_and_no_other(tmp_path: Path) -> None:
    db = _db(tmp_path / "values.db", 3)
    save_field_values_of(db, [("t", _extraction("c-2", email="keep@x.com"))])
    save_field_values_of(
        db, [("t", _extraction("c-0", email="a@x.com", phone="+14155550100")), ("t", _extraction("c-1"))]
    )
    save_field_values_of(db, [("t", _extraction("c-0", email="b@x.com"))])  # a re-extraction replaces c-0's
    assert _values(db) == [("c-0", "email", "b@x.com"), ("c-2", "email", "keep@x.com")]
    with db.session() as s:
        assert {c.call_id: c.sentiment for c in s.scalars(select(CallRow))} == {
            "c-0": "neutral", "c-1": "neutral", "c-2": "neutral"
        }  # fmt: skip


def test_identity_links_written_and_read_together_are_what_each_call_alone_writes_and_reads(
    tmp_path: Path,
) -> None:
    alone, together = _db(tmp_path / "alone.db", 0), _db(tmp_path / "together.db", 0)
    links = [
        IdentityLink("t", "hubspot", "contacts", ("email:a@x.com", "phone:+14155550100"), "r-1", "c-1"),
        IdentityLink("t", "hubspot", "contacts", (), "r-9", "c-9"),  # nothing to link
        # The same number from a second call: the first link wins, together as alone.
        IdentityLink("t", "hubspot", "contacts", ("phone:+14155550100", "email:b@x.com"), "r-2", "c-2"),
    ]
    for link in links:
        link_identities(alone, [link])  # each in its own transaction
    assert link_identities(together, links) == [None, None, None]
    queries = [
        LinkQuery("t", "hubspot", ("contacts",), IdentityKeys("a@x.com", "+14155550100")),
        LinkQuery("t", "hubspot", ("contacts",), IdentityKeys(None, None)),
        LinkQuery("t", "hubspot", ("contacts", "leads"), IdentityKeys("b@x.com", None)),
        LinkQuery("t", "salesforce", ("contacts",), IdentityKeys("a@x.com", None)),  # another CRM's links
    ]
    one_by_one = [linked_records(alone, q.tenant, q.crm, q.object_types, q.keys) for q in queries]
    assert linked_records_of(together, queries) == one_by_one
    assert one_by_one == [{"email": ["r-1"], "phone": ["r-1"]}, {}, {"email": ["r-2"]}, {}]
