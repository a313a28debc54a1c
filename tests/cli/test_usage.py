"""What a user meets before any work starts: bad --db values, ranges, choices, missing databases, help, and
no traceback from any command (issue 12 items 2, 3, 10, 11, 13)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, get_args

import pytest
from typer.testing import CliRunner

from callsync.cli import app
from callsync.cli.review import KindChoice, StatusChoice
from callsync.store.review import KINDS, STATUSES

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    assert runner.invoke(app, ["migrate", "--db", url]).exit_code == 0
    return url


def one_error_line(result: Any) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("garbage", "'garbage' is not a database URL"),
        ("mysql://x", "unsupported driver mysql; supported are sqlite and postgresql"),
        ("sqlite:///", "names no database file"),
    ],
)
def test_a_bad_db_url_is_one_line_naming_the_problem_and_exit_2(url: str, says: str) -> None:
    result = runner.invoke(app, ["status", "--db", url])
    assert result.exit_code == 2
    assert says in one_error_line(result)


def test_a_postgres_server_that_refuses_is_named_by_host_and_port() -> None:
    port = free_port()
    result = runner.invoke(app, ["status", "--db", f"postgresql://u@127.0.0.1:{port}/x"])
    assert result.exit_code == 2
    assert f"cannot connect to 127.0.0.1:{port}" in one_error_line(result)


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import callsync.services.status as status_service

    def broken(_db: Any) -> Any:
        raise RuntimeError("the disk caught fire\nsecond line")

    monkeypatch.setattr(status_service, "status", broken)
    result = runner.invoke(app, ["status", "--db", db])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.splitlines() == [
        "error: RuntimeError: the disk caught fire",
        "run with --debug for details",
    ]
    debug = runner.invoke(app, ["--debug", "status", "--db", db])
    assert isinstance(debug.exception, RuntimeError)  # let through: the runner holds the traceback


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "--concurrency", "0"],
        ["sync", "--concurrency", "-3"],
        ["sync", "--batch-window", "0"],
        ["sync", "--timeout", "0"],
        ["worker", "--concurrency", "0"],
        ["serve", "--port", "-1"],
        ["serve", "--port", "70000"],
        ["serve", "--concurrency", "0"],
        ["serve", "--max-body", "0"],
        ["review", "sample", "--days", "0"],
        ["review", "sample", "-n", "0"],
        ["dlq", "replay", "--all", "--timeout", "-1"],
        ["dlq", "show", "0"],
        ["review", "show", "0"],
        ["poll", "--platform", "vapi", "--lookback", "0"],
    ],
)
def test_numeric_options_out_of_range_are_refused_at_parse_time(args: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, [*args, "--db", f"sqlite:///{tmp_path}/never.db"])
    assert result.exit_code == 2, result.output
    assert "Invalid value" in result.output
    assert not (tmp_path / "never.db").exists(), "refused before anything ran"


READ_ONLY = [
    ["status"],
    ["trace", "--crm", "hubspot", "--record", "1", "--field", "email"],
    ["review", "list"],
    ["review", "show", "1"],
    ["dlq", "list"],
    ["dlq", "show", "1"],
    ["quarantine", "list"],
    ["quarantine", "show", "1"],
    ["reconcile"],
]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a[:2]))
def test_read_only_commands_refuse_a_database_that_does_not_exist(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLSYNC_HUBSPOT_TOKEN", "t")  # reconcile checks the tenant first
    missing = tmp_path / "typo" / "x.db"
    result = runner.invoke(app, [*args, "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 2, result.output
    assert f"no database at {missing}; check --db" in one_error_line(result)
    assert not missing.parent.exists(), "no directory or empty database was created"


def test_review_list_refuses_an_unknown_status_or_kind_listing_the_choices(db: str) -> None:
    bad_status = runner.invoke(app, ["review", "list", "--status", "bogus", "--db", db])
    assert bad_status.exit_code == 2
    assert "'open'" in bad_status.output and "'all'" in bad_status.output
    bad_kind = runner.invoke(app, ["review", "list", "--kind", "bogus", "--db", db])
    assert bad_kind.exit_code == 2
    assert "'no_identity'" in bad_kind.output
    assert runner.invoke(app, ["review", "list", "--kind", "no_identity", "--db", db]).exit_code == 0


def test_the_review_choices_are_the_stores_states_and_kinds() -> None:
    assert get_args(StatusChoice) == (*STATUSES, "all")
    assert get_args(KindChoice) == KINDS


def test_reconcile_with_a_bad_since_is_a_usage_error(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLSYNC_HUBSPOT_TOKEN", "t")
    result = runner.invoke(app, ["reconcile", "--since", "yesterday", "--db", db])
    assert result.exit_code == 2
    assert "not an ISO date/time nor a duration" in result.output


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in getattr(group, "commands", {}).items():
        found += _commands(sub, (*prefix, name))
    return found


def test_help_shows_plain_types_not_python_ones() -> None:
    import typer.main

    for path in _commands(typer.main.get_command(app)):
        result = runner.invoke(app, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, (path, result.output)
        for python_type in ("<bool>", "<str>", "<int>", "<float>", "<Path>"):
            assert python_type not in result.output, (path, python_type)
    sync_help = runner.invoke(app, ["sync", "--help"], terminal_width=200).output
    assert "INTEGER" in sync_help and "--concurrency" in sync_help


def test_a_broken_command_plugin_is_one_warning_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib
    import importlib.metadata

    import callsync.cli as cli_module

    class Broken:
        name = "sandbox"

        def load(self) -> None:
            raise ImportError("cannot import name 'status_counts'")

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [Broken()])
    try:
        importlib.reload(cli_module)
        warned = capsys.readouterr().err
        assert "the 'sandbox' commands are not available: ImportError" in " ".join(warned.split())
    finally:
        monkeypatch.undo()
        importlib.reload(cli_module)
    assert runner.invoke(cli_module.app, ["version"]).exit_code == 0


def test_an_error_stays_on_one_line_however_long(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from callsync.cli import app

    deep = tmp_path / ("a-rather-long-folder-name-" * 8) / "missing.db"
    result = CliRunner().invoke(app, ["status", "--db", f"sqlite:///{deep}"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: no database at"), result.output
