"""The dashboard's pages over a real sync (HubSpot sandbox): review decisions through services.review, calls,
the record trace, dead letters and quarantine; tenant scoping; bad input is a 4xx, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from callsync.store.tables import DeadLetterRow, LedgerRow, ReviewItemRow
from tests.pipeline.test_engine import DANA, call_payload
from tests.reconcile.test_review import protected_company_item
from tests.web.helpers import add_user, signed_in, token


@pytest.fixture
def h(make_harness: Any) -> Any:
    harness = make_harness()
    protected_company_item(harness)
    add_user(harness.db, "rita", "reviewer", ["t1"])
    add_user(harness.db, "vic", "viewer", ["t1"])
    add_user(harness.db, "bea", "reviewer", ["t2"])
    return harness


def _item(h: Any) -> ReviewItemRow:
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "protected_field"]
    return item


def test_reviewer_approves_and_the_value_lands_human_verified(h: Any) -> None:
    item = _item(h)
    c = signed_in(h.db, "rita", {"t1": h.tenant})
    listed = c.get("/review")
    assert listed.status_code == 200 and f'href="/review/{item.id}"' in listed.text
    page = c.get(f"/review/{item.id}")
    assert "Contoso" in page.text and "Approve" in page.text
    answer = c.post(f"/review/{item.id}/approve", data={"csrf": token(c)})
    assert answer.status_code == 303, answer.text
    (contact,) = h.contacts()
    assert contact["properties"]["company"] == "Contoso"
    (row,) = [r for r in h.rows(LedgerRow) if r.policy == "reviewer"]
    assert row.reviewer == "rita"
    again = c.post(f"/review/{item.id}/approve", data={"csrf": token(c)})
    assert again.status_code == 409 and "already" in again.text


def test_viewer_sees_but_cannot_decide(h: Any) -> None:
    item = _item(h)
    c = signed_in(h.db, "vic", {"t1": h.tenant})
    page = c.get(f"/review/{item.id}")
    assert page.status_code == 200 and "Approve" not in page.text
    answer = c.post(f"/review/{item.id}/approve", data={"csrf": token(c)})
    assert answer.status_code == 403
    assert _item(h).status == "open" and h.contacts()[0]["properties"]["company"] != "Contoso"


def test_another_tenants_user_sees_nothing_and_changes_nothing(h: Any) -> None:
    item = _item(h)
    c = signed_in(h.db, "bea", {"t1": h.tenant})
    assert f"/review/{item.id}" not in c.get("/review").text
    assert c.get(f"/review/{item.id}").status_code == 404
    assert c.post(f"/review/{item.id}/approve", data={"csrf": token(c)}).status_code == 404
    assert c.post(f"/review/{item.id}/reject", data={"csrf": token(c)}).status_code == 404
    assert c.get("/calls/t1/c-1").status_code == 404
    assert 'href="/calls/t1/c-1"' not in c.get("/calls?q=c-1").text
    record = h.contacts()[0]["id"]
    assert c.get(f"/records/hubspot/{record}").status_code == 404
    assert _item(h).status == "open"


def test_reject_with_a_note(h: Any) -> None:
    item = _item(h)
    c = signed_in(h.db, "rita", {"t1": h.tenant})
    answer = c.post(f"/review/{item.id}/reject", data={"csrf": token(c), "note": "<b>not</b> this one"})
    assert answer.status_code == 303
    assert _item(h).status == "rejected"
    page = c.get(f"/review/{item.id}")
    assert "<b>not</b>" not in page.text and "&lt;b&gt;not&lt;/b&gt;" in page.text


def test_a_correction_that_fails_or_is_too_long_is_a_form_error(h: Any) -> None:
    item = _item(h)
    c = signed_in(h.db, "rita", {"t1": h.tenant})
    for value in ("", "x" * 3000):
        answer = c.post(f"/review/{item.id}/correct", data={"csrf": token(c), "value": value})
        assert answer.status_code == 400 and 'class="error"' in answer.text
    assert _item(h).status == "open"
    assert not [r for r in h.rows(LedgerRow) if r.policy == "reviewer"]


def test_a_decision_for_a_tenant_not_configured_here_is_a_form_error(h: Any) -> None:
    item = _item(h)
    c = signed_in(h.db, "rita", {})
    answer = c.post(f"/review/{item.id}/approve", data={"csrf": token(c)})
    assert answer.status_code == 400 and "tenant" in answer.text
    assert _item(h).status == "open"


def test_call_page_shows_transcript_values_at_their_evidence_and_writes(h: Any) -> None:
    c = signed_in(h.db, "vic")
    page = c.get("/calls/t1/c-1")
    assert page.status_code == 200
    assert '<mark class="ev ev-accepted"' in page.text and "<sup>email</sup>" in page.text
    assert "dana.whitfield@northwind.com" in page.text and "Writes (ledger)" in page.text


@pytest.mark.parametrize(
    "query", ["c-1", "dana.whitfield@northwind.com", "DANA.WHITFIELD@northwind.com", "record"]
)
def test_search_by_call_email_and_record(h: Any, query: str) -> None:
    c = signed_in(h.db, "vic")
    if query == "record":
        query = h.contacts()[0]["id"]
    found = c.get("/calls", params={"q": query})
    assert found.status_code == 200 and 'href="/calls/t1/c-1"' in found.text, query


def test_search_by_phone_in_any_format(h: Any) -> None:
    payload = call_payload("c-9", DANA)
    number = payload["from"]
    h.ingest({**payload, "call_id": "c-9"})
    c = signed_in(h.db, "vic")
    digits = number[-10:]
    spaced = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    found = c.get("/calls", params={"q": spaced})
    assert 'href="/calls/t1/c-9"' in found.text


@pytest.mark.parametrize("query", ["<script>alert(1)</script>", "x" * 500, "' OR 1=1 --"])
def test_bad_search_is_a_form_error(h: Any, query: str) -> None:
    c = signed_in(h.db, "vic")
    found = c.get("/calls", params={"q": query})
    assert found.status_code == 400 and 'class="error"' in found.text
    assert "<script>alert" not in found.text


def test_record_trace_shows_each_field_back_to_the_sentence(h: Any) -> None:
    c = signed_in(h.db, "vic")
    record = h.contacts()[0]["id"]
    page = c.get(f"/records/hubspot/{record}")
    assert page.status_code == 200
    assert 'id="field-email"' in page.text and "<mark>" in page.text and "from call" in page.text
    assert c.get("/records/hubspot/does-not-exist").status_code == 404


def test_dead_letter_replay_is_queued(make_harness: Any) -> None:
    down = {"path": "/crm/v3/objects/contacts.*", "fault": "status", "status": 503, "times": None}
    h = make_harness({"rules": [down]})
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    dead = h.rows(DeadLetterRow)
    assert len(dead) == 1
    add_user(h.db, "rita", "reviewer", ["t1"])
    c = signed_in(h.db, "rita", {"t1": h.tenant})
    assert f'href="/dead-letters/{dead[0].id}"' in c.get("/dead-letters").text
    page = c.get(f"/dead-letters/{dead[0].id}")
    assert page.status_code == 200 and "Replay" in page.text
    answer = c.post(f"/dead-letters/{dead[0].id}/replay", data={"csrf": token(c)})
    assert answer.status_code == 303
    (after,) = h.rows(DeadLetterRow)
    assert after.status == "replaying"


def test_quarantine_page_and_missing_ids(h: Any) -> None:
    from callsync.store.calls import quarantine

    qid = quarantine(h.db, "webhook:generic", "no tenant for <this>", json.dumps({"x": "<script>"}))
    add_user(h.db, "root", "admin", [])
    c = signed_in(h.db, "root")
    assert f'href="/quarantine/{qid}"' in c.get("/quarantine").text
    page = c.get(f"/quarantine/{qid}")
    assert page.status_code == 200 and "&lt;script&gt;" in page.text and "<script>" not in page.text.split("app.js")[1]
    vic = signed_in(h.db, "vic")
    assert vic.get(f"/quarantine/{qid}").status_code == 404  # unrouted payloads: all-tenant users only
    for path in ("/review/99999", "/dead-letters/99999", "/quarantine/99999", "/review/abc", "/review?status=nope"):
        assert c.get(path).status_code in (400, 404), path


def test_a_correction_that_fails_the_fields_type_is_refused_before_anything_is_written(h: Any) -> None:
    from callsync.services.calls import check_correction
    from callsync.services.errors import ServiceError

    tenants = {"t1": h.tenant}
    with pytest.raises(ServiceError, match="not a valid email"):
        check_correction(tenants, "t1", "contacts", "email", "dana at nowhere")
    with pytest.raises(ServiceError, match="not a valid phone"):
        check_correction(tenants, "t1", "contacts", "phone", "call me maybe")
    assert check_correction(tenants, "t1", "contacts", "email", " Dana@Example.COM ") == "dana@example.com"
    assert check_correction(tenants, "t1", "contacts", "company", "Contoso Ltd") == "Contoso Ltd"


def test_a_record_id_shared_by_two_tenants_shows_each_only_its_own_writes(h: Any) -> None:
    record = h.contacts()[0]["id"]
    with h.db.session() as s:
        s.add(LedgerRow(tenant="t2", crm="hubspot", object_type="contacts", record_id=record, field="email",
                        new_value="leak@other-tenant.example", policy="fill_if_empty", decision="new record",
                        call_id="t2-call", evidence=[], integration_version="x"))  # fmt: skip
    mine = signed_in(h.db, "vic").get(f"/records/hubspot/{record}")
    assert mine.status_code == 200 and "leak@other-tenant.example" not in mine.text and "northwind" in mine.text
    theirs = signed_in(h.db, "bea").get(f"/records/hubspot/{record}")
    assert theirs.status_code == 200 and "leak@other-tenant.example" in theirs.text
    assert "northwind" not in theirs.text.lower()


def test_inside_serve_with_workers_a_decision_is_run_by_those_workers(h: Any) -> None:
    """`callsync serve` runs the delivery workers in its own process: the dashboard enqueues the decision
    for them (one engine per process) instead of starting its own."""
    from callsync.pipeline import engine
    from callsync.pipeline.worker import running_worker
    from tests.web.helpers import client, sign_in

    item = _item(h)
    c = client(h.db, {"t1": h.tenant}, decisions_here=False)
    assert sign_in(c, "rita").status_code == 303
    with running_worker(engine.Runtime(h.db, {"t1": h.tenant}), poll_s=0.05):
        answer = c.post(f"/review/{item.id}/approve", data={"csrf": token(c)})
    assert answer.status_code == 303, answer.text
    assert h.contacts()[0]["properties"]["company"] == "Contoso"
    assert _item(h).status == "approved"
