"""`callsync policy explain` says in one sentence per field who wins, consistent with docs/policies.md."""

from __future__ import annotations

from callsync.config import EXAMPLES_DIR
from callsync.structure.explain import explain_mapping, explain_required
from callsync.structure.mapping import load_mapping


def test_fill_if_empty_and_crm_wins_never_send_anything_to_review() -> None:
    rules = explain_mapping(load_mapping(EXAMPLES_DIR / "hubspot.yaml"))
    by_policy = {r.policy: r.sentence for r in rules}
    assert "review queue" in by_policy["call_wins"] and "never overwritten" in by_policy["call_wins"]
    assert "nothing goes to the review queue" in by_policy["fill_if_empty"]
    assert "goes to the review queue" not in by_policy["fill_if_empty"].replace("nothing goes", "")


def test_required_defaults_are_printed_plainly() -> None:
    lines = explain_required(load_mapping(EXAMPLES_DIR / "hubspot.yaml"))
    assert 'contacts.lastname is required: without a value it is set to "(unknown caller)".' in lines
