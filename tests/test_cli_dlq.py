"""`callsync dlq list|show|replay ID|replay --all` and the backlog view of `callsync status`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from callsync.cli import app
from callsync.store.tables import DeadLetterRow
from tests.pipeline.test_engine import DANA, TOKEN_ENV, Harness, call_payload, make_harness

__all__ = ["make_harness"]

runner = CliRunner()
CREATE = "/crm/v3/objects/contacts(/batch/create)?"  # alone or in a batch
PRIYA = ["my name is priya raman", "email priya dot raman at gmail dot com"]


def tenant_file(h: Harness, tmp_path: Path) -> str:
    path = tmp_path / "t1.yaml"
    path.write_text(
        f"name: t1\ncrm: {{kind: hubspot, base_url: '{h.base_url}', token_env: {TOKEN_ENV}, timeout_s: 2}}\n"
        "delivery: {max_attempts: 3, base_delay_s: 0.05, max_delay_s: 0.2, outage_horizon_s: 1}\n"
    )
    return str(path)


def cli(h: Harness, *args: str) -> Any:
    return runner.invoke(app, [*args, "--db", h.db.url])


def two_dead_letters(make: Any) -> Harness:
    h: Harness = make(
        {"rules": [{"method": "POST", "path": CREATE, "fault": "status", "status": 400, "times": 2}]}
    )
    # One after the other: together they would share one batch request, refused once for both.
    h.ingest(call_payload("c-dana", DANA))
    h.sync()
    h.ingest(call_payload("c-priya", PRIYA, from_="+16175550148"))
    assert h.sync().dead_letter == 2
    return h


def test_list_and_show_say_what_was_meant_what_failed_and_how_to_replay(make_harness: Any) -> None:
    h = two_dead_letters(make_harness)
    listed = cli(h, "dlq", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(r["call_id"] for r in rows) == ["c-dana", "c-priya"]
    assert all(r["status"] == "open" and "HTTP 400" in r["last_error"] for r in rows)
    table = cli(h, "dlq", "list")
    assert "c-dana" in table.stdout and "callsync dlq replay --all" in table.stdout

    dana = next(r for r in rows if r["call_id"] == "c-dana")
    shown = cli(h, "dlq", "show", str(dana["id"]))
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert "last error" in text and "HTTP 400" in text
    assert "dana.whitfield@northwind.com" in text  # what it meant to write
    assert f"callsync dlq replay {dana['id']} --tenant-file <t1.yaml>" in text
    full = json.loads(cli(h, "dlq", "show", str(dana["id"]), "--json").stdout)
    assert full["request"]["plan"]["fields"]["email"]["value"] == "dana.whitfield@northwind.com"
    assert full["workflow_id"] == "sync:t1:c-dana"
    assert cli(h, "dlq", "show", "999").exit_code == 1


def test_replay_one_then_all(make_harness: Any, tmp_path: Path) -> None:
    h = two_dead_letters(make_harness)
    ids = {r.call_id: r.id for r in h.rows(DeadLetterRow)}
    tf = tenant_file(h, tmp_path)
    one = cli(h, "dlq", "replay", str(ids["c-dana"]), "--tenant-file", tf, "--timeout", "50")
    assert one.exit_code == 0, one.output
    assert f"dead letter {ids['c-dana']} (call c-dana): resolved, the call is confirmed" in one.stdout
    again = cli(h, "dlq", "replay", str(ids["c-dana"]), "--tenant-file", tf)
    assert again.exit_code == 1 and "it is resolved, not open" in again.output

    rest = cli(h, "dlq", "replay", "--all", "--tenant-file", tf, "--timeout", "50")
    assert rest.exit_code == 0, rest.output
    assert "queued 1 replay(s)" in rest.stdout and "c-priya): resolved" in rest.stdout
    assert cli(h, "dlq", "list", "--json").stdout == ""
    statuses = [
        json.loads(line)["status"] for line in cli(h, "dlq", "list", "--all", "--json").stdout.splitlines()
    ]
    assert statuses == ["resolved", "resolved"]
    assert len(h.contacts()) == 2
    assert cli(h, "dlq", "replay", "--all", "--tenant-file", tf).stdout.strip() == "no open dead letters"


def test_replay_without_wait_only_queues_and_a_later_worker_settles_it(make_harness: Any) -> None:
    h = two_dead_letters(make_harness)
    queued = cli(h, "dlq", "replay", "--all", "--no-wait")
    assert queued.exit_code == 0, queued.output
    assert "queued 2 replay(s)" in queued.stdout
    status = json.loads(cli(h, "status", "--json").stdout)
    assert (status["queued"], status["dead_letters"]) == (2, 0)
    assert h.sync().confirmed == 2
    listed = [json.loads(line) for line in cli(h, "dlq", "list", "--all", "--json").stdout.splitlines()]
    assert {r["status"] for r in listed} == {"resolved"}


def test_replay_needs_an_id_or_all_and_refuses_unknown_tenants(make_harness: Any, tmp_path: Path) -> None:
    h = two_dead_letters(make_harness)
    assert "give one dead letter id, or --all" in cli(h, "dlq", "replay").output
    assert cli(h, "dlq", "replay", "1", "--all").exit_code == 2  # bad usage
    other = tmp_path / "other.yaml"
    other.write_text(
        f"name: other\ncrm: {{kind: hubspot, base_url: '{h.base_url}', token_env: {TOKEN_ENV}}}\n"
    )
    refused = cli(h, "dlq", "replay", "--all", "--tenant-file", str(other))
    assert refused.exit_code == 1 and "no configuration here for tenant(s) t1" in refused.output
    assert {r.status for r in h.rows(DeadLetterRow)} == {"open"}, "nothing was queued"


def test_status_shows_calls_waiting_out_an_outage(make_harness: Any) -> None:
    import threading

    from callsync.pipeline import engine
    from callsync.pipeline.worker import running_worker

    down = {"outages": [{"start_s": 0, "duration_s": 3600}]}
    h: Harness = make_harness(down)
    h.tenant = h.tenant.model_copy(
        update={"delivery": h.tenant.delivery.model_copy(update={"base_delay_s": 2.0, "max_delay_s": 2.0})}
    )
    h.ingest(call_payload("c-dana", DANA))
    seen: dict[str, Any] = {}
    with running_worker(engine.Runtime(h.db, {"t1": h.tenant}), poll_s=0.05):
        stop = threading.Event()
        for _ in range(100):
            body = json.loads(cli(h, "status", "--json").stdout)
            if body["waiting_retry"]:
                seen = body
                break
            stop.wait(0.1)
        text = cli(h, "status").stdout
    assert seen["queued"] == 1 and seen["waiting_retry"] == 1 and seen["waiting_rate_limit"] == 0
    assert seen["oldest_queued_s"] >= 0
    assert "1 waiting to retry (1 because the CRM is not answering)" in text
    assert "HTTP 503" in text
