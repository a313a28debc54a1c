"""From webhook to CRM: platform payloads stored by the ingest app are synced by the delivery engine (which
reads them back through the platform registry), and a later event re-plans without duplicating anything."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from callsync.config import CRMConnection, DeliverySettings, TenantConfig
from callsync.pipeline import engine
from callsync.pipeline.worker import drain, running_worker
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer
from tests.route.conftest import Ingest
from tests.route.payloads import (
    bland,
    elevenlabs,
    retell,
    twilio_recording,
    twilio_status,
    twilio_transcript,
    vapi,
)

TOKEN_ENV = "CALLSYNC_TEST_INGEST_HUBSPOT_TOKEN"


@pytest.fixture
def hubspot() -> Iterator[tuple[HubSpotSandbox, str]]:
    os.environ.setdefault(TOKEN_ENV, "sandbox-token")
    sandbox = HubSpotSandbox(token="sandbox-token")
    with SandboxServer(sandbox.app()) as server:
        yield sandbox, server.base_url


def sync(ingest: Ingest, base_url: str) -> None:
    crm = CRMConnection(base_url=base_url, token_env=TOKEN_ENV, timeout_s=2.0)
    delivery = DeliverySettings(max_attempts=3, base_delay_s=0.1, max_delay_s=0.5)
    runtime_tenants: dict[str, TenantConfig] = {
        name: t.model_copy(update={"crm": crm, "delivery": delivery}) for name, t in ingest.tenants.items()
    }
    with running_worker(engine.Runtime(ingest.db, runtime_tenants), poll_s=0.05):
        state = drain(ingest.db, timeout_s=60)
        # A re-plan enqueued while the call's earlier sync was running is still waiting when that earlier
        # sync marks the call confirmed: wait for the workflows themselves, not only the calls' state.
        deadline = time.monotonic() + 60
        while set(workflow_states(ingest).values()) - {"SUCCESS", "ERROR"} and time.monotonic() < deadline:
            time.sleep(0.05)
    assert state.queued == 0


def workflow_states(ingest: Ingest) -> dict[str, str]:
    with ingest.db.engine.connect() as conn:
        return dict(conn.execute(text("SELECT workflow_uuid, status FROM workflow_status")).all())


def test_every_platform_s_call_reaches_the_crm_once(
    ingest: Ingest, hubspot: tuple[HubSpotSandbox, str]
) -> None:
    sandbox, base_url = hubspot
    for platform, payload in [("vapi", vapi()), ("bland", bland()), ("elevenlabs", elevenlabs())]:
        assert ingest.post(platform, payload).status_code == 202
    ingest.post("twilio", twilio_status())
    ingest.post("twilio", twilio_recording())
    ingest.post("twilio", twilio_transcript())
    sync(ingest, base_url)
    contacts = sandbox.records("contacts")
    assert len(contacts) == 1  # four calls, one caller: one contact
    assert contacts[0]["properties"]["email"] == "dana.whitfield@northwind.com"
    assert {c.sync_state for c in ingest.calls()} == {"confirmed"}
    assert set(workflow_states(ingest).values()) == {"SUCCESS"}


def test_a_later_event_replans_the_sync_without_a_duplicate(
    ingest: Ingest, hubspot: tuple[HubSpotSandbox, str]
) -> None:
    sandbox, base_url = hubspot
    assert ingest.post("retell", retell("r-9", "call_ended")).json()["status"] == "queued"
    sync(ingest, base_url)
    assert ingest.post("retell", retell("r-9", "call_analyzed")).json()["status"] == "updated"
    sync(ingest, base_url)
    assert len(sandbox.records("contacts")) == 1
    states = workflow_states(ingest)
    assert states == {"sync:acme:r-9": "SUCCESS", "sync:acme:r-9:1": "SUCCESS"}
    (row,) = ingest.calls()
    assert row.sync_state == "confirmed"
