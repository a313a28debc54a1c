"""`callsync actions explain`, the actions `callsync plan` shows, and `callsync trace --call`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from callsync.cli import app
from tests.actions.conftest import BOOKED, BOOKED_VAGUE, MAPPING, payload

runner = CliRunner()
WIDE = 200


def test_explain_prints_one_sentence_per_rule() -> None:
    result = runner.invoke(app, ["actions", "explain", "--mapping", MAPPING], terminal_width=WIDE)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 7
    assert lines[0].startswith("call_log: for every call, log the call as a call activity")
    assert lines[4] == ("qualify: when the intent is sales and the amount was captured, move the call's deal to "
                        "stage 'qualifiedtobuy' (never backwards).")  # fmt: skip


def test_explain_refuses_a_bad_rule_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(MAPPING).read_text().replace("owner: sales}", "owner: nobody}", 1))
    result = runner.invoke(app, ["actions", "explain", "--mapping", str(bad)], terminal_width=WIDE)
    assert result.exit_code == 1
    assert result.output.strip().startswith(f"error: {bad}:")
    assert "unknown owner 'nobody'" in result.output and "Traceback" not in result.output


def test_plan_shows_the_actions_a_call_would_trigger_and_what_waits(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text(
        json.dumps(payload("p-1", BOOKED)) + "\n" + json.dumps(payload("p-2", BOOKED_VAGUE)) + "\n"
    )
    result = runner.invoke(app, ["plan", str(calls), "--mapping", MAPPING], terminal_width=WIDE)
    assert result.exit_code == 0, result.output
    assert (
        "action book: book_meeting 'Consultation with Dana Whitfield' (at Tue 24 Nov 3:00 PM" in result.output
    )
    assert "— waits for review" in result.output and "asks: book a meeting" in result.output
    as_json = runner.invoke(app, ["plan", str(calls), "--mapping", MAPPING, "--json"], terminal_width=WIDE)
    first = json.loads(as_json.output.splitlines()[0])
    assert [a["rule"] for a in first["actions"]] == ["call_log", "book"]


def test_trace_of_a_call_shows_its_fields_and_actions(make_harness: Any) -> None:
    h = make_harness()
    h.ingest("c-tr", BOOKED_VAGUE)
    h.sync()
    result = runner.invoke(app, ["trace", "--call", "c-tr", "--db", h.db.url], terminal_width=WIDE)
    assert result.exit_code == 0, result.output
    assert "hubspot contacts" in result.output and "email = dana.whitfield@northwind.com" in result.output
    assert "action call_log: log_call 'Booking call' — confirmed (created) → calls" in result.output
    assert "action book: book_meeting 'Consultation with Dana Whitfield' — review" in result.output
    assert "waits for a person (review item" in result.output
    missing = runner.invoke(app, ["trace", "--call", "nope", "--db", h.db.url], terminal_width=WIDE)
    assert missing.exit_code == 1 and "no record of writing anything for call nope" in missing.output
