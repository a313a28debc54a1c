"""`callsync demo`: the whole job in one process, against the HubSpot sandbox, with no credentials.

The bundled calls include a repeat caller, a create whose response is lost after HubSpot committed it,
a 429 burst, a call with no contact data and a platform value nobody said.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callsync.capture.platforms.generic import parse_generic_call
from callsync.capture.reader import read_calls
from callsync.config import CRMConnection, DeliverySettings, TenantConfig
from callsync.pipeline import engine
from callsync.pipeline.intake import receive_call
from callsync.pipeline.worker import Backlog, drain, running_worker
from callsync.store.db import Database
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer

DEMO_CALLS = Path(__file__).parent / "demo_data" / "calls.jsonl"
DEMO_TOKEN_ENV = "CALLSYNC_DEMO_HUBSPOT_TOKEN"
SANDBOX_TOKEN = "sandbox-token"

# The first contact create lands but its answer never arrives; then a burst of 429s hits every path.
DEMO_FAULTS = {
    "seed": 7,
    "rules": [
        {
            "method": "POST",
            "path": "/crm/v3/objects/contacts(/batch/create)?",
            "fault": "drop_response_after_commit",
            "times": 1,
        },
        {"path": "/crm/v3/objects/.*", "fault": "status", "status": 429, "skip": 8, "times": 3},
    ],
}


@dataclass(frozen=True)
class DemoResult:
    contacts: list[dict[str, Any]]
    duplicates: int
    backlog: Backlog
    requests: int
    status_counts: dict[int, int]


def duplicate_count(
    contacts: list[dict[str, Any]], keys: tuple[str, ...] = ("email", "phone", "callsync_origin_call_id")
) -> int:
    """Contacts beyond the first that share an email, a phone or an origin call with another (`keys`: a
    webhook's events are one per call, so only two events of one call are duplicates there)."""
    extra = 0
    for key in keys:
        values = Counter(str(c["properties"].get(key) or "").lower() for c in contacts)
        extra += sum(n - 1 for v, n in values.items() if v and n > 1)
    return extra


def demo_tenant(base_url: str) -> TenantConfig:
    return TenantConfig(
        name="demo",
        crm=CRMConnection(kind="hubspot", base_url=base_url, token_env=DEMO_TOKEN_ENV, timeout_s=2.0),
        delivery=DeliverySettings(max_attempts=5, base_delay_s=0.2, max_delay_s=2.0),
    )


@contextmanager
def sandbox_crm(faults: dict[str, Any] | None = None) -> Iterator[tuple[HubSpotSandbox, str]]:
    # A short rate window keeps the demo quick while still showing the limiter and 429 handling.
    sandbox = HubSpotSandbox(
        token=SANDBOX_TOKEN,
        ten_second_max=40,
        interval_ms=2_000,
        faults=FaultPlan.model_validate(faults) if faults else None,
    )
    with SandboxServer(sandbox.app()) as server:
        yield sandbox, server.base_url


def prepare_demo(db: Database) -> None:
    """What every demo needs first: the schema, and the token the demo tenant reads from the environment."""
    db.migrate()
    os.environ.setdefault(DEMO_TOKEN_ENV, SANDBOX_TOKEN)


def run_demo(db: Database, on_progress: Callable[[Backlog], None] | None = None) -> DemoResult:
    """The HubSpot demo (`callsync demo`); demo_crms.run_lead_crm_demo runs the Salesforce and Zoho ones."""
    prepare_demo(db)
    with sandbox_crm(DEMO_FAULTS) as (sandbox, base_url):
        tenant = demo_tenant(base_url)
        for raw in read_calls(DEMO_CALLS):
            call = parse_generic_call(raw.payload, tenant=tenant.name, source=raw.source, line=raw.line)
            receive_call(db, call, raw.text, f"{raw.source}:{raw.line}")
        with running_worker(engine.Runtime(db, {tenant.name: tenant})):
            state = drain(db, timeout_s=120, on_progress=on_progress)
        contacts = sandbox.records("contacts")
        statuses = Counter(status for _, _, status in sandbox.request_log)
    return DemoResult(contacts, duplicate_count(contacts), state, sum(statuses.values()), dict(statuses))
