"""Retention: payloads reduced to the transcript, then the words removed; the ledger keeps its rows with a
keyed hash of each sentence, and trace still says which call, when, and that retention removed the words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from callsync.cli import app
from callsync.config import TenantConfig
from callsync.pipeline.retention_job import start_retention_job
from callsync.services import privacy
from callsync.store.db import Database
from callsync.store.privacy import scan_for
from callsync.store.tables import CallRow, LedgerRow, PrivacyEventRow
from callsync.trust.trace import TraceEntry, field_history

runner = CliRunner()
TENANT = TenantConfig(name="demo", retention={"transcripts": "90d", "payloads": "30d"})
# Words spoken in the demo calls (demo-001's agent, demo-002's caller).
SPOKEN = ("Thanks for calling Brightline Software", "dana whitfield from northwind")


def _email_trace(db: Database) -> tuple[LedgerRow, list[TraceEntry]]:
    with db.session() as s:
        row = s.scalars(select(LedgerRow).where(LedgerRow.call_id == "demo-001", LedgerRow.field == "email")).one()
    return row, list(field_history(db, row.crm, row.record_id, "email"))


def test_after_the_transcript_limit_no_words_remain_and_trace_still_names_call_and_time(
    demo_sqlite: Database,
) -> None:
    row, before = _email_trace(demo_sqlite)
    assert before[0].quotes[0].sentence and "removed" not in before[0].quotes[0].sentence
    [done] = privacy.apply_retention(demo_sqlite, [TENANT], now=datetime.now(UTC) + timedelta(days=91))
    assert done.counts.transcripts == 6 and done.counts.ledger_rows > 0
    with demo_sqlite.engine.connect() as conn:
        assert scan_for(conn, list(SPOKEN)) == []
    with demo_sqlite.session() as s:
        for call in s.scalars(select(CallRow)):
            turns = json.loads(call.raw_payload)["turns"]
            assert turns and all(t["text"] == "" for t in turns) and call.transcript_removed_at is not None
    _row, after = _email_trace(demo_sqlite)
    entry = after[0]
    assert entry.call_id == "demo-001" and entry.confirmed_at == before[0].confirmed_at
    assert entry.value == row.new_value  # the value the CRM holds stays explainable
    assert entry.removed_by == "retention"
    quote = entry.quotes[0]
    assert quote.speaker == "caller" and quote.sentence.startswith("[sentence removed by retention on ")
    assert "keyed hash hmac:" in quote.sentence


def test_after_the_payload_limit_only_the_transcript_is_kept_and_trace_still_quotes_it(
    demo_sqlite: Database,
) -> None:
    _row, before = _email_trace(demo_sqlite)
    [done] = privacy.apply_retention(demo_sqlite, [TENANT], now=datetime.now(UTC) + timedelta(days=31))
    assert done.counts.payloads == 6 and done.counts.transcripts == 0
    with demo_sqlite.session() as s:
        for call in s.scalars(select(CallRow)):
            payload = json.loads(call.raw_payload)
            assert "analysis" not in payload and call.payload_removed_at
            assert payload["turns"] and payload["timezone"]  # words and time zone kept, the rest dropped
    _row, after = _email_trace(demo_sqlite)
    assert after[0].quotes == before[0].quotes


def test_calls_younger_than_the_limits_are_untouched_and_no_run_is_recorded(demo_sqlite: Database) -> None:
    with demo_sqlite.session() as s:
        payloads = [c.raw_payload for c in s.scalars(select(CallRow).order_by(CallRow.id))]
    [done] = privacy.apply_retention(demo_sqlite, [TENANT])
    assert done.counts.total() == 0
    with demo_sqlite.session() as s:
        assert [c.raw_payload for c in s.scalars(select(CallRow).order_by(CallRow.id))] == payloads
        assert s.scalars(select(PrivacyEventRow)).all() == []
    assert privacy.apply_retention(demo_sqlite, [TenantConfig(name="demo")]) == []  # no limits: kept forever


def test_cli_retention_apply_dry_run_then_apply_records_the_run(demo_sqlite: Database, tmp_path: Path) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "demo.yaml").write_text("name: demo\nretention: {transcripts: 90d, payloads: 30d}\n")
    with demo_sqlite.session() as s:
        s.execute(text("UPDATE calls SET received_at = :t"), {"t": datetime.now(UTC) - timedelta(days=100)})
    dry = runner.invoke(app, ["retention", "apply", "--db", demo_sqlite.url, "--tenants", str(tenants), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "demo: would remove 6 raw payloads" in " ".join(dry.output.split())
    with demo_sqlite.engine.connect() as conn:
        assert scan_for(conn, [SPOKEN[0]])
    done = runner.invoke(app, ["retention", "apply", "--db", demo_sqlite.url, "--tenants", str(tenants), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["tenants"][0]["transcripts"] == 6
    with demo_sqlite.engine.connect() as conn:
        assert scan_for(conn, list(SPOKEN)) == []
    with demo_sqlite.session() as s:
        [event] = s.scalars(select(PrivacyEventRow)).all()
    assert event.kind == "retention" and event.counts["transcripts"] == 6


def test_bad_retention_duration_is_one_line_error(tmp_path: Path) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "demo.yaml").write_text("name: demo\nretention: {transcripts: 90 days}\n")
    result = runner.invoke(app, ["retention", "apply", "--db", f"sqlite:///{tmp_path}/x.db", "--tenants", str(tenants)])
    assert result.exit_code == 1 and "is not a duration" in result.output and "Traceback" not in result.output


def test_the_workers_scheduled_run_applies_retention(demo_sqlite: Database) -> None:
    with demo_sqlite.session() as s:
        s.execute(text("UPDATE calls SET received_at = :t"), {"t": datetime.now(UTC) - timedelta(days=100)})
    assert start_retention_job(demo_sqlite, {"demo": TenantConfig(name="demo")}) is None  # nothing to schedule
    job = start_retention_job(demo_sqlite, {"demo": TENANT}, interval_s=3600)
    assert job is not None
    try:
        assert job.ran.wait(60) and job.failures == 0
    finally:
        job.stop()
    with demo_sqlite.engine.connect() as conn:
        assert scan_for(conn, list(SPOKEN)) == []


def test_retention_on_postgresql_removes_the_words_and_keeps_the_trace(pg_url: str) -> None:
    from tests.privacy.conftest import run_demo

    run_demo(pg_url)
    db = Database(pg_url)
    try:
        [done] = privacy.apply_retention(db, [TENANT], now=datetime.now(UTC) + timedelta(days=91))
        assert done.counts.transcripts == 6 and done.counts.sync_records > 0
        with db.engine.connect() as conn:
            assert scan_for(conn, list(SPOKEN)) == []
        _row, after = _email_trace(db)
        assert after[0].call_id == "demo-001" and after[0].removed_by == "retention"
    finally:
        db.dispose()


def test_a_failed_scheduled_run_is_logged_masked_and_the_job_keeps_going(
    demo_sqlite: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from callsync.pipeline import retention_job

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("cannot reduce the call of dana@northwind.com")

    monkeypatch.setattr(retention_job, "apply_retention", broken)
    job = retention_job.RetentionJob(demo_sqlite, {"demo": TENANT}, interval_s=3600)
    job.run_once()
    job.run_once()
    assert job.runs == 2 and job.failures == 2
    assert "retention run failed: RuntimeError: cannot reduce the call of [email]" in caplog.text
    assert "northwind" not in caplog.text
