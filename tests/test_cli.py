"""The `callsync` command as a user meets it: exit codes, error messages, JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from callsync.cli import app

runner = CliRunner()

GOOD = {
    "call_id": "c-1",
    "from": "+14155550123",
    "turns": [
        {"speaker": "agent", "text": "Who am I speaking with?"},
        {
            "speaker": "caller",
            "text": "hi my name is dana whitfield, email dana dot whitfield at northwind dot com",
        },
    ],
}


def write_jsonl(path: Path, *lines: Any) -> Path:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def status(db: str) -> dict[str, int]:
    result = runner.invoke(app, ["status", "--json", "--db", db])
    assert result.exit_code == 0, result.output
    parsed: dict[str, int] = json.loads(result.stdout)
    return parsed


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    created = runner.invoke(app, ["migrate", "--db", url])  # read-only commands refuse a missing database
    assert created.exit_code == 0, created.output
    return url


# What `status --json` holds besides the counts that vary per test.
IDLE = {
    "calls_in_review": 0,
    "delivered": 0,
    "closed": 0,
    "oldest_queued_s": 0,
    "waiting_retry": 0,
    "waiting_rate_limit": 0,
}


def test_status_json_has_the_documented_keys(db: str) -> None:
    assert status(db) == {
        "calls": 0,
        "queued": 0,
        "confirmed": 0,
        "dead_letters": 0,
        "quarantined": 0,
        "review": 0,
        "waiting_for_crm_budget": 0,
        **IDLE,
        "workers": "idle",
        "worker_last_progress_s": None,
    }


def test_ingest_stores_good_calls_and_refuses_bad_ones_naming_file_line_and_field(
    db: str, tmp_path: Path
) -> None:
    bad_speaker = GOOD | {"call_id": "c-3", "turns": [{"speaker": "robot", "text": "beep"}]}
    f = write_jsonl(tmp_path / "calls.jsonl", GOOD, "{broken json", bad_speaker, GOOD | {"call_id": "c-2"})
    result = runner.invoke(app, ["ingest", str(f), "--db", db])
    assert result.exit_code == 1
    assert f"{f}:2: malformed JSON" in result.stderr
    assert f"{f}:3: turns.0.speaker:" in result.stderr
    # the age of the queued calls varies; no worker ran, but they were queued a moment ago
    assert status(db) | {"oldest_queued_s": 0, "worker_last_progress_s": 0} == {
        "calls": 2,
        "queued": 2,
        "confirmed": 0,
        "dead_letters": 0,
        "quarantined": 2,
        "review": 0,
        "waiting_for_crm_budget": 0,
        **IDLE,
        "workers": "active",
        "worker_last_progress_s": 0,
    }


def test_ingesting_the_same_file_twice_stores_each_call_once(db: str, tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "calls.jsonl", GOOD)
    assert runner.invoke(app, ["ingest", str(f), "--db", db]).exit_code == 0
    again = runner.invoke(app, ["ingest", str(f), "--db", db])
    assert again.exit_code == 0 and "1 already stored" in again.stdout
    assert status(db)["calls"] == 1


def test_extract_prints_one_extraction_per_json_line(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "calls.jsonl", GOOD, GOOD | {"call_id": "c-2"})
    result = runner.invoke(app, ["extract", str(f)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [x["call_id"] for x in lines] == ["c-1", "c-2"]
    email = lines[0]["fields"]["email"]
    assert email["value"] == "dana.whitfield@northwind.com"
    assert email["status"] in ("accepted", "needs_review")
    assert 0 <= email["confidence"] <= 1
    assert email["evidence"] and set(email["evidence"][0]) == {"turn", "start", "end"}
    assert set(lines[0]) >= {"call_id", "fields", "intent", "sentiment", "outcome"}


def test_extract_mirrors_a_json_list_and_a_single_object(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text(json.dumps([GOOD, GOOD | {"call_id": "c-2"}]))
    result = runner.invoke(app, ["extract", str(tmp_path / "list.json")])
    assert [x["call_id"] for x in json.loads(result.stdout)] == ["c-1", "c-2"]
    (tmp_path / "one.json").write_text(json.dumps(GOOD, indent=2))
    result = runner.invoke(app, ["extract", str(tmp_path / "one.json")])
    assert json.loads(result.stdout)["call_id"] == "c-1"


def test_extract_reports_a_bad_call_and_still_prints_the_good_ones(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "calls.jsonl", {"turns": []}, GOOD)
    result = runner.invoke(app, ["extract", str(f)])
    assert result.exit_code == 1
    assert f"{f}:1: call_id:" in result.stderr
    assert json.loads(result.stdout.strip())["call_id"] == "c-1"


def test_sync_refuses_to_start_without_the_crm_token(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLSYNC_HUBSPOT_TOKEN", raising=False)
    result = runner.invoke(app, ["sync", "--db", db])
    assert result.exit_code == 1
    assert "CALLSYNC_HUBSPOT_TOKEN" in result.stderr


def test_trace_of_an_unknown_field_says_so(db: str) -> None:
    result = runner.invoke(
        app, ["trace", "--crm", "hubspot", "--record", "1", "--field", "email", "--db", db]
    )
    assert result.exit_code == 1
    assert "no record of writing" in result.stderr


DEV_CALLS = Path(__file__).resolve().parents[2] / "shared" / "dev-calls" / "dev-calls.jsonl"


@pytest.mark.skipif(not DEV_CALLS.exists(), reason="shared/dev-calls is not beside this checkout")
def test_extract_on_the_dev_calls_finds_most_contacts_and_accepts_nothing_wrong() -> None:
    result = runner.invoke(app, ["extract", str(DEV_CALLS)])
    assert result.exit_code == 0, result.output
    gold = {
        json.loads(line)["call_id"]: json.loads(line)["gold"] for line in DEV_CALLS.read_text().splitlines()
    }
    for field in ("email", "phone"):
        expected = found = wrong = 0
        for line in result.stdout.splitlines():
            extraction = json.loads(line)
            want = gold[extraction["call_id"]][field]
            got = extraction["fields"].get(field)
            accepted = got is not None and got["status"] == "accepted"
            expected += want is not None
            found += accepted and got["value"] == want
            wrong += accepted and got["value"] != want
        assert found >= 0.6 * expected, (field, found, expected)
        assert wrong == 0, (field, wrong)
