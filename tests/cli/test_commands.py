"""Commands as a user meets them: serve on a taken port, ingest of what cannot be read, sync with nothing
queued, discarding dead letters and quarantined payloads, and plain rendering (issue 12 items 5, 12, 13, 15)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from callsync.cli import app
from callsync.store.db import Database
from callsync.store.tables import CallRow, DeadLetterRow, LedgerRow, QuarantineRow, ReviewItemRow

runner = CliRunner()
WIDE = 220


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/cli.db")
    database.migrate()
    yield database
    database.dispose()


def cli(db: Database, *args: str) -> Any:
    return runner.invoke(app, [*args, "--db", db.url], terminal_width=WIDE)


def add(db: Database, *rows: object) -> None:
    with db.session() as s:
        s.add_all(rows)


def call_row(call_id: str, state: str, turns: list[dict[str, str]] | None = None) -> CallRow:
    payload = {"call_id": call_id, "turns": turns or []}
    return CallRow(tenant="demo", call_id=call_id, platform="generic", direction="inbound",
                   raw_payload=json.dumps(payload), sync_state=state, workflow_id=f"sync:demo:{call_id}")  # fmt: skip


def test_serve_on_a_taken_port_prints_only_the_error(db: Database) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(
            app, ["serve", "--port", str(port), "--db", db.url], env={"CALLSYNC_DEMO_SECRET": "s"}
        )
    assert result.exit_code == 2
    assert "listening" not in result.output and "ingest on" not in result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_ingest_of_an_empty_file_or_a_directory_says_not_read_and_quarantines_nothing(
    db: Database, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    folder = tmp_path / "calls"
    folder.mkdir()
    result = cli(db, "ingest", str(empty), str(folder))
    assert result.exit_code == 1
    assert "not read" in result.stderr
    assert "quarantined)" not in result.stdout.replace("0 refused (quarantined)", "")
    assert "2 file(s) not read" in result.stdout
    with db.session() as s:
        assert s.query(QuarantineRow).count() == 0


def test_sync_with_nothing_queued_returns_at_once(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLSYNC_HUBSPOT_TOKEN", "t")
    started = time.monotonic()
    result = cli(db, "sync")
    assert result.exit_code == 0, result.output
    assert "nothing to sync" in result.stdout
    assert "0/0" not in result.output and "syncing" not in result.output
    assert time.monotonic() - started < 3


LONG_ERROR = (
    "HTTP 400 from the CRM: PROPERTY_DOESNT_EXIST: the request was refused because one of the properties sent "
    "does not exist on the object; property name: favourite_colour_of_the_caller"
)


def dead_letter(db: Database, call_id: str = "c-1") -> int:
    add(db, call_row(call_id, "dead_letter"))
    row = DeadLetterRow(tenant="demo", crm="hubspot", call_id=call_id, workflow_id=f"sync:demo:{call_id}",
                        operation="upsert_contact", request={"plan": None, "errors": []}, last_error=LONG_ERROR,
                        attempts=3)  # fmt: skip
    add(db, row)
    with db.session() as s:
        return int(s.query(DeadLetterRow.id).filter_by(call_id=call_id).scalar())


def test_dlq_list_shows_the_whole_error_and_the_real_replay_command(db: Database) -> None:
    dl = dead_letter(db)
    result = cli(db, "dlq", "list")
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    assert "favourite_colour_of_the_caller" in flat
    assert f"callsync dlq replay {dl}" in flat
    assert "replay ID" not in flat


def test_a_dead_letter_is_discarded_with_a_reason_kept_for_audit_and_its_call_closed(db: Database) -> None:
    dl = dead_letter(db)
    assert cli(db, "dlq", "discard", str(dl)).exit_code == 2  # --reason is required
    result = cli(db, "dlq", "discard", str(dl), "--reason", "the caller asked us not to keep it")
    assert result.exit_code == 0, result.output
    with db.session() as s:
        row = s.get(DeadLetterRow, dl)
        assert row is not None and row.status == "discarded"
        assert row.request["discarded"]["reason"] == "the caller asked us not to keep it"
        assert row.request["discarded"]["by"]
        assert s.query(CallRow.sync_state).filter_by(call_id="c-1").scalar() == "closed"
    again = cli(db, "dlq", "discard", str(dl), "--reason", "again")
    assert again.exit_code == 1 and "not open" in again.stderr
    listed = [json.loads(line) for line in cli(db, "dlq", "list", "--all", "--json").stdout.splitlines()]
    assert [r["status"] for r in listed] == ["discarded"]
    assert cli(db, "dlq", "list", "--json").stdout == ""


def test_a_quarantined_payload_is_discarded_with_a_reason_and_kept_whole(db: Database) -> None:
    add(
        db,
        QuarantineRow(tenant=None, source="webhook:vapi", reason="no tenant routes it", payload='{"x": 1}'),
    )
    with db.session() as s:
        qid = int(s.query(QuarantineRow.id).scalar())
    result = cli(db, "quarantine", "discard", str(qid), "--reason", "a test call from the vendor")
    assert result.exit_code == 0, result.output
    with db.session() as s:
        row = s.get(QuarantineRow, qid)
        assert row is not None and row.status == "discarded" and row.payload == '{"x": 1}'
        assert "no tenant routes it" in row.reason and "a test call from the vendor" in row.reason
    assert cli(db, "quarantine", "list", "--json").stdout == ""
    assert cli(db, "quarantine", "discard", str(qid), "--reason", "x").exit_code == 1


def test_review_list_renders_values_plainly_never_none_or_a_dict(db: Database) -> None:
    add(db, call_row("c-anon", "review"))
    add(db, ReviewItemRow(dedupe_key="k1", tenant="demo", call_id="c-anon", crm="hubspot", kind="no_identity",
                          reason="no email or phone to match on", proposed_value={"email": None, "phone": None,
                          "name": "Dana Whitfield"}, current_value=None, detail={}))  # fmt: skip
    result = cli(db, "review", "list")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "None" not in text and "{" not in text and "'" not in text
    assert "name Dana Whitfield" in text
    shown = cli(db, "review", "show", "1").stdout
    assert "None" not in shown and "{" not in shown


def test_trace_names_each_moment_in_order_and_shows_who_approved_a_reviewers_value(db: Database) -> None:
    t0 = datetime(2026, 11, 20, 15, 28, 10, tzinfo=UTC)
    turns = [{"speaker": "agent", "text": "Where do you work?"},
             {"speaker": "caller", "text": "Hi. I work at Contoso now. Thanks!"}]  # fmt: skip
    add(db, call_row("c-2", "confirmed", turns))
    start = turns[1]["text"].index("Contoso")
    add(db, LedgerRow(tenant="demo", crm="hubspot", object_type="contacts", record_id="101", field="company",
                      old_value="Northwind", new_value="Contoso", policy="reviewer",
                      decision="approved by a reviewer (review item 7)", call_id="review:7", confidence=1.0,
                      evidence=[{"turn": 1, "start": start, "end": start + 7}], integration_version="callsync 0.1",
                      crm_request_id=None, sent_at=t0, acknowledged_at=t0 + timedelta(seconds=1),
                      confirmed_at=t0 + timedelta(seconds=2), written_at=t0 + timedelta(seconds=8),
                      reviewer="alice", reviewed_at=t0 - timedelta(seconds=5), review_item_id=7,
                      origin_call_id="c-2"))  # fmt: skip
    result = cli(db, "trace", "--crm", "hubspot", "--record", "101", "--field", "company")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "None" not in text and "'" not in text
    assert "Northwind → Contoso" in text
    assert "call c-2" in text and "review:7" not in text.split("(")[0]
    assert "approved by alice at 2026-11-20 15:28:05 UTC (review item 7)" in text
    assert (
        "sent 2026-11-20 15:28:10, acknowledged 15:28:11, confirmed by read-back 15:28:12, "
        "recorded in the ledger 15:28:18 UTC"
    ) in text
    assert "request id —" in text
    assert 'turn 1 (caller): "I work at Contoso now."' in text
    assert "not from the transcript" not in text


def test_plan_prints_values_and_match_keys_plainly(tmp_path: Path) -> None:
    f = tmp_path / "call.json"
    f.write_text(json.dumps({"call_id": "c-1", "from": "+14155550123", "turns": [{"speaker": "caller", "text":
        "hi my name is dana whitfield, email dana dot whitfield at northwind dot com"}]}))  # fmt: skip
    result = runner.invoke(app, ["plan", str(f)], terminal_width=WIDE)
    assert result.exit_code == 0, result.output
    contact = result.stdout.splitlines()[1]
    assert "match on email dana.whitfield@northwind.com" in contact and "{" not in contact
    assert "email = dana.whitfield@northwind.com  [" in result.stdout
    assert "= '" not in result.stdout


def test_status_says_no_worker_is_alive_when_queued_work_has_not_moved(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import callsync.services.status as status_service
    from callsync.pipeline.liveness import worker_liveness

    f = tmp_path / "call.json"
    f.write_text(
        json.dumps({"call_id": "c-1", "from": "+14155550123", "turns": [{"speaker": "caller", "text": "hi"}]})
    )
    assert cli(db, "ingest", str(f)).exit_code == 0
    fresh = cli(db, "status").stdout
    assert "workers: alive" in fresh
    # two minutes later, with no worker started
    monkeypatch.setattr(
        status_service, "worker_liveness", lambda d: worker_liveness(d, now=time.time() + 120)
    )
    later = cli(db, "status")
    assert "workers: none alive" in later.stdout and "start `callsync worker`" in later.stdout
    assert "started and waiting for a worker" in later.stdout
    assert json.loads(cli(db, "status", "--json").stdout)["workers"] == "stalled"
