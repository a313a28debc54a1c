"""`callsync reconcile`: the ledger against the CRM's current state, over real HTTP.

Each test makes one kind of gap on purpose — a record deleted in the CRM, a second record stamped with one
call, two records for one phone, a value a rep changed, a write that landed for a dead-lettered call — and
checks the report names it, and that the exit status is non-zero exactly when something is lost or doubled.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from callsync.cli import app
from callsync.cli.reconcile import parse_since
from callsync.trust import reconcile as reconcile_module
from callsync.trust.reconcile import ReconcileReport, reconcile
from tests.pipeline.test_engine import DANA, TOKEN, TOKEN_ENV, Harness, call_payload, make_harness

__all__ = ["make_harness"]

PRIYA = ["my name is priya raman", "email priya dot raman at gmail dot com"]
MARCUS = ["my name is marcus lee", "call me at three one two five five five zero one seven eight"]


def run(h: Harness, **kw: Any) -> ReconcileReport:
    return asyncio.run(reconcile(h.db, {h.tenant.name: h.tenant}, **kw))


def crm(h: Harness, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    response = httpx.request(
        method, f"{h.base_url}{path}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    response.raise_for_status()
    return response


def synced(make: Any, *, legacy_stamp: bool = False, **kw: Any) -> Harness:
    """Three calls synced. `legacy_stamp`: a portal whose stamp property was created before callsync made
    it unique, where nothing in the CRM stops a second record carrying one call's stamp."""
    h: Harness = make(**kw)
    if legacy_stamp:
        crm(h, "POST", "/crm/v3/properties/contacts",
            {"name": "callsync_origin_call_id", "label": "Origin call", "type": "string", "fieldType": "text",
             "groupName": "contactinformation", "hasUniqueValue": False})  # fmt: skip
    h.ingest(call_payload("c-dana", DANA))
    h.ingest(call_payload("c-priya", PRIYA, from_="+16175550148"))
    h.ingest(call_payload("c-marcus", MARCUS, from_="+13125550142"))
    assert h.sync().confirmed == 3
    return h


def contact_of(h: Harness, email: str) -> str:
    return next(c["id"] for c in h.contacts() if c["properties"].get("email") == email)


def test_a_clean_sync_reconciles_clean(make_harness: Any) -> None:
    h = synced(make_harness)
    report = run(h)
    assert (report.received, report.confirmed, report.dead_letter, report.queued) == (3, 3, 0, 0)
    assert report.clean and report.exit_code == 0
    assert report.records_checked >= 3
    assert (report.missing_writes, report.double_writes, report.drifted_fields) == ([], [], [])


def test_a_record_deleted_in_the_crm_is_a_missing_write(make_harness: Any) -> None:
    h = synced(make_harness)
    crm(h, "DELETE", f"/crm/v3/objects/contacts/{contact_of(h, 'priya.raman@gmail.com')}")
    report = run(h)
    assert report.lost == 1 and report.exit_code == 1
    (missing,) = report.missing_writes
    assert (missing.call_id, missing.object_type) == ("c-priya", "contacts")


def test_a_second_record_stamped_with_one_call_is_a_double_write(make_harness: Any) -> None:
    h = synced(make_harness, legacy_stamp=True)
    crm(h, "POST", "/crm/v3/objects/contacts",
        {"properties": {"lastname": "Lee", "callsync_origin_call_id": "c-marcus"}})  # fmt: skip
    report = run(h)
    assert report.doubled >= 1 and report.exit_code == 1
    stamp = [d for d in report.double_writes if d.kind == "stamp"]
    assert [(d.key, len(d.record_ids)) for d in stamp] == [("c-marcus", 2)]


def test_two_records_for_one_phone_are_a_double(make_harness: Any) -> None:
    h = synced(make_harness)
    # Someone's integration re-creates the phone-only caller without the stamp: one person, two records.
    crm(h, "POST", "/crm/v3/objects/contacts", {"properties": {"lastname": "Lee", "phone": "(312) 555-0178"}})
    report = run(h)
    identity = [d for d in report.double_writes if d.kind == "identity"]
    assert [d.key for d in identity] == ["phone:+13125550178"]
    assert identity[0].calls == ["c-marcus"]


def test_a_shared_switchboard_line_is_not_a_double(make_harness: Any) -> None:
    h2 = synced(make_harness)
    # A colleague of Priya's with her own email on the same company line: two people, not a double.
    priya = contact_of(h2, "priya.raman@gmail.com")
    crm(h2, "PATCH", f"/crm/v3/objects/contacts/{priya}", {"properties": {"phone": "+16175550100"}})
    crm(h2, "POST", "/crm/v3/objects/contacts",
        {"properties": {"email": "raj@gmail.com", "phone": "+16175550100"}})  # fmt: skip
    assert [d for d in run(h2).double_writes if d.kind == "identity"] == []


def test_a_value_a_rep_changed_is_reported_as_drift_and_left_alone(make_harness: Any) -> None:
    h = synced(make_harness)
    dana = contact_of(h, "dana.whitfield@northwind.com")
    crm(h, "PATCH", f"/crm/v3/objects/contacts/{dana}", {"properties": {"company": "Northwind Traders Ltd"}})
    report = run(h)
    assert report.clean and report.exit_code == 0, "drift alone is not a loss"
    (drift,) = report.drifted_fields
    assert (drift.record_id, drift.field, drift.current, drift.call_id) == (
        dana,
        "company",
        "Northwind Traders Ltd",
        "c-dana",
    )
    assert drift.written.lower() == "northwind"
    assert (
        next(c for c in h.contacts() if c["id"] == dana)["properties"]["company"] == "Northwind Traders Ltd"
    )


def test_a_write_that_landed_for_a_dead_lettered_call_is_unacknowledged_not_lost(make_harness: Any) -> None:
    # The create lands; its read-back is refused as if invalid, which dead-letters the call at once.
    # The first batch read looks the caller up; the second is the read-back.
    broken = {"method": "POST", "path": "/crm/v3/objects/contacts/batch/read", "fault": "status", "status": 400,
               "skip": 1, "times": 1}  # fmt: skip
    h = make_harness({"rules": [broken]})
    h.ingest(call_payload("c-dana", DANA))
    assert h.sync().dead_letter == 1
    report = run(h)
    assert (report.received, report.dead_letter, report.lost, report.doubled) == (1, 1, 0, 0)
    (landed,) = report.unacknowledged_writes
    assert (landed.call_id, landed.call_state) == ("c-dana", "dead_letter")


def test_without_a_bulk_lister_the_protocol_finds_the_same_gaps(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = synced(make_harness, legacy_stamp=True)
    crm(h, "POST", "/crm/v3/objects/contacts",
        {"properties": {"lastname": "Lee", "callsync_origin_call_id": "c-marcus"}})  # fmt: skip
    crm(h, "DELETE", f"/crm/v3/objects/contacts/{contact_of(h, 'priya.raman@gmail.com')}")
    scanned = run(h)
    monkeypatch.setattr(reconcile_module, "scanner_for", lambda adapter, kind: None)
    found = run(h)
    assert [(m.call_id, m.record_id) for m in found.missing_writes] == [
        (m.call_id, m.record_id) for m in scanned.missing_writes
    ]
    assert {(d.kind, d.key) for d in found.double_writes} == {(d.kind, d.key) for d in scanned.double_writes}
    assert found.crm_requests > scanned.crm_requests


def test_since_limits_the_window(make_harness: Any) -> None:
    h = synced(make_harness)
    assert run(h, since=datetime.now(UTC) + timedelta(minutes=1)).received == 0
    assert run(h, since=datetime.now(UTC) - timedelta(hours=1)).received == 3


def test_the_command_prints_the_report_and_fails_only_when_something_is_lost_or_doubled(
    make_harness: Any, tmp_path: Path
) -> None:
    h = synced(make_harness)
    tenant_file = tmp_path / "t1.yaml"
    tenant_file.write_text(
        f"name: t1\ncrm: {{kind: hubspot, base_url: '{h.base_url}', token_env: {TOKEN_ENV}}}\n"
        "delivery: {max_attempts: 3, base_delay_s: 0.05, max_delay_s: 0.2}\n"
    )
    db = ["--db", h.db.url, "--tenant-file", str(tenant_file)]
    runner = CliRunner()
    clean = runner.invoke(app, ["reconcile", *db, "--since", "1h"])
    assert clean.exit_code == 0, clean.output
    assert "clean: nothing lost, nothing doubled" in clean.stdout
    crm(h, "DELETE", f"/crm/v3/objects/contacts/{contact_of(h, 'priya.raman@gmail.com')}")
    lost = runner.invoke(app, ["reconcile", *db, "--json"])
    assert lost.exit_code == 1
    body = json.loads(lost.stdout)
    assert (body["lost"], body["doubled"], body["clean"]) == (1, 0, False)
    assert body["calls"] == {"received": 3, "confirmed": 3, "review": 0, "dead_letter": 0, "queued": 0, "closed": 0,
                             "delivered": 0}  # fmt: skip


def test_since_accepts_iso_moments_and_durations() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert parse_since("6h", now) == now - timedelta(hours=6)
    assert parse_since("90s", now) == now - timedelta(seconds=90)
    assert parse_since("2d", now) == now - timedelta(days=2)
    assert parse_since("2026-11-20T21:03:00Z") == datetime(2026, 11, 20, 21, 3, tzinfo=UTC)
    assert parse_since("2026-11-20") == datetime(2026, 11, 20, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_since("yesterday")


def test_a_unique_stamp_refuses_a_second_record_for_one_call(make_harness: Any) -> None:
    h = synced(make_harness)
    with pytest.raises(httpx.HTTPStatusError) as refused:
        crm(h, "POST", "/crm/v3/objects/contacts",
            {"properties": {"lastname": "Lee", "callsync_origin_call_id": "c-marcus"}})  # fmt: skip
    assert refused.value.response.status_code == 409
    assert run(h).clean
