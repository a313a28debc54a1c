"""The review queue as a reviewer uses it: `callsync review ...` against the HubSpot sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from callsync.cli import app
from callsync.store.tables import LedgerRow, ReviewItemRow
from tests.pipeline.test_engine import DANA, TOKEN_ENV, call_payload

runner = CliRunner()


def cli(h: Any, tmp_path: Path, *args: str) -> Any:
    tenant_file = tmp_path / "tenant.yaml"
    tenant_file.write_text(yaml.safe_dump(json.loads(h.tenant.model_dump_json(exclude_defaults=True))))
    db = h.db.url
    needs_crm = args[0] in ("approve", "correct")
    extra = ["--tenant-file", str(tenant_file)] if needs_crm else []
    return runner.invoke(app, ["review", *args, "--db", db, *extra], env={TOKEN_ENV: "sandbox-token"})


def protected_company_item(h: Any) -> ReviewItemRow:
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    (contact,) = h.contacts()
    h.edit_in_crm(contact["id"], {"company": "Northwind Traders Ltd"})
    h.ingest(
        call_payload("c-2", ["this is dana whitfield from contoso", DANA[1]], ended_at="2026-11-22T17:33:00Z")
    )
    h.sync()
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "protected_field"]
    return item


def test_approving_a_protected_proposal_writes_it_and_it_becomes_human_verified(
    make_harness: Any, tmp_path: Path
) -> None:
    h = make_harness()
    item = protected_company_item(h)
    listed = cli(h, tmp_path, "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert item.id in [json.loads(line)["id"] for line in listed.stdout.splitlines()]

    result = cli(h, tmp_path, "approve", str(item.id))
    assert result.exit_code == 0, result.output
    (contact,) = h.contacts()
    assert contact["properties"]["company"] == "Contoso"
    reviewer_rows = [r for r in h.rows(LedgerRow) if r.policy == "reviewer"]
    assert [(r.field, r.old_value, r.new_value) for r in reviewer_rows] == [
        ("company", "Northwind Traders Ltd", "Contoso")
    ]
    assert reviewer_rows[0].confirmed_at is not None

    # A later call may not overwrite the verified value, even under call_wins.
    h.ingest(
        call_payload(
            "c-3", ["this is dana whitfield from fabrikam", DANA[1]], ended_at="2026-11-23T10:00:00Z"
        )
    )
    h.sync()
    (contact,) = h.contacts()
    assert contact["properties"]["company"] == "Contoso"
    proposals = [r.proposed_value for r in h.rows(ReviewItemRow) if r.call_id == "c-3"]
    assert [p.lower() for p in proposals] == ["fabrikam"]
    assert cli(h, tmp_path, "show", str(item.id)).stdout.count("approved") >= 1


def test_correcting_writes_the_reviewers_value(make_harness: Any, tmp_path: Path) -> None:
    h = make_harness()
    item = protected_company_item(h)
    result = cli(h, tmp_path, "correct", str(item.id), "--value", "Contoso Ltd")
    assert result.exit_code == 0, result.output
    (contact,) = h.contacts()
    assert contact["properties"]["company"] == "Contoso Ltd"
    assert any(r.policy == "reviewer" and r.new_value == "Contoso Ltd" for r in h.rows(LedgerRow))


def test_rejecting_writes_nothing_and_closes_the_item(make_harness: Any, tmp_path: Path) -> None:
    h = make_harness()
    item = protected_company_item(h)
    assert cli(h, tmp_path, "reject", str(item.id), "--note", "she still works at northwind").exit_code == 0
    (contact,) = h.contacts()
    assert contact["properties"]["company"] == "Northwind Traders Ltd"
    (closed,) = [r for r in h.rows(ReviewItemRow) if r.id == item.id]
    assert closed.status == "rejected" and closed.detail["decision"]["note"] == "she still works at northwind"
    again = cli(h, tmp_path, "reject", str(item.id))
    assert again.exit_code == 1 and "already rejected" in again.stderr


def test_identity_conflict_is_resolved_by_choosing_the_record(make_harness: Any, tmp_path: Path) -> None:
    h = make_harness()
    h.ingest(call_payload("c-dana", DANA, from_="+14155550123"))
    h.ingest(call_payload("c-priya", ["my name is priya raman", "email priya dot raman at gmail dot com",
                                      "call me at four one five five five five zero one nine nine"],
                          from_="+14155550199"))  # fmt: skip
    h.sync()
    h.ingest(call_payload("c-mixed", [*DANA, "my number is four one five five five five zero one nine nine"],
                          from_="+12125550100"))  # fmt: skip
    h.sync()
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "identity_conflict"]
    dana = next(c for c in h.contacts() if c["properties"]["email"] == "dana.whitfield@northwind.com")
    wrong = cli(h, tmp_path, "approve", str(item.id), "--record", "999")
    assert wrong.exit_code == 1 and "one of" in wrong.stderr
    ok = cli(h, tmp_path, "approve", str(item.id), "--record", dana["id"])
    assert ok.exit_code == 0, ok.output
    assert len(h.contacts()) == 2
    (closed,) = [r for r in h.rows(ReviewItemRow) if r.id == item.id]
    assert closed.status == "approved"


def test_spot_check_sample_draws_recent_writes(make_harness: Any, tmp_path: Path) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    result = cli(h, tmp_path, "sample", "--days", "7", "--n", "2", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "2 random write(s)" in result.stdout
    assert "callsync trace --crm hubspot --record" in result.stdout
