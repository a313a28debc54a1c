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
    assert re.search(r"calls 6: confirmed 5, in review 1, dead letters 0, queued 0", out)
    assert "HTTP 429" in out, "the demo must show the 429 burst being absorbed"
    assert "callsync trace --crm hubspot --record" in out
    assert re.search(r'turn \d+ \(caller\): ".*contoso', out), "the trace quotes the sentence spoken"
    assert "'Northwind' → 'Contoso'" in out, "the repeat caller's company change is in the history"
