"""SIGKILL the worker at random points, restart it, repeat: nothing lost, nothing doubled.

The worker is the real `callsync sync` command in a subprocess; the HubSpot sandbox runs in this process
(so it outlives every worker) with latency on every request, so that kills land mid-request as well as
between steps, plus a few answers lost after commit and 503s. Between kills the test waits for the worker
to be busy (a new request reaches the sandbox), then a random moment. After the last restart the queue
must drain, and then: every call confirmed, one contact per person, no call's stamp on two records, and
the reconciliation job finds the ledger and the CRM in agreement field by field.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOSClient

from callsync.capture.platforms.generic import parse_generic_call
from callsync.config import load_tenant
from callsync.pipeline.intake import receive_call
from callsync.store.db import Database
from callsync.store.tables import CallRow, DeadLetterRow
from callsync.trust.reconcile import reconcile
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer
from tests.pipeline.test_engine import DANA, call_payload, make_harness

__all__ = ["make_harness"]

TOKEN_ENV = "CALLSYNC_CRASH_TEST_TOKEN"
KILLS = 5
SEED = int(os.environ.get("CALLSYNC_CRASH_SEED", "20261124"))

CONTACT_ONLY_MAPPING = """
crm: hubspot
objects:
  contact:
    crm_object: contacts
    fields:
      email:     {from: email,      policy: fill_if_empty, type: email}
      phone:     {from: phone,      policy: fill_if_empty, type: phone}
      firstname: {from: first_name, policy: fill_if_empty}
      lastname:  {from: last_name,  policy: fill_if_empty}
      company:   {from: company,    policy: call_wins}
    required:
      lastname: {default: "(unknown caller)"}
"""

FAULTS = {
    "seed": SEED,
    "rules": [
        {"path": ".*", "fault": "latency", "times": None,
         "latency": {"distribution": "uniform", "min_ms": 40, "max_ms": 160}},
        {"method": "POST", "path": "/crm/v3/objects/contacts(/batch/create)?", "fault": "drop_response_after_commit",
         "probability": 0.25, "times": None},
        {"method": "PATCH", "path": "/crm/v3/objects/contacts/.*", "fault": "drop_response_after_commit",
         "probability": 0.25, "times": None},
        {"method": "POST", "path": "/crm/v3/objects/contacts/batch/update", "fault": "drop_response_after_commit",
         "probability": 0.25, "times": None},
        {"path": "/crm/v3/objects/contacts.*", "fault": "status", "status": 503, "probability": 0.08,
         "times": None},
    ],
}  # fmt: skip

CREATE = "/crm/v3/objects/contacts(/batch/create)?"  # alone or in a batch
PRIYA = ["my name is priya raman", "email priya dot raman at gmail dot com"]
MARCUS = ["my name is marcus lee", "call me at three one two five five five zero one seven eight"]
LENA = ["this is lena fischer from globex", "my email is lena at globex dot com"]
OMAR = ["hi it's omar haddad", "reach me at omar dot haddad at initech dot com"]

# Who is who: the identity each person's contact must carry, exactly once.
PEOPLE = {
    "dana": ("email", "dana.whitfield@northwind.com"),
    "priya": ("email", "priya.raman@gmail.com"),
    "marcus": ("phone", "+13125550178"),
    "lena": ("email", "lena@globex.com"),
    "omar": ("email", "omar.haddad@initech.com"),
}


def calls() -> list[dict[str, Any]]:
    at = "2026-11-2{d}T1{h}:00:00Z"
    return [
        call_payload("d-1", DANA, started_at=at.format(d=0, h=0), ended_at=at.format(d=0, h=1)),
        # two calls from one person at the same moment
        call_payload(
            "d-2",
            [*DANA, "i work at contoso now"],
            started_at=at.format(d=1, h=0),
            ended_at=at.format(d=1, h=1),
        ),
        call_payload(
            "d-3", [*DANA, "still at contoso"], started_at=at.format(d=1, h=0), ended_at=at.format(d=1, h=1)
        ),
        call_payload("p-1", PRIYA, from_="+16175550148"),
        call_payload("p-2", [*PRIYA, "i am with acme"], from_="+16175550148", ended_at=at.format(d=2, h=2)),
        call_payload("m-1", MARCUS, from_="+13125550142"),
        call_payload(
            "m-2", [*MARCUS, "i work for umbrella"], from_="+13125550142", ended_at=at.format(d=2, h=3)
        ),
        # one person from two lines: two queue partitions, so these two may really race
        call_payload("l-1", LENA, from_="+12065550101"),
        call_payload("l-2", LENA, from_="+12065550102"),
        call_payload("o-1", OMAR, from_="+17735550199"),
    ]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Database, HubSpotSandbox, Path]]:
    os.environ[TOKEN_ENV] = "sandbox-token"
    sandbox = HubSpotSandbox(faults=FaultPlan.model_validate(FAULTS), search_lag_s=0.3)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(CONTACT_ONLY_MAPPING)
    db = Database(f"sqlite:///{tmp_path}/crash.db")
    db.migrate()
    with SandboxServer(sandbox.app()) as server:
        tenant = tmp_path / "t1.yaml"
        tenant.write_text(
            f"name: t1\nmapping: {mapping}\n"
            f"crm: {{kind: hubspot, base_url: '{server.base_url}', token_env: {TOKEN_ENV}, timeout_s: 2}}\n"
            "delivery: {max_attempts: 8, base_delay_s: 0.1, max_delay_s: 0.4, outage_horizon_s: 30}\n"
        )
        yield db, sandbox, tenant
    db.dispose()


def start_worker(db: Database, tenant: Path, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from callsync.cli import main; main()", "sync",
               "--db", db.url, "--tenant-file", str(tenant), "--timeout", "40", "--concurrency", "4"]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def queued(db: Database) -> int:
    with db.session() as session:
        return sum(1 for row in session.query(CallRow).all() if row.sync_state == "queued")


def test_sigkill_at_random_points_then_restart_loses_nothing_and_doubles_nothing(
    world: tuple[Database, HubSpotSandbox, Path], tmp_path: Path
) -> None:
    db, sandbox, tenant = world
    started = time.monotonic()
    for p in calls():
        receive_call(db, parse_generic_call(p, tenant="t1"), json.dumps(p))
    rng = random.Random(SEED)
    log = tmp_path / "worker.log"
    kills = 0
    while kills < KILLS and queued(db):
        before = len(sandbox.request_log)
        worker = start_worker(db, tenant, log)
        deadline = time.monotonic() + 15
        # Busy: it has reached the CRM since it started. Then a random moment, mid-request or not.
        while len(sandbox.request_log) == before and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.2))
        if worker.poll() is None:
            worker.kill()  # SIGKILL: no cleanup of any kind
            kills += 1
        worker.wait(timeout=10)
    assert kills >= 3, f"the queue drained before enough kills ({kills}); worker log:\n{log.read_text()}"

    final = start_worker(db, tenant, log)
    assert final.wait(timeout=50) == 0, log.read_text()[-4000:]

    with db.session() as session:
        states = Counter(row.sync_state for row in session.query(CallRow).all())
        dead = session.query(DeadLetterRow).count()
    assert states == {"confirmed": len(calls())} and dead == 0, (states, log.read_text()[-4000:])

    contacts = sandbox.records("contacts")
    for person, (kind, value) in PEOPLE.items():
        holders = [c for c in contacts if (c["properties"].get(kind) or "").lower() == value]
        assert len(holders) == 1, f"{person}: {len(holders)} contacts hold {kind} {value}"
    assert len(contacts) == len(PEOPLE)
    stamps = Counter(c["properties"].get("callsync_origin_call_id") for c in contacts)
    assert all(n == 1 for n in stamps.values()), stamps

    report = asyncio.run(reconcile(db, {"t1": load_tenant(tenant)}))
    assert report.clean, report.to_json()
    assert report.drifted_fields == [], "the ledger and the CRM agree on every field callsync wrote"
    assert report.unacknowledged_writes == []

    client = DBOSClient(system_database_engine=db.engine)
    try:
        workflows = client.list_workflows(workflow_id_prefix="sync:t1:", load_input=False, load_output=False)
    finally:
        client.destroy()
    assert {w.status for w in workflows} == {"SUCCESS"}
    assert time.monotonic() - started < 60


# -- the CRM's search index lags writes ---------------------------------------------------------------------
# A phone-only caller has no unique key in HubSpot. After a create whose answer was lost, the retry reads the
# record by its unique origin stamp (idProperty), not through search; and two calls from one phone-only
# person on two lines (two queue partitions) take turns under the person's identity lock, the first linking
# the number before the second looks. Both used to make a second contact.

MARCUS_PHONE_ONLY = ["my name is marcus lee", "call me at three one two five five five zero one seven eight"]


def test_lost_create_answer_for_a_phone_only_caller_under_search_lag_makes_one_contact(
    make_harness: Any,
) -> None:
    rule = {"method": "POST", "path": CREATE, "fault": "drop_response_after_commit"}
    h = make_harness({"rules": [rule]}, search_lag_s=1.0)
    h.ingest(call_payload("c-phone", MARCUS_PHONE_ONLY, from_="+13125550142"))
    assert h.sync().confirmed == 1
    assert len(h.contacts()) == 1


def test_one_phone_only_person_on_two_lines_at_once_under_search_lag_makes_one_contact(
    make_harness: Any,
) -> None:
    h = make_harness(search_lag_s=1.0)
    h.ingest(
        call_payload("c-a", MARCUS_PHONE_ONLY, from_="+13125550142"),
        call_payload("c-b", MARCUS_PHONE_ONLY, from_="+16505550142"),
    )
    assert h.sync().confirmed == 2
    assert len(h.contacts()) == 1
