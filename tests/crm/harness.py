"""The end-to-end harness of tests/pipeline/test_engine.py, for every target callsync writes to.

A `Kit` knows one CRM's emulator (or the webhook receiver) and wire details (paths to break, how a rep
edits a record, how to read what landed); `Harness` runs the real engine (DBOS worker, SQLite or
PostgreSQL) against it over HTTP. `KITS` has the lead-model CRMs the older tests run over (Salesforce,
Zoho); `TARGETS` has all six, for the tests every target must pass.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from dbos import DBOS
from sqlalchemy import select

from callsync.capture.platforms.generic import parse_generic_call
from callsync.cli.status import status_counts
from callsync.config import EXAMPLES_DIR, CRMConnection, DeliverySettings, TenantConfig
from callsync.crm.registry import capabilities_for
from callsync.pipeline import engine
from callsync.pipeline.intake import receive_call
from callsync.pipeline.queue import workflow_id_for
from callsync.pipeline.worker import Backlog, backlog, drain, running_worker
from callsync.store.db import Database
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.gohighlevel import GoHighLevelSandbox
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.pipedrive import PipedriveSandbox
from callsync_sandbox.salesforce import SalesforceSandbox
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.webhook import SANDBOX_SECRET, WebhookReceiver
from callsync_sandbox.zoho import ZohoSandbox

TOKEN = "sandbox-token"
SF_VERSION = "62.0"
SF = f"/services/data/v{SF_VERSION}"


@dataclass(frozen=True)
class Kit:
    kind: str
    person: str  # the object new callers become (examples/<kind>.yaml)
    other_person: str
    stamp: str
    last_call: str
    # canonical -> field name in the example mapping
    names: dict[str, str]
    create_path: str  # regex of the create request (its method is create_method)
    create_method: str
    write_paths: str  # regex matching every record read/write, for outages and bursts
    burst_status: int  # the throttling answer a fault plan injects

    @property
    def read_back(self) -> bool:
        """Whether the target confirms writes by reading them back (else a 2xx is only `delivered`)."""
        return capabilities_for(self.kind).read_back

    def sandbox(self, faults: dict[str, Any] | None = None, **kw: Any) -> Any:
        plan = FaultPlan.model_validate(faults) if faults else None
        if self.kind == "salesforce":
            return SalesforceSandbox(token=TOKEN, faults=plan, **kw)
        if self.kind == "hubspot":
            return HubSpotSandbox(token=TOKEN, faults=plan, **kw)
        if self.kind == "pipedrive":
            return PipedriveSandbox(token=TOKEN, faults=plan, **kw)
        if self.kind == "gohighlevel":
            return GoHighLevelSandbox(token=TOKEN, faults=plan, **kw)
        if self.kind == "webhook":
            return WebhookReceiver(faults=plan, **kw)
        return ZohoSandbox(token=TOKEN, faults=plan, **kw)

    def connection(self, base_url: str, **kw: Any) -> CRMConnection:
        env = f"CALLSYNC_TEST_{self.kind.upper()}_TOKEN"
        os.environ[env] = SANDBOX_SECRET if self.kind == "webhook" else TOKEN
        common: dict[str, Any] = {"token_env": env, "timeout_s": 2.0, **kw}
        if self.kind == "webhook":
            return CRMConnection(kind="webhook", url=f"{base_url}/hooks/calls", **common)
        if self.kind == "hubspot":
            return CRMConnection(kind="hubspot", base_url=base_url, **common)
        if self.kind == "gohighlevel":
            return CRMConnection(kind="gohighlevel", api_url=base_url, location_id="location-1", **common)
        common.setdefault("limit_retry_s", 0.3)
        if self.kind == "pipedrive":
            return CRMConnection(kind="pipedrive", api_domain=base_url, **common)
        if self.kind == "salesforce":
            return CRMConnection(kind="salesforce", instance_url=base_url, api_version=SF_VERSION, **common)
        return CRMConnection(kind="zoho", api_domain=base_url, **common)

    def records(self, sandbox: Any, obj: str | None = None) -> list[dict[str, Any]]:
        """What landed, keyed by the example mapping's names plus id, stamp and last call; a Contact's
        company is its Account's name. A webhook receiver's "records" are its accepted events, one per
        `webhook-id`, stamped with the call they carry."""
        if self.kind in ("hubspot", "pipedrive", "gohighlevel", "webhook"):
            return [self.flat_view(r) for r in sandbox.records(obj or self.person)]
        accounts = {
            str(a.get("Id") or a.get("id")): a
            for a in sandbox.records("Account" if self.kind == "salesforce" else "Accounts")
        }
        return [self.view(r, accounts) for r in sandbox.records(obj or self.person)]

    def view(self, row: dict[str, Any], accounts: dict[str, dict[str, Any]]) -> dict[str, Any]:
        out = {c: row.get(f) for c, f in self.names.items()}
        account = row.get("Account_Name")
        if isinstance(account, dict):
            out["company"] = account.get("name")
        if row.get("AccountId"):
            out["company"] = accounts[str(row["AccountId"])].get("Name")
        if self.kind == "salesforce" and "Title" in row:
            out["title"] = row.get("Title")
        out.update(
            id=str(row.get("Id") or row.get("id")),
            stamp=row.get(self.stamp),
            last_call=row.get(self.last_call),
        )
        return out

    def flat_view(self, row: dict[str, Any]) -> dict[str, Any]:
        flat = {**row, **(row.get("properties") or {})}
        out = {c: flat.get(f) for c, f in self.names.items()}
        if self.kind == "pipedrive":
            out["company"] = flat.get("organization")
        stamp = flat.get("call_id") if self.kind == "webhook" else flat.get(self.stamp)
        last = flat.get("call_id") if self.kind == "webhook" else flat.get(self.last_call)
        out.update(id=str(flat.get("id")), stamp=stamp, last_call=last)
        return out

    def edit(self, base_url: str, record_id: str, fields: dict[str, Any], obj: str | None = None) -> None:
        """A rep edits a record through the API, as a person in the CRM would."""
        obj = obj or self.person
        if self.kind == "salesforce":
            response = httpx.patch(
                f"{base_url}{SF}/sobjects/{obj}/{record_id}",
                json=fields,
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        else:
            response = httpx.put(
                f"{base_url}/crm/v8/{obj}/{record_id}",
                json={"data": [fields]},
                headers={"Authorization": f"Zoho-oauthtoken {TOKEN}"},
            )
        response.raise_for_status()


SALESFORCE = Kit(
    kind="salesforce",
    person="Lead",
    other_person="Contact",
    stamp="callsync_origin_call_id__c",
    last_call="callsync_last_call_id__c",
    names={"email": "Email", "phone": "Phone", "first": "FirstName", "last": "LastName", "company": "Company",
           "title": "Title"},
    create_path=f"{SF}/sobjects/Lead/callsync_origin_call_id__c/.*",
    create_method="PATCH",
    write_paths=f"{SF}/(query|sobjects/.*)",
    burst_status=403,
)  # fmt: skip
ZOHO = Kit(
    kind="zoho",
    person="Leads",
    other_person="Contacts",
    stamp="callsync_origin_call_id",
    last_call="callsync_last_call_id",
    names={"email": "Email", "phone": "Phone", "first": "First_Name", "last": "Last_Name", "company": "Company",
           "title": "Designation"},
    create_path="/crm/v8/Leads/upsert",
    create_method="POST",
    write_paths="/crm/v8/(Leads|Contacts|Accounts).*",
    burst_status=429,
)  # fmt: skip
KITS = {"salesforce": SALESFORCE, "zoho": ZOHO}
HUBSPOT = Kit(
    kind="hubspot",
    person="contacts",
    other_person="contacts",
    stamp="callsync_origin_call_id",
    last_call="callsync_last_call_id",
    names={"email": "email", "phone": "phone", "first": "firstname", "last": "lastname", "company": "company",
           "title": "jobtitle"},
    create_path="/crm/v3/objects/contacts(/batch/create)?",
    create_method="POST",
    write_paths="/crm/v3/objects/.*",
    burst_status=429,
)  # fmt: skip
PIPEDRIVE = Kit(
    kind="pipedrive",
    person="persons",
    other_person="persons",
    stamp="callsync_origin_call_id",
    last_call="callsync_last_call_id",
    names={"email": "email", "phone": "phone", "first": "first_name", "last": "last_name", "company": "organization",
           "title": "job_title"},
    create_path="/api/v2/persons",
    create_method="POST",
    write_paths="/api/v2/.*",
    burst_status=429,
)  # fmt: skip
GOHIGHLEVEL = Kit(
    kind="gohighlevel",
    person="contacts",
    other_person="contacts",
    stamp="callsync_origin_call_id",
    last_call="callsync_last_call_id",
    names={"email": "email", "phone": "phone", "first": "firstName", "last": "lastName", "company": "companyName",
           "title": "title"},
    create_path="/contacts/upsert",
    create_method="POST",
    write_paths="/(contacts|opportunities)/.*",
    burst_status=429,
)  # fmt: skip
WEBHOOK = Kit(
    kind="webhook",
    person="events",
    other_person="events",
    stamp="call_id",
    last_call="call_id",
    names={"email": "email", "phone": "phone", "first": "first_name", "last": "last_name", "company": "company",
           "title": "job_title"},
    create_path="/hooks/calls",
    create_method="POST",
    write_paths="/hooks/.*",
    burst_status=429,
)  # fmt: skip
# Every target callsync writes to, for the tests each must pass (tests/pipeline/test_engine_crms.py).
TARGETS = {kit.kind: kit for kit in (HUBSPOT, SALESFORCE, ZOHO, PIPEDRIVE, GOHIGHLEVEL, WEBHOOK)}


@dataclass
class Harness:
    kit: Kit
    db: Database
    sandbox: Any
    tenant: TenantConfig
    base_url: str

    def ingest(self, *payloads: dict[str, Any]) -> None:
        for p in payloads:
            call = parse_generic_call(p, tenant=self.tenant.name)
            receive_call(self.db, call, json.dumps(p))

    def runtime(self) -> engine.Runtime:
        return engine.Runtime(self.db, {self.tenant.name: self.tenant})

    def sync(self, timeout_s: float = 60) -> Backlog:
        with running_worker(self.runtime(), poll_s=0.05):
            return drain(self.db, timeout_s=timeout_s)

    def sync_watching(
        self, watch: Callable[[dict[str, int]], None], timeout_s: float = 60, concurrency: int = 8
    ) -> Backlog:
        """Sync while reading `callsync status` every few milliseconds, as an operator would."""
        with running_worker(self.runtime(), poll_s=0.05, concurrency=concurrency):
            deadline = time.monotonic() + timeout_s
            while True:
                watch(status_counts(self.db))
                state = backlog(self.db)
                if state.queued == 0 or time.monotonic() > deadline:
                    return state
                time.sleep(0.05)

    def rerun(self, call_id: str) -> str:
        with running_worker(self.runtime(), poll_s=0.05):
            handle = DBOS.fork_workflow(workflow_id_for(self.tenant.name, call_id), 1)
            return str(handle.get_result())

    def people(self, obj: str | None = None) -> list[dict[str, Any]]:
        return self.kit.records(self.sandbox, obj)

    def edit(self, record_id: str, fields: dict[str, Any], obj: str | None = None) -> None:
        self.kit.edit(self.base_url, record_id, fields, obj)

    def rows(self, model: Any) -> list[Any]:
        with self.db.session() as s:
            return list(s.scalars(select(model)).all())


class HarnessFactory:
    def __init__(self, db: Database) -> None:
        self.default_db = db
        self.servers: list[SandboxServer] = []

    def __call__(
        self,
        kit: Kit,
        faults: dict[str, Any] | None = None,
        *,
        db: Database | None = None,
        mapping: str | None = None,
        connection: dict[str, Any] | None = None,
        delivery: dict[str, Any] | None = None,
        **sandbox_kw: Any,
    ) -> Harness:
        sandbox = kit.sandbox(faults, **sandbox_kw)
        server = SandboxServer(sandbox.app())
        server.start()
        self.servers.append(server)
        tenant = TenantConfig(
            name="t1",
            crm=kit.connection(server.base_url, **(connection or {})),
            mapping=mapping or str(EXAMPLES_DIR / f"{kit.kind}.yaml"),
            delivery=DeliverySettings(
                **{
                    "max_attempts": 3,
                    "base_delay_s": 0.05,
                    "max_delay_s": 0.2,
                    "outage_horizon_s": 1.0,
                    **(delivery or {}),
                }
            ),
        )
        return Harness(kit, db or self.default_db, sandbox, tenant, server.base_url)
