"""A CRM outage longer than the whole retry schedule: calls keep being accepted and queued, nothing is
dead-lettered, the backlog is visible, and when the CRM comes back the queue drains by itself, in order
for each caller.

The retry schedule here (3 attempts, 0.1 s doubling to 0.4 s) would be used up in under a second; the
outage lasts several. Before the outage horizon (`delivery.outage_horizon_s`) such retries did not count.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from callsync.capture.platforms.generic import parse_generic_call
from callsync.config import CRMConnection, DeliverySettings, TenantConfig
from callsync.pipeline import engine
from callsync.pipeline.backlog import BacklogView, backlog_view
from callsync.pipeline.intake import receive_call
from callsync.pipeline.worker import Backlog, drain, running_worker
from callsync.store.db import Database
from callsync.store.tables import CallRow, DeadLetterRow, LedgerRow
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer
from tests.pipeline.test_engine import call_payload

TOKEN_ENV = "CALLSYNC_OUTAGE_TEST_TOKEN"
OUTAGE_S = 5.0
PRIYA = ["my name is priya raman", "email priya dot raman at gmail dot com"]


def dana(n: int, company: str) -> dict[str, Any]:
    lines = [
        "my name is dana whitfield",
        f"i work at {company}",
        "my email is dana dot whitfield at northwind dot com",
    ]
    return call_payload(f"dana-{n}", lines, ended_at=f"2026-11-20T2{n}:00:00Z")


def priya(n: int, company: str) -> dict[str, Any]:
    return call_payload(f"priya-{n}", [*PRIYA, f"i work at {company}"], from_="+16175550148",
                        ended_at=f"2026-11-20T2{n}:30:00Z")  # fmt: skip


@pytest.fixture(params=["status", "reset"])
def outage(
    request: pytest.FixtureRequest, sqlite_db: Database
) -> Iterator[tuple[Database, HubSpotSandbox, TenantConfig]]:
    os.environ[TOKEN_ENV] = "sandbox-token"
    down = {"start_s": 0, "duration_s": OUTAGE_S, "reset": request.param == "reset"}
    sandbox = HubSpotSandbox(faults=FaultPlan.model_validate({"outages": [down]}))
    with SandboxServer(sandbox.app()) as server:
        tenant = TenantConfig(
            name="t1",
            crm=CRMConnection(base_url=server.base_url, token_env=TOKEN_ENV, timeout_s=2.0),
            delivery=DeliverySettings(max_attempts=3, base_delay_s=0.1, max_delay_s=0.4, outage_horizon_s=60),
        )
        yield sqlite_db, sandbox, tenant


def ingest(db: Database, *payloads: dict[str, Any]) -> None:
    for p in payloads:
        assert receive_call(db, parse_generic_call(p, tenant="t1"), json.dumps(p)).status == "queued"


def test_calls_queue_through_an_outage_and_drain_in_order_when_the_crm_returns(
    outage: tuple[Database, HubSpotSandbox, TenantConfig],
) -> None:
    db, sandbox, tenant = outage
    ingest(db, dana(1, "northwind"), priya(1, "acme"))
    progress: list[Backlog] = []
    views: list[BacklogView] = []
    result: dict[str, Backlog] = {}
    with running_worker(engine.Runtime(db, {"t1": tenant}), poll_s=0.05):
        drainer = threading.Thread(
            target=lambda: result.update(state=drain(db, timeout_s=45, on_progress=progress.append))
        )
        drainer.start()
        time.sleep(1.5)  # the CRM is down: ingest goes on
        ingest(db, dana(2, "contoso"), priya(2, "initech"), dana(3, "globex"))
        # Sampled through the outage: a sync is either mid-attempt or asleep before its next one, and on a
        # loaded machine any single look can catch every running sync mid-attempt.
        for _ in range(15):
            views.append(backlog_view(db))
            time.sleep(0.1)
        assert not _rows(db, DeadLetterRow), "an outage shorter than the horizon dead-letters nothing"
        drainer.join(timeout=50)
    state = result["state"]
    assert (state.total, state.confirmed, state.dead_letter, state.queued) == (5, 5, 0, 0)

    # While down: everything queued, the running syncs asleep because the CRM does not answer.
    assert all(v.queued == 5 for v in views) and views[-1].oldest_queued_s >= 1
    assert all(v.waiting_retry == v.waiting_outage for v in views), "every sync asleep waits on the outage"
    asleep = [v for v in views if v.waiting_outage >= 1]
    assert asleep, f"no look during the outage saw a sync waiting on it: {views}"
    assert all(v.last_error and ("503" in v.last_error or "no answer" in v.last_error) for v in asleep)
    # The progress the CLI's bar shows only moves forward, to the end.
    done = [p.done for p in progress]
    assert done == sorted(done) and done[-1] == 5 and progress[-1].total == 5

    # One contact per person, each holding its last call's company (call_wins), written in call order.
    contacts = sandbox.records("contacts")
    assert sorted(c["properties"]["email"] for c in contacts) == [
        "dana.whitfield@northwind.com",
        "priya.raman@gmail.com",
    ]
    by_email = {c["properties"]["email"]: c["properties"] for c in contacts}
    assert by_email["dana.whitfield@northwind.com"]["company"].lower() == "globex"
    assert by_email["priya.raman@gmail.com"]["company"].lower() == "initech"
    for person, expected in (("dana", ["dana-1", "dana-2", "dana-3"]), ("priya", ["priya-1", "priya-2"])):
        assert _confirmation_order(db, person) == expected


def _rows(db: Database, model: Any) -> list[Any]:
    with db.session() as session:
        return list(session.scalars(select(model)).all())


def _confirmation_order(db: Database, person: str) -> list[str]:
    company_writes = [
        r for r in _rows(db, LedgerRow) if r.field == "company" and r.call_id.startswith(person)
    ]
    assert company_writes, f"no company writes for {person}"
    with db.session() as session:
        synced = {r.call_id: r.synced_at for r in session.scalars(select(CallRow)).all()}
    return sorted((c for c in synced if c.startswith(person)), key=lambda c: synced[c])
