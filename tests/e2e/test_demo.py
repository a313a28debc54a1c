"""README command 1 in-process: the demo lands every call once and prints a trace."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from callsync.cli import app


def test_demo_lands_the_sample_calls_with_zero_duplicates_and_a_trace(tmp_path: object) -> None:
    result = CliRunner().invoke(app, ["demo", "--db", f"sqlite:///{tmp_path}/demo.db"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "duplicates: 0" in out
    landed = re.search(r"calls 6: confirmed (\d+), waiting for review (\d+), dead-lettered 0, queued 0", out)
    assert landed, out
    assert int(landed[1]) + int(landed[2]) == 6, "every call is confirmed or waits for a person"
    assert "HTTP 429" in out, "the demo must show the 429 burst being absorbed"
    assert "callsync trace --crm hubspot --record" in out
    assert re.search(r'turn \d+ \(caller\): ".*contoso', out), "the trace quotes the sentence spoken"
    assert re.search(r"'?Northwind'? → '?Contoso'?", out), (
        "the repeat caller's company change is in the history"
    )


def test_demo_labels_what_each_count_counts_and_keeps_log_lines_out_of_stdout(tmp_path: object) -> None:
    result = CliRunner().invoke(app, ["demo", "--db", f"sqlite:///{tmp_path}/demo.db"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    calls = re.search(r"^  calls: received 6, queued 0, confirmed \d+, waiting for review \d+, ", out, re.M)
    assert calls, out
    items = re.search(
        r"^  open items: review items \(values to check\) \d+, dead letters 0, quarantined payloads 0",
        out,
        re.M,
    )
    assert items, out
    assert "in review" not in out, "a bare 'in review' does not say whether it counts calls or items"
    assert "batching" not in out and "[debug" not in out, (
        "log lines belong on stderr, and only with --verbose"
    )


def test_logging_after_the_demo_command_returned_never_fails(tmp_path: object) -> None:
    import structlog
    from typer.testing import CliRunner

    from callsync.cli import app

    result = CliRunner().invoke(app, ["demo", "--db", f"sqlite:///{tmp_path}/demo.db"])
    assert result.exit_code == 0, result.output
    # The runner's stderr is closed now; a worker logging afterwards (same process) must not crash.
    structlog.get_logger("callsync.test").error("after the demo")


def test_the_demo_prints_no_traceback_for_the_responses_its_fault_plan_drops(tmp_path: object) -> None:
    import subprocess
    import sys
    from pathlib import Path

    callsync = str(Path(sys.executable).parent / "callsync")
    done = subprocess.run(
        [callsync, "demo", "--crm", "gohighlevel", "--db", f"sqlite:///{tmp_path}/demo.db"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "ResponseDropped" not in done.stderr, done.stderr[-2000:]


def test_the_webhook_demo_delivers_each_call_once_and_says_delivered_never_confirmed(
    tmp_path: object,
) -> None:
    result = CliRunner().invoke(app, ["demo", "--crm", "webhook", "--db", f"sqlite:///{tmp_path}/demo.db"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "duplicates: 0" in out and "HTTP 500" in out, "the failing receiver is retried, never doubled"
    # The wrong-number call says nothing to match on: it waits for review; the five others are delivered.
    assert re.search(r"calls 6: confirmed 0, delivered \(2xx, not read back\) 5, waiting for review 1, ", out)
    assert "each delivered (2xx), none can be read back" in out
    assert "callsync trace --crm webhook --record msg_" in out
    assert "delivered, not confirmed" in out and "confirmed by read-back" not in out
    assert re.search(
        r"^  calls: received 6, queued 0, confirmed 0, delivered \(2xx, not read back\) 5", out, re.M
    )
