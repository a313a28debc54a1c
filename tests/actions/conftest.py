"""A HubSpot emulator behind real HTTP and the real engine, with the action rules of hubspot_actions.yaml."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from dbos import DBOS
from sqlalchemy import select

from callsync.capture.platforms.generic import parse_generic_call
from callsync.config import CRMConnection, DeliverySettings, TenantConfig
from callsync.pipeline import engine
from callsync.pipeline.intake import receive_call
from callsync.pipeline.queue import workflow_id_for
from callsync.pipeline.worker import Backlog, drain, running_worker
from callsync.store.db import Database
from callsync.store.tables import ActionRunRow
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer

TOKEN_ENV = "CALLSYNC_TEST_HUBSPOT_TOKEN"
TOKEN = "sandbox-token"
MAPPING = str(Path(__file__).parent / "hubspot_actions.yaml")
DANA = [
    ("agent", "Thanks for calling Brightline. How can I help?"),
    ("caller", "hi my name is dana whitfield from northwind"),
    ("caller", "my email is dana dot whitfield at northwind dot com"),
]
BOOKED = [
    *DANA,
    ("caller", "I'd like to book a consultation"),
    ("agent", "I have Tuesday at 3 PM, does that work?"),
    ("caller", "yes three works"),
    ("agent", "Great, you're booked for Tuesday, November 24 at 3 PM."),
]
# "at four": nobody said AM or PM, so the time waits for review (when.py: half_day_guessed).
BOOKED_VAGUE = [
    *DANA,
    ("caller", "I'd like to book a consultation"),
    ("agent", "Great, you're booked for Tuesday, November 24 at four."),
]
FRUSTRATED = [
    *DANA,
    ("caller", "this is ridiculous, my order is late again and nobody calls me back. I'm really frustrated"),
    ("agent", "I'm sorry, I'll have someone from our team follow up."),
]


SALES = [
    *DANA,
    ("caller", "I'm interested in a quote for your enterprise plan, our budget is fifty thousand dollars"),
    ("agent", "Great, I'll put together a quote for you."),
]
TRANSFERRED = [
    *DANA,
    ("caller", "I need to talk to someone about my account"),
    ("agent", "Let me transfer you to a specialist now."),
]
CALLBACK = [
    *DANA,
    ("caller", "can someone call me back tomorrow at 2 pm"),
    ("agent", "Sure, we'll call you back tomorrow at 2 PM."),
]


def payload(call_id: str, turns: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "call_id": call_id, "direction": "inbound", "from": "+14155550123", "to": "+14155559876",
        "started_at": "2026-11-20T21:03:00Z", "ended_at": "2026-11-20T21:07:00Z",
        "turns": [{"speaker": who, "text": text} for who, text in turns],
    }  # fmt: skip


@dataclass
class Harness:
    db: Database
    sandbox: HubSpotSandbox
    tenant: TenantConfig
    base_url: str

    def ingest(self, call_id: str, turns: list[tuple[str, str]]) -> None:
        p = payload(call_id, turns)
        receive_call(self.db, parse_generic_call(p, tenant=self.tenant.name), json.dumps(p))

    def sync(self, timeout_s: float = 60) -> Backlog:
        with running_worker(engine.Runtime(self.db, {self.tenant.name: self.tenant}), poll_s=0.05):
            return drain(self.db, timeout_s=timeout_s)

    def runs(self) -> dict[str, ActionRunRow]:
        with self.db.session() as s:
            return {f"{r.call_id}:{r.rule}": r for r in s.scalars(select(ActionRunRow)).all()}

    def objects(self, object_type: str) -> list[dict[str, Any]]:
        return self.sandbox.records(object_type)

    def rerun(self, call_id: str) -> str:
        """The call's whole sync again from its first step, as a replay or a re-delivered webhook would."""
        with running_worker(engine.Runtime(self.db, {self.tenant.name: self.tenant}), poll_s=0.05):
            handle = DBOS.fork_workflow(workflow_id_for(self.tenant.name, call_id), 1)
            return str(handle.get_result())

    def associated(self, from_type: str, record_id: str, to_type: str) -> list[str]:
        response = httpx.get(
            f"{self.base_url}/crm/v4/objects/{from_type}/{record_id}/associations/{to_type}",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        response.raise_for_status()
        return [str(r["toObjectId"]) for r in response.json()["results"]]

    def tenants(self) -> dict[str, TenantConfig]:
        return {self.tenant.name: self.tenant}

    def patch(self, object_type: str, record_id: str, properties: dict[str, str]) -> None:
        """A rep changes a record in the CRM."""
        httpx.patch(
            f"{self.base_url}/crm/v3/objects/{object_type}/{record_id}",
            json={"properties": properties},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).raise_for_status()


@pytest.fixture
def make_harness(sqlite_db: Database) -> Iterator[Any]:
    servers: list[SandboxServer] = []
    os.environ[TOKEN_ENV] = TOKEN

    def make(faults: dict[str, Any] | None = None, mapping: str = MAPPING) -> Harness:
        sandbox = HubSpotSandbox(token=TOKEN, faults=FaultPlan.model_validate(faults) if faults else None)
        server = SandboxServer(sandbox.app())
        server.start()
        servers.append(server)
        tenant = TenantConfig(
            name="t1",
            crm=CRMConnection(base_url=server.base_url, token_env=TOKEN_ENV, timeout_s=2.0),
            delivery=DeliverySettings(
                max_attempts=3, base_delay_s=0.05, max_delay_s=0.2, outage_horizon_s=1.0
            ),
            mapping=mapping,
            timezone="America/New_York",
        )
        return Harness(sqlite_db, sandbox, tenant, server.base_url)

    yield make
    for server in servers:
        server.stop()
