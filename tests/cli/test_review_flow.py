"""A reviewer's decisions end to end against the HubSpot sandbox: who approved a value and the sentence it
came from show in the trace; a call with no identity reaches a final state (issue 12 items 6 and 7)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import httpx
import yaml
from typer.testing import CliRunner

from callsync.cli import app
from callsync.store.tables import CallRow, LedgerRow, ReviewItemRow
from tests.pipeline.test_engine import DANA, TOKEN_ENV, call_payload, make_harness

__all__ = ["make_harness"]

runner = CliRunner()


def cli(h: Any, tmp_path: Path, *args: str, tenant: bool = False) -> Any:
    extra: list[str] = []
    if tenant:
        tenant_file = tmp_path / "tenant.yaml"
        tenant_file.write_text(yaml.safe_dump(json.loads(h.tenant.model_dump_json(exclude_defaults=True))))
        extra = ["--tenant-file", str(tenant_file)]
    return runner.invoke(app, [*args, "--db", h.db.url, *extra], env={TOKEN_ENV: "sandbox-token"})


def test_an_approved_value_traces_to_the_original_call_and_sentence_and_to_who_approved_it(
    make_harness: Any, tmp_path: Path
) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    (contact,) = h.contacts()
    h.edit_in_crm(contact["id"], {"company": "Northwind Traders Ltd"})
    h.ingest(
        call_payload("c-2", ["this is dana whitfield from contoso", DANA[1]], ended_at="2026-11-22T17:33:00Z")
    )
    h.sync()
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "protected_field"]
    approved = cli(h, tmp_path, "review", "approve", str(item.id), tenant=True)
    assert approved.exit_code == 0, approved.output
    (row,) = [r for r in h.rows(LedgerRow) if r.policy == "reviewer"]
    assert (row.reviewer, row.review_item_id, row.origin_call_id) == (getpass.getuser(), item.id, "c-2")

    traced = cli(h, tmp_path, "trace", "--crm", "hubspot", "--record", contact["id"], "--field", "company")
    assert traced.exit_code == 0, traced.output
    text = traced.stdout
    assert f"approved by {getpass.getuser()} at " in text and f"(review item {item.id})" in text
    reviewed = text[text.index("call c-2, policy reviewer") :]  # the reviewer's write, the newest
    assert "this is dana whitfield from contoso" in reviewed.lower()
    assert "not from the transcript" not in reviewed
    assert "None" not in text


def test_rejecting_a_call_with_no_identity_closes_the_call(make_harness: Any, tmp_path: Path) -> None:
    h = make_harness()
    h.ingest(call_payload("c-anon", ["hi it's dana, just a question"], from_="anonymous"))
    h.sync()
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "no_identity"]
    rejected = cli(h, tmp_path, "review", "reject", str(item.id), "--note", "a prank call")
    assert rejected.exit_code == 0, rejected.output
    assert "the call is closed" in rejected.stdout
    (call,) = [c for c in h.rows(CallRow) if c.call_id == "c-anon"]
    assert call.sync_state == "closed"
    status = json.loads(cli(h, tmp_path, "status", "--json").stdout)
    assert status["calls_in_review"] == 0 and status["closed"] == 1


def test_a_call_with_no_identity_is_resolved_by_naming_its_record(make_harness: Any, tmp_path: Path) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    (contact,) = h.contacts()
    h.ingest(call_payload("c-anon", ["hi it's dana whitfield again from northwind"], from_="anonymous"))
    h.sync()
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "no_identity"]
    resolved = cli(h, tmp_path, "review", "resolve", str(item.id), "--record", contact["id"], tenant=True)
    assert resolved.exit_code == 0, resolved.output
    (call,) = [c for c in h.rows(CallRow) if c.call_id == "c-anon"]
    assert call.sync_state == "confirmed"
    assert len(h.contacts()) == 1


def test_a_call_with_no_identity_is_resolved_by_supplying_the_callers_email(
    make_harness: Any, tmp_path: Path
) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    (contact,) = h.contacts()
    h.ingest(call_payload("c-anon", ["hi it's dana whitfield again from northwind"], from_="anonymous"))
    h.sync()
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "no_identity"]
    resolved = cli(
        h, tmp_path, "review", "resolve", str(item.id), "--email", "Dana.Whitfield@northwind.com", tenant=True
    )
    assert resolved.exit_code == 0, resolved.output
    (call,) = [c for c in h.rows(CallRow) if c.call_id == "c-anon"]
    assert call.sync_state == "confirmed"
    assert [c["id"] for c in h.contacts()] == [contact["id"]], (
        "matched by the supplied email, not created again"
    )
    (decided,) = [r for r in h.rows(ReviewItemRow) if r.id == item.id]
    assert (
        decided.status == "resolved" and decided.detail["decision"]["email"] == "Dana.Whitfield@northwind.com"
    )


def test_resolve_needs_an_answer(make_harness: Any, tmp_path: Path) -> None:
    h = make_harness()
    h.ingest(call_payload("c-anon", ["hello?"], from_="anonymous"))
    h.sync()
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "no_identity"]
    result = cli(h, tmp_path, "review", "resolve", str(item.id), tenant=True)
    assert result.exit_code == 2 and "give --record, or --email and/or --phone" in result.output


def test_a_waiting_deal_is_resolved_by_naming_its_existing_record(make_harness: Any, tmp_path: Path) -> None:
    h = make_harness()
    auth = {"Authorization": "Bearer sandbox-token"}
    deal = httpx.post(
        f"{h.base_url}/crm/v3/objects/deals", json={"properties": {"dealname": "Dana's team"}}, headers=auth
    ).json()["id"]
    h.ingest(
        call_payload(
            "c-w",
            [
                "hi this is dana whitfield, i'd like to buy your scheduling software for my team",
                "our budget is fifty thousand dollars, email dana dot whitfield at gmail dot com",
            ],
        )
    )
    h.sync()
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "waiting_object"]
    assert item.field == "deal"
    missing = cli(h, tmp_path, "review", "resolve", str(item.id), "--record", "999999", tenant=True)
    assert missing.exit_code != 0 and "no deal record 999999" in missing.output
    resolved = cli(h, tmp_path, "review", "resolve", str(item.id), "--record", deal, tenant=True)
    assert resolved.exit_code == 0, resolved.output
    (contact,) = h.contacts()
    linked = httpx.get(f"{h.base_url}/crm/v4/objects/deals/{deal}/associations/contacts", headers=auth).json()
    assert [str(r["toObjectId"]) for r in linked["results"]] == [contact["id"]]
    (decided,) = [r for r in h.rows(ReviewItemRow) if r.id == item.id]
    assert decided.status == "resolved"
