"""`callsync extract --timezone --today`: dialogues with no start time get a reference date (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from callsync.cli import app

runner = CliRunner()


def write_call(tmp_path: Path, **extra: object) -> Path:
    call = {
        "call_id": "d-1",
        "turns": [
            {"speaker": "caller", "text": "can I get a table for two tomorrow at 7 pm"},
            {"speaker": "agent", "text": "You're booked for tomorrow at 7 PM."},
        ],
        **extra,
    }
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(call) + "\n")
    return path


def test_today_resolves_relative_dates_of_a_call_with_no_start_time(tmp_path: Path) -> None:
    path = write_call(tmp_path)
    result = runner.invoke(
        app, ["extract", str(path), "--today", "2026-02-23", "--timezone", "Europe/London"]
    )
    assert result.exit_code == 0, result.output
    fields = json.loads(result.stdout)["fields"]
    assert fields["date"]["value"] == "2026-02-24"
    assert fields["time"]["value"] == "19:00"


def test_without_today_such_a_call_has_no_date(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(write_call(tmp_path))])
    assert result.exit_code == 0
    assert "date" not in json.loads(result.stdout)["fields"]


def test_a_call_with_its_own_start_time_keeps_it(tmp_path: Path) -> None:
    path = write_call(tmp_path, started_at="2026-06-08T14:00:00Z", timezone="America/New_York")
    result = runner.invoke(app, ["extract", str(path), "--today", "2026-02-23"])
    assert json.loads(result.stdout)["fields"]["date"]["value"] == "2026-06-09"


def test_bad_today_or_timezone_is_a_one_line_error(tmp_path: Path) -> None:
    path = write_call(tmp_path)
    bad_date = runner.invoke(app, ["extract", str(path), "--today", "23/02/2026"])
    assert bad_date.exit_code == 2 and "not a date" in bad_date.output and "Traceback" not in bad_date.output
    bad_zone = runner.invoke(app, ["extract", str(path), "--timezone", "Mars/Olympus"])
    assert bad_zone.exit_code == 2 and "unknown IANA time zone" in bad_zone.output


def test_extract_help_names_the_options() -> None:
    result = runner.invoke(app, ["extract", "--help"], terminal_width=200)
    assert "--today" in result.output and "--timezone" in result.output
