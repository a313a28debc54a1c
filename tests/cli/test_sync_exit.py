"""`callsync sync` says in its exit status when a run dead-lettered anything (issue 12 item 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.test_review_flow import cli
from tests.pipeline.test_engine import DANA, call_payload, make_harness

__all__ = ["make_harness"]


def test_sync_exits_non_zero_when_a_call_is_dead_lettered_and_says_where_to_look(
    make_harness: Any, tmp_path: Path
) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "crm: hubspot\nobjects:\n  contact:\n    crm_object: contacts\n    fields:\n"
        "      email: {from: email, policy: fill_if_empty, type: email}\n"
        "      no_such_property: {from: first_name, policy: call_wins}\n"
    )
    h = make_harness(mapping=str(mapping))
    h.ingest(call_payload("c-bad", DANA))
    result = cli(h, tmp_path, "sync", "--timeout", "60", tenant=True)
    assert result.exit_code == 1, result.output
    assert "1 call(s) dead-lettered in this run" in result.output and "callsync dlq list" in result.output
    (contact,) = h.contacts()
    assert contact["properties"]["email"] == "dana.whitfield@northwind.com", "the good field landed"
    again = cli(h, tmp_path, "sync", tenant=True)
    assert again.exit_code == 0 and "nothing to sync" in again.output
