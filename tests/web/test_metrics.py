"""/metrics (Prometheus text format) and the dashboard mounted on the ingest app of `callsync serve`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from callsync.analytics import metrics as counters
from callsync.cli.serve import demo_tenant
from callsync.route.app import create_app
from callsync.store.db import Database
from callsync.store.tables import CallRow, ReviewItemRow
from callsync.web.mount import mount


def _server(db: Database, token: str | None = None) -> TestClient:
    tenants = {"demo": demo_tenant()}
    app = mount(create_app(db, tenants), db, tenants, metrics_token=token)
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _seed(db: Database) -> None:
    now = datetime.now(UTC)
    with db.session() as s:
        for i, state in enumerate(["confirmed", "confirmed", "queued", "review"]):
            s.add(CallRow(tenant="demo", call_id=f"c{i}", platform="vapi", direction="inbound", raw_payload="{}",
                          sync_state=state, workflow_id=f"w{i}", ended_at=now - timedelta(seconds=40),
                          received_at=now - timedelta(seconds=39),
                          synced_at=now - timedelta(seconds=37 - i) if state == "confirmed" else None))  # fmt: skip
        s.add(ReviewItemRow(dedupe_key="k", tenant="demo", call_id="c3", kind="protected_field", reason="r",
                            detail={}))  # fmt: skip


def test_metrics_report_the_database_and_crm_requests(sqlite_db: Database) -> None:
    _seed(sqlite_db)
    counters.crm_request("HubSpot", 429)
    answer = _server(sqlite_db).get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    got = _samples(answer.text)
    labels = (("crm", "hubspot"), ("platform", "vapi"), ("tenant", "demo"))
    assert got[("callsync_calls_received_total", labels)] == 4
    assert got[("callsync_calls_confirmed_total", labels)] == 2
    assert got[("callsync_review_queue_depth", (("kind", "protected_field"), ("tenant", "demo")))] == 1
    assert got[("callsync_backlog_calls", ())] == 1
    assert got[("callsync_sync_latency_seconds_bucket", (("le", "2.0"),))] == 0
    assert got[("callsync_sync_latency_seconds_bucket", (("le", "5.0"),))] == 2
    assert got[("callsync_crm_requests_total", (("crm", "HubSpot"), ("status", "429")))] >= 1


def test_metrics_need_the_bearer_token_when_one_is_set(sqlite_db: Database) -> None:
    c = _server(sqlite_db, token="s3cret-token")
    assert c.get("/metrics").status_code == 401
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_webhooks_keep_their_signature_checks_and_the_dashboard_its_sign_in(sqlite_db: Database) -> None:
    c = _server(sqlite_db)
    assert c.get("/healthz").json()["status"] == "ok"
    hook = c.post("/v1/webhooks/generic", content=b"{}", headers={"content-type": "application/json"})
    assert hook.status_code == 401 and hook.json()["error"] == "invalid_signature"
    assert c.get("/").status_code == 303 and c.get("/review").headers["location"].startswith("/login")
    assert c.get("/login").status_code == 200
    assert c.get("/static/style.css").status_code == 200


async def test_the_circuit_breaker_state_and_its_refusals_reach_metrics(sqlite_db: Database) -> None:
    """A CRM that does not answer opens the breaker; /metrics shows it open and counts what it held back."""
    import pytest

    from callsync.crm.errors import TransientError
    from callsync.crm.http.breaker import CircuitBreaker
    from callsync.crm.hubspot.adapter import HubSpotAdapter

    adapter = HubSpotAdapter("t", "http://127.0.0.1:9")  # nothing listens on the discard port
    adapter.http.breaker = CircuitBreaker(threshold=2, cooldown_s=60)
    for _ in range(3):
        with pytest.raises(TransientError):
            await adapter.http.request("POST", "/crm/v3/objects/contacts", json={})
    await adapter.aclose()
    got = _samples(_server(sqlite_db).get("/metrics").text)
    assert got[("callsync_crm_circuit_open", (("crm", "HubSpot"),))] == 1
    assert got[("callsync_crm_circuit_refused_total", (("crm", "HubSpot"),))] >= 1
