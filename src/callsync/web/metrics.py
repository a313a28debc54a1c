"""`/metrics` in the Prometheus text format (prometheus-client).

Everything about calls, review, dead letters, quarantine, backlog and latency is read from the database at
scrape time (services/analytics.py: grouped counts, a handful of queries), so any process answers the same
and nothing is lost when one restarts. CRM requests by status are counted where they happen
(analytics/metrics.py); with PROMETHEUS_MULTIPROC_DIR set they are summed over every process of the host.
A bearer token guards the endpoint when one is configured (`callsync serve --metrics-token`)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from callsync.analytics import metrics as counters
from callsync.config import TenantConfig
from callsync.services import analytics as analytics_service
from callsync.store.db import Database

LATENCY_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)


class DatabaseCollector(Collector):
    def __init__(self, db: Database, tenants: dict[str, TenantConfig]) -> None:
        self.db, self.tenants = db, tenants

    def _crm(self, tenant: str) -> str:
        config = self.tenants.get(tenant)
        return config.crm.kind if config is not None else "unknown"

    def collect(self) -> Iterator[Metric]:
        snap = analytics_service.metrics_snapshot(self.db)
        received = CounterMetricFamily(
            "callsync_calls_received", "Calls received (stored), by tenant, platform and CRM.",
            labels=["tenant", "platform", "crm"],
        )  # fmt: skip
        by_state = GaugeMetricFamily(
            "callsync_calls", "Calls by sync state now (queued, confirmed, review, dead_letter, closed).",
            labels=["tenant", "platform", "crm", "state"],
        )  # fmt: skip
        confirmed = CounterMetricFamily(
            "callsync_calls_confirmed", "Calls whose writes the CRM confirmed.", labels=["tenant", "platform", "crm"]
        )
        totals: dict[tuple[str, str], int] = {}
        for tenant, platform, state, n in snap.calls:
            crm = self._crm(tenant)
            totals[(tenant, platform)] = totals.get((tenant, platform), 0) + n
            by_state.add_metric([tenant, platform, crm, state], n)
            if state == "confirmed":
                confirmed.add_metric([tenant, platform, crm], n)
        for (tenant, platform), n in totals.items():
            received.add_metric([tenant, platform, self._crm(tenant)], n)
        dead = CounterMetricFamily(
            "callsync_dead_letters", "Dead letters ever written, by tenant, CRM and state now.",
            labels=["tenant", "crm", "status"],
        )  # fmt: skip
        for tenant, crm, status, n in snap.dead_letters:
            dead.add_metric([tenant, crm, status], n)
        quarantined = CounterMetricFamily(
            "callsync_quarantined", "Payloads quarantined, by platform and state now.", labels=["platform", "status"]
        )
        for platform, status, n in snap.quarantined:
            quarantined.add_metric([platform, status], n)
        review = GaugeMetricFamily(
            "callsync_review_queue_depth", "Open review items, by tenant and kind.", labels=["tenant", "kind"]
        )
        for tenant, kind, n in snap.review_open:
            review.add_metric([tenant, kind], n)
        yield from (received, by_state, confirmed, dead, quarantined, review)
        yield GaugeMetricFamily("callsync_backlog_calls", "Calls queued for their sync.", value=snap.backlog)
        yield GaugeMetricFamily(
            "callsync_backlog_oldest_seconds", "Age of the oldest call waiting for its sync.",
            value=snap.oldest_queued_s,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "callsync_rate_limit_waiting_calls", "Syncs asleep after a CRM rate limit (429 or equivalent).",
            value=snap.waiting_rate_limit,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "callsync_retry_waiting_calls", "Syncs asleep after a failed attempt (CRM down or failing).",
            value=snap.waiting_retry,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "callsync_crm_budget_blocked_accounts", "CRM accounts whose new writes wait for their API allowance.",
            value=snap.budget_blocked,
        )  # fmt: skip
        buckets, total = [], 0.0
        for bound in LATENCY_BUCKETS:
            buckets.append((str(float(bound)), float(sum(1 for v in snap.recent_latencies_s if v <= bound))))
        buckets.append(("+Inf", float(len(snap.recent_latencies_s))))
        total = sum(snap.recent_latencies_s)
        yield GaugeHistogramMetricFamily(
            "callsync_sync_latency_seconds",
            "Call end → CRM confirmed, for the calls confirmed in the last hour (a moving window).",
            buckets=buckets, gsum_value=total,
        )  # fmt: skip


def registry_for(db: Database, tenants: dict[str, TenantConfig]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(db, tenants))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for metric in (
            counters.CRM_REQUESTS, counters.CIRCUIT_OPEN, counters.CIRCUIT_REFUSED, counters.RATE_LIMIT_WAIT,
        ):  # fmt: skip
            registry.register(metric)
    return registry


def add_metrics(app: FastAPI, db: Database, tenants: dict[str, TenantConfig], token: str | None) -> None:
    """`GET /metrics` on `app` (outside the dashboard's sign-in; a bearer token when `token` is set)."""
    registry = registry_for(db, tenants)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return PlainTextResponse(
                    "missing or wrong bearer token\n", status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
