"""`callsync demo --crm salesforce|zoho|gohighlevel|pipedrive|webhook`: the bundled calls into a CRM emulator
(or, for the webhook, into the sandbox's receiver, which verifies each signature and records each event).

The example mappings (examples/salesforce.yaml, examples/zoho.yaml) make new callers Leads and look callers
up among Leads and Contacts. As with HubSpot, the first create's answer is lost after the CRM committed it,
and a burst of throttling answers hits (Salesforce: 403 REQUEST_LIMIT_EXCEEDED; Zoho: 429), so the run
shows the origin-stamp upsert and the waits at work. Records are shown in HubSpot's shape so the demo's
table and duplicate count read them the same way.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from callsync.capture.platforms.generic import parse_generic_call
from callsync.capture.reader import read_calls
from callsync.config import EXAMPLES_DIR, CRMConnection, DeliverySettings, TenantConfig
from callsync.crm.registry import capabilities_for
from callsync.pipeline import engine
from callsync.pipeline.intake import receive_call
from callsync.pipeline.worker import Backlog, drain, running_worker
from callsync.store.db import Database
from callsync_sandbox.demo import (
    DEMO_CALLS,
    DEMO_TOKEN_ENV,
    SANDBOX_TOKEN,
    DemoResult,
    duplicate_count,
    prepare_demo,
)
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.server import SandboxServer

SF = "/services/data/v62.0"
FAULTS: dict[str, dict[str, Any]] = {
    "salesforce": {
        "seed": 7,
        "rules": [
            {
                "method": "PATCH",
                "path": f"{SF}/sobjects/Lead/callsync_origin_call_id__c/.*",
                "fault": "drop_response_after_commit",
                "times": 1,
            },
            {"path": f"{SF}/.*", "fault": "status", "status": 403, "skip": 10, "times": 2},
        ],
    },
    "gohighlevel": {
        "seed": 7,
        "rules": [
            {"method": "POST", "path": "/contacts/upsert", "fault": "drop_response_after_commit", "times": 1},
            {"path": "/.*", "fault": "status", "status": 429, "skip": 10, "times": 3},
        ],
    },
    "pipedrive": {
        "seed": 7,
        "rules": [
            {"method": "POST", "path": "/api/v2/persons", "fault": "drop_response_after_commit", "times": 1},
            {"path": "/api/v2/.*", "fault": "status", "status": 429, "skip": 10, "times": 3},
        ],
    },
    "webhook": {
        "seed": 7,
        "rules": [
            # The first event's 2xx is lost after the receiver took it; a few deliveries meet a failing
            # receiver: each is sent again under the same webhook-id.
            {"method": "POST", "path": "/hooks/calls", "fault": "drop_response_after_commit", "times": 1},
            {"path": "/hooks/.*", "fault": "status", "status": 500, "skip": 3, "times": 2},
        ],
    },
    "zoho": {
        "seed": 7,
        "rules": [
            {
                "method": "POST",
                "path": "/crm/v8/Leads/upsert",
                "fault": "drop_response_after_commit",
                "times": 1,
            },
            {"path": "/crm/v8/.*", "fault": "status", "status": 429, "skip": 10, "times": 3},
        ],
    },
}
# Mapping field -> the demo table's (HubSpot) property name.
COLUMNS: dict[str, dict[str, str]] = {
    "salesforce": {
        "Email": "email",
        "Phone": "phone",
        "FirstName": "firstname",
        "LastName": "lastname",
        "Company": "company",
        "callsync_origin_call_id__c": "callsync_origin_call_id",
        "callsync_last_call_id__c": "callsync_last_call_id",
    },
    "zoho": {
        "Email": "email",
        "Phone": "phone",
        "First_Name": "firstname",
        "Last_Name": "lastname",
        "Company": "company",
        "callsync_origin_call_id": "callsync_origin_call_id",
        "callsync_last_call_id": "callsync_last_call_id",
    },
}
COLUMNS["gohighlevel"] = {
    "email": "email",
    "phone": "phone",
    "firstName": "firstname",
    "lastName": "lastname",
    "companyName": "company",
    "callsync_origin_call_id": "callsync_origin_call_id",
    "callsync_last_call_id": "callsync_last_call_id",
}
COLUMNS["pipedrive"] = {
    "email": "email",
    "phone": "phone",
    "first_name": "firstname",
    "last_name": "lastname",
    "organization": "company",  # the linked organization's name (the emulator's inspection view)
    "callsync_origin_call_id": "callsync_origin_call_id",
    "callsync_last_call_id": "callsync_last_call_id",
}
COLUMNS["webhook"] = {
    "email": "email",
    "phone": "phone",
    "first_name": "firstname",
    "last_name": "lastname",
    "company": "company",
    "call_id": "callsync_origin_call_id",  # the call the event carries
}
WEBHOOK_SECRET_ENV = "CALLSYNC_DEMO_WEBHOOK_SECRET"
COMPANY_FIELD = {
    "hubspot": "company",
    "salesforce": "Company",
    "zoho": "Company",
    "gohighlevel": "companyName",
    "pipedrive": "name",  # a person's company is an organization (its name), linked by org_id
    "webhook": "company",
}
GHL_LOCATION = "demo-location"


def _sandbox(crm: str) -> Any:
    plan = FaultPlan.model_validate(FAULTS[crm])
    if crm == "salesforce":
        from callsync_sandbox.salesforce import SalesforceSandbox

        return SalesforceSandbox(token=SANDBOX_TOKEN, faults=plan)
    if crm == "gohighlevel":
        from callsync_sandbox.gohighlevel import GoHighLevelSandbox

        # A one-second burst window (the real one is ten): the demo's throttling waits stay short.
        return GoHighLevelSandbox(token=SANDBOX_TOKEN, locations=(GHL_LOCATION,), interval_s=1.0, faults=plan)
    if crm == "pipedrive":
        from callsync_sandbox.pipedrive import PipedriveSandbox

        return PipedriveSandbox(token=SANDBOX_TOKEN, faults=plan)
    if crm == "webhook":
        from callsync_sandbox.webhook import WebhookReceiver

        return WebhookReceiver(faults=plan)
    from callsync_sandbox.zoho import ZohoSandbox

    return ZohoSandbox(token=SANDBOX_TOKEN, faults=plan)


def _connection(crm: str, base_url: str) -> CRMConnection:
    if crm == "webhook":
        from callsync_sandbox.webhook import SANDBOX_SECRET

        os.environ.setdefault(WEBHOOK_SECRET_ENV, SANDBOX_SECRET)
        return CRMConnection(
            kind="webhook", url=f"{base_url}/hooks/calls", token_env=WEBHOOK_SECRET_ENV, timeout_s=2.0
        )
    if crm == "gohighlevel":
        return CRMConnection(
            kind="gohighlevel",
            api_url=base_url,
            location_id=GHL_LOCATION,
            token_env=DEMO_TOKEN_ENV,
            timeout_s=2.0,
        )
    common: dict[str, Any] = {"token_env": DEMO_TOKEN_ENV, "timeout_s": 2.0, "limit_retry_s": 1.0}
    if crm == "salesforce":
        return CRMConnection(kind="salesforce", instance_url=base_url, **common)
    if crm == "pipedrive":
        # The company's daily API tokens, counted from each request's x-token-cost by every worker.
        return CRMConnection(kind="pipedrive", api_domain=base_url, daily_tokens=30_000, **common)
    # The tenant's own count of Zoho's daily credits (shared by every worker through the database).
    return CRMConnection(kind="zoho", api_domain=base_url, daily_credits=5_000, credit_reserve=50, **common)


def people(crm: str, sandbox: Any) -> list[dict[str, Any]]:
    """Leads and Contacts, in the shape the demo renders (HubSpot's `{"id", "properties"}`)."""
    objects = {
        "salesforce": ("Lead", "Contact"),
        "gohighlevel": ("contacts",),
        "pipedrive": ("persons",),
        "webhook": ("events",),
    }.get(crm, ("Leads", "Contacts"))
    out = []
    for obj in objects:
        for row in sandbox.records(obj):
            props = {name: row.get(field) for field, name in COLUMNS[crm].items()}
            out.append({"id": str(row.get("Id") or row.get("id")), "object": obj, "properties": props})
    return out


def run_lead_crm_demo(
    db: Database, crm: str, on_progress: Callable[[Backlog], None] | None = None
) -> DemoResult:
    if crm not in FAULTS:
        raise ValueError(f"no demo for {crm!r}; choose one of: {', '.join(COMPANY_FIELD)}")
    prepare_demo(db)
    sandbox = _sandbox(crm)
    with SandboxServer(sandbox.app()) as server:
        tenant = TenantConfig(
            name="demo",
            crm=_connection(crm, server.base_url),
            mapping=str(EXAMPLES_DIR / f"{crm}.yaml"),
            delivery=DeliverySettings(max_attempts=5, base_delay_s=0.2, max_delay_s=2.0),
        )
        for raw in read_calls(DEMO_CALLS):
            call = parse_generic_call(raw.payload, tenant=tenant.name, source=raw.source, line=raw.line)
            receive_call(db, call, raw.text, f"{raw.source}:{raw.line}")
        with running_worker(engine.Runtime(db, {tenant.name: tenant})):
            state = drain(db, timeout_s=120, on_progress=on_progress)
        landed = people(crm, sandbox)
        statuses = Counter(status for _, _, status in sandbox.request_log)
    # Where nothing is kept to match callers (a webhook: one event per call), a duplicate is one call twice.
    keys = (
        ("email", "phone", "callsync_origin_call_id")
        if capabilities_for(crm).search
        else ("callsync_origin_call_id",)
    )
    return DemoResult(landed, duplicate_count(landed, keys), state, sum(statuses.values()), dict(statuses))
