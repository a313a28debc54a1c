"""`callsync forget`: one person's data leaves every table (DBOS's too), the ledger keeps keyed hashes, the
CRM records are listed, an erasure record is kept, and every other caller is untouched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from callsync.cli import app
from callsync.services import privacy
from callsync.services.errors import ServiceError
from callsync.store.db import Database
from callsync.store.privacy import scan_for
from callsync.store.tables import (
    CallRow,
    FieldValueRow,
    IdentityLinkRow,
    LedgerRow,
    PrivacyEventRow,
    ReviewItemRow,
)
from callsync.trust.trace import field_history
from tests.privacy.conftest import DANA_CALLS, DANA_EMAIL, DANA_PHONE, OTHER_CALLS, OTHER_NEEDLES, run_demo

runner = CliRunner()


def _others(db: Database) -> list[Any]:
    """Everything stored about the other callers, to compare before and after an erasure."""
    with db.session() as s:
        rows: list[Any] = []
        for model, cols in (
            (CallRow, ("call_id", "raw_payload", "from_number", "identity_key", "sync_state")),
            (FieldValueRow, ("call_id", "name", "value", "evidence")),
            (LedgerRow, ("call_id", "record_id", "field", "old_value", "new_value", "evidence", "redacted_by")),
            (IdentityLinkRow, ("call_id", "key", "record_id")),
            (ReviewItemRow, ("call_id", "reason", "proposed_value", "detail")),
        ):
            for row in s.scalars(select(model).where(model.call_id.in_(OTHER_CALLS)).order_by(model.id)):
                rows.append((model.__tablename__, *[json.dumps(getattr(row, c), sort_keys=True) for c in cols]))
        workflows = s.execute(text("SELECT workflow_uuid, status FROM workflow_status ORDER BY 1")
                              if db.engine.dialect.name == "sqlite" else
                              text("SELECT workflow_uuid, status FROM dbos.workflow_status ORDER BY 1")).all()  # fmt: skip
        rows += [tuple(w) for w in workflows if not any(w[0].startswith(f"sync:demo:{c}") for c in DANA_CALLS)]
    return rows


def _assert_erased(db: Database) -> None:
    with db.engine.connect() as conn:
        assert scan_for(conn, [DANA_EMAIL, DANA_PHONE]) == []
        # The scan does find what is still there: every other caller.
        assert {n for n in OTHER_NEEDLES if scan_for(conn, [n])} == set(OTHER_NEEDLES)


def test_forget_by_email_leaves_no_trace_of_email_or_phone_in_any_sqlite_table_or_file_byte(
    demo_sqlite: Database,
) -> None:
    before = _others(demo_sqlite)
    with demo_sqlite.engine.connect() as conn:
        assert scan_for(conn, [DANA_EMAIL]) and scan_for(conn, [DANA_PHONE])  # the scan finds her first
    result = runner.invoke(app, ["forget", "--db", demo_sqlite.url, "--email", DANA_EMAIL.upper()])
    assert result.exit_code == 0, result.output
    assert "removed 2 calls (demo-001, demo-004)" in " ".join(result.output.split())
    assert "hubspot contacts" in result.output  # the record callsync wrote is listed, not deleted
    _assert_erased(demo_sqlite)
    assert _others(demo_sqlite) == before
    path = Path(demo_sqlite.url.removeprefix("sqlite:///"))
    demo_sqlite.dispose()
    data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert DANA_EMAIL.encode() not in data and DANA_PHONE.encode() not in data
    assert b"priya.raman@gmail.com" in data  # the byte search would see a survivor


def test_ledger_rows_stay_with_keyed_hashes_and_trace_says_erasure_removed_the_sentence(
    demo_sqlite: Database,
) -> None:
    with demo_sqlite.session() as s:
        email_row = s.scalars(select(LedgerRow).where(LedgerRow.call_id == "demo-001",
                                                      LedgerRow.field == "email")).one()  # fmt: skip
    privacy.forget(demo_sqlite, email=DANA_EMAIL)
    with demo_sqlite.session() as s:
        kept = s.get(LedgerRow, email_row.id)
    assert kept is not None and kept.redacted_by == "erasure"
    assert str(kept.new_value).startswith("hmac:") and kept.call_id == "demo-001"
    [entry] = field_history(demo_sqlite, kept.crm, kept.record_id, "email")[:1]
    assert entry.call_id == "demo-001" and entry.removed_by == "erasure" and entry.confirmed_at is not None
    assert entry.quotes and entry.quotes[0].sentence.startswith("[sentence removed by erasure on ")
    assert "keyed hash hmac:" in entry.quotes[0].sentence


def test_the_erasure_record_says_who_when_and_counts_without_personal_data(demo_sqlite: Database) -> None:
    privacy.forget(demo_sqlite, phone="(415) 555-0123", actor="dpo@example.org")
    with demo_sqlite.session() as s:
        [event] = s.scalars(select(PrivacyEventRow).where(PrivacyEventRow.kind == "erasure")).all()
    assert event.actor == "dpo@example.org" and event.subject == "phone" and event.tenant == "demo"
    assert event.counts["calls"] == 2 and event.counts["identity_links"] >= 2
    assert "555" not in json.dumps(event.counts)
    _assert_erased(demo_sqlite)


def test_dry_run_counts_and_changes_nothing(demo_sqlite: Database) -> None:
    with demo_sqlite.engine.connect() as conn:
        before = scan_for(conn, [DANA_EMAIL, DANA_PHONE])
    result = runner.invoke(app, ["forget", "--db", demo_sqlite.url, "--phone", DANA_PHONE, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["dry_run"] and out["calls"] == list(DANA_CALLS) and out["removed"]["calls"] == 2
    with demo_sqlite.engine.connect() as conn:
        assert scan_for(conn, [DANA_EMAIL, DANA_PHONE]) == before
    with demo_sqlite.session() as s:
        assert s.scalars(select(PrivacyEventRow)).all() == []


def test_forget_needs_exactly_one_identity_and_a_tenant_when_several_are_stored(demo_sqlite: Database) -> None:
    both = runner.invoke(app, ["forget", "--db", demo_sqlite.url, "--email", DANA_EMAIL, "--phone", DANA_PHONE])
    assert both.exit_code == 1 and "exactly one of --email or --phone" in both.output
    assert "Traceback" not in both.output
    bad = runner.invoke(app, ["forget", "--db", demo_sqlite.url, "--phone", "12"])
    assert bad.exit_code == 1 and "is not a phone number" in bad.output
    with demo_sqlite.session() as s:
        s.execute(text("UPDATE calls SET tenant = 'clinic' WHERE call_id = 'demo-006'"))
    with pytest.raises(ServiceError, match=r"several tenants \(clinic, demo\)"):
        privacy.forget(demo_sqlite, email=DANA_EMAIL)
    assert privacy.forget(demo_sqlite, email=DANA_EMAIL, tenant="demo").counts.calls == 2


def test_forget_on_postgresql_leaves_no_trace_in_any_table_including_dbos_schema(pg_url: str) -> None:
    run_demo(pg_url)
    db = Database(pg_url)
    try:
        before = _others(db)
        with db.engine.connect() as conn:
            assert ("dbos.workflow_status", "queue_partition_key") in scan_for(conn, [DANA_PHONE])
        result = privacy.forget(db, email=DANA_EMAIL)
        assert result.call_ids == list(DANA_CALLS) and result.crm_records
        _assert_erased(db)
        assert _others(db) == before
    finally:
        db.dispose()


def test_forget_refuses_while_a_sync_of_the_person_is_still_running_and_changes_nothing(
    demo_sqlite: Database,
) -> None:
    with demo_sqlite.session() as s:
        s.execute(text("UPDATE workflow_status SET status = 'PENDING' WHERE workflow_uuid = 'sync:demo:demo-004'"))
    result = runner.invoke(app, ["forget", "--db", demo_sqlite.url, "--email", DANA_EMAIL])
    assert result.exit_code == 1 and "still running or waiting (sync:demo:demo-004)" in result.stderr
    with demo_sqlite.engine.connect() as conn:
        assert scan_for(conn, [DANA_EMAIL])


def test_forget_removes_quarantined_payloads_and_dead_letters_that_mention_the_person(
    demo_sqlite: Database,
) -> None:
    from callsync.store.tables import DeadLetterRow, QuarantineRow

    with demo_sqlite.session() as s:
        s.add(QuarantineRow(tenant=None, source="webhook:vapi", reason="unroutable",
                            payload=json.dumps({"customer": {"number": DANA_PHONE}})))  # fmt: skip
        s.add(QuarantineRow(tenant="demo", source="webhook:vapi", reason="unroutable", payload='{"x": 1}'))
        s.add(DeadLetterRow(tenant="demo", crm="hubspot", call_id="demo-001", workflow_id="sync:demo:demo-001",
                            operation="upsert_contact", request={"plan": {"email": DANA_EMAIL}},
                            last_error="400", attempts=6))  # fmt: skip
    result = privacy.forget(demo_sqlite, email=DANA_EMAIL)
    assert result.counts.quarantine == 1 and result.counts.dead_letters == 1
    _assert_erased(demo_sqlite)
    with demo_sqlite.session() as s:
        assert [q.payload for q in s.scalars(select(QuarantineRow))] == ['{"x": 1}']
