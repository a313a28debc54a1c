"""The dashboard and /metrics on the ingest app of `callsync serve`: one server, one port. The webhook
endpoints (/v1/webhooks/...) and /healthz keep their own rules (signatures, no sign-in); /metrics has its
bearer token; everything else is the dashboard behind its sign-in."""

from __future__ import annotations

from fastapi import FastAPI

from callsync.config import TenantConfig
from callsync.store.db import Database
from callsync.web.app import create_dashboard
from callsync.web.metrics import add_metrics


def mount(
    ingest: FastAPI,
    db: Database,
    tenants: dict[str, TenantConfig],
    *,
    metrics_token: str | None = None,
    decisions_here: bool = True,
    dashboard: bool = True,
) -> FastAPI:
    add_metrics(ingest, db, tenants, metrics_token)
    if dashboard:
        ingest.mount("/", create_dashboard(db, tenants, decisions_here=decisions_here))
    return ingest
