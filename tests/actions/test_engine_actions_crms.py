"""The actions of each CRM's example mapping through the real engine (DBOS worker, SQLite) against its
emulator: a booked call books one meeting and logs the call; a booking whose time is in review books nothing
until a person approves it, then exactly one, and a replay adds none."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from dbos import DBOS
from sqlalchemy import select

from callsync.capture.platforms.generic import parse_generic_call
from callsync.config import EXAMPLES_DIR, CRMConnection, DeliverySettings, TenantConfig
from callsync.pipeline import engine
from callsync.pipeline.intake import receive_call
from callsync.pipeline.queue import workflow_id_for
from callsync.pipeline.worker import drain, running_worker
from callsync.services import review as review_service
from callsync.store.db import Database
from callsync.store.tables import ActionRunRow, ReviewItemRow
from callsync_sandbox.gohighlevel import GoHighLevelSandbox
from callsync_sandbox.pipedrive import PipedriveSandbox
from callsync_sandbox.salesforce import SalesforceSandbox
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.zoho import ZohoSandbox
from tests.actions.conftest import BOOKED, BOOKED_VAGUE, payload

TOKEN = "engine-actions-token"


@dataclass(frozen=True)
class Target:
    kind: str
    sandbox: Callable[[], Any]
    url_setting: str
    settings: dict[str, Any]
    meetings: Callable[[Any], list[dict[str, Any]]]  # the emulator's booked meetings
    calls: Callable[[Any], list[dict[str, Any]]]  # the emulator's call logs


TARGETS = [
    Target("salesforce", lambda: SalesforceSandbox(token=TOKEN), "instance_url", {"limit_retry_s": 0.3},
           lambda s: s.records("Event"), lambda s: [t for t in s.records("Task") if t.get("TaskSubtype") == "Call"]),
    Target("zoho", lambda: ZohoSandbox(token=TOKEN), "api_domain", {"limit_retry_s": 0.3},
           lambda s: s.records("Events"), lambda s: s.records("Calls")),
    Target("pipedrive", lambda: PipedriveSandbox(token=TOKEN), "api_domain", {"limit_retry_s": 0.3},
           lambda s: [a for a in s.records("activities") if a["type"] == "meeting"],
           lambda s: [a for a in s.records("activities") if a["type"] == "call"]),
    Target("gohighlevel", lambda: GoHighLevelSandbox(token=TOKEN), "api_url", {"location_id": "location-1"},
           lambda s: s.records("appointments"), lambda s: s.records("notes")),
]  # fmt: skip


@dataclass
class Run:
    db: Database
    sandbox: Any
    tenant: TenantConfig
    target: Target

    def call(self, call_id: str, turns: list[tuple[str, str]]) -> None:
        p = payload(call_id, turns)
        receive_call(self.db, parse_generic_call(p, tenant=self.tenant.name), json.dumps(p))
        with running_worker(engine.Runtime(self.db, {self.tenant.name: self.tenant}), poll_s=0.05):
            drain(self.db, timeout_s=90)

    def rerun(self, call_id: str) -> str:
        with running_worker(engine.Runtime(self.db, {self.tenant.name: self.tenant}), poll_s=0.05):
            return str(DBOS.fork_workflow(workflow_id_for(self.tenant.name, call_id), 1).get_result())

    def runs(self) -> dict[str, ActionRunRow]:
        with self.db.session() as s:
            return {f"{r.call_id}:{r.rule}": r for r in s.scalars(select(ActionRunRow)).all()}


@pytest.fixture(params=TARGETS, ids=[t.kind for t in TARGETS])
def run(
    request: pytest.FixtureRequest, sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Run]:
    target: Target = request.param
    sandbox = target.sandbox()
    env = f"CALLSYNC_ACTIONS_{target.kind.upper()}_TOKEN"
    monkeypatch.setenv(env, TOKEN)
    with SandboxServer(sandbox.app()) as server:
        connection = CRMConnection(kind=target.kind, token_env=env, timeout_s=2.0,
                                   **{target.url_setting: server.base_url}, **target.settings)  # fmt: skip
        tenant = TenantConfig(
            name=f"t-{target.kind}", crm=connection, mapping=str(EXAMPLES_DIR / f"{target.kind}.yaml"),
            timezone="America/New_York",
            delivery=DeliverySettings(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2, outage_horizon_s=1.0),
        )  # fmt: skip
        yield Run(sqlite_db, sandbox, tenant, target)


def test_a_booked_call_books_one_meeting_and_logs_the_call(run: Run) -> None:
    run.call("c-book", BOOKED)
    runs = run.runs()
    assert (runs["c-book:book_meeting"].status, runs["c-book:book_meeting"].result) == (
        "confirmed",
        "created",
    )
    assert runs["c-book:call_log"].status == "confirmed"
    assert len(run.target.meetings(run.sandbox)) == 1
    assert len(run.target.calls(run.sandbox)) == 1
    assert run.rerun("c-book") == "confirmed"
    assert len(run.target.meetings(run.sandbox)) == 1 and len(run.target.calls(run.sandbox)) == 1


def test_a_booking_in_review_books_nothing_until_approved_then_exactly_one(run: Run) -> None:
    run.call("c-vague", BOOKED_VAGUE)
    assert run.target.meetings(run.sandbox) == []
    assert run.runs()["c-vague:book_meeting"].status == "review"
    with run.db.session() as s:
        (item,) = [r.id for r in s.scalars(select(ReviewItemRow)).all() if r.kind == "action"]
    tenants = {run.tenant.name: run.tenant}
    assert review_service.approve(run.db, tenants, item, reviewer="rita").status == "approved"
    assert len(run.target.meetings(run.sandbox)) == 1
    assert run.rerun("c-vague") == "confirmed"
    assert len(run.target.meetings(run.sandbox)) == 1
    assert run.runs()["c-vague:book_meeting"].reviewer == "rita"
