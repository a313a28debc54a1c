"""docs/sandbox.md stays true: its example fault plan loads, and every CLI flag it shows exists."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from callsync.cli import app
from callsync_sandbox.faults import load_fault_plan

DOC = (Path(__file__).resolve().parents[2] / "docs" / "sandbox.md").read_text()


def test_the_example_fault_plan_in_the_doc_loads_with_every_rule() -> None:
    (block,) = re.findall(r"```yaml\n(.*?)```", DOC, re.S)
    plan = load_fault_plan(block)
    assert plan.seed == 7
    assert [rule.fault for rule in plan.all_rules()] == [
        "status",  # the outage
        "latency",
        "drop_response_after_commit",
        "status",
        "partial_batch",
    ]


def test_every_sandbox_flag_the_doc_shows_exists() -> None:
    sandbox = typer.main.get_command(app).commands["sandbox"]  # type: ignore[attr-defined]
    known = {opt for param in sandbox.params for opt in param.opts}
    shown = set(re.findall(r"callsync sandbox [a-z]+[^\n`]*", DOC))
    flags = {flag for line in shown for flag in re.findall(r"--[a-z-]+", line)}
    assert flags and flags <= known, (
        f"flags in docs/sandbox.md that `callsync sandbox` lacks: {flags - known}"
    )
