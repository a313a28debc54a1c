"""Platforms retry and race: 50 simultaneous deliveries of one call make one call row and one sync workflow,
over real HTTP, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest

from callsync.route.app import create_app
from callsync.store.db import Database
from callsync_sandbox.server import SandboxServer
from tests.route.conftest import ACME_SECRET, Ingest, acme, globex
from tests.route.payloads import encode, generic, retell, signed

DELIVERIES = 50


def deliver_at_once(base_url: str, platform: str, payload: dict[str, object], n: int) -> Counter[str]:
    body, content_type = encode(platform, payload)
    barrier = Barrier(n)

    def one(_: int) -> str:
        headers = signed(platform, body, ACME_SECRET, content_type=content_type)
        with httpx.Client(base_url=base_url, timeout=60) as client:
            barrier.wait(timeout=30)
            r = client.post(f"/v1/webhooks/{platform}", content=body, headers=headers)
        assert r.status_code == 202, r.text
        return str(r.json()["status"])

    with ThreadPoolExecutor(max_workers=n) as pool:
        return Counter(pool.map(one, range(n)))


def run(db: Database) -> Ingest:
    tenants = {"acme": acme(), "globex": globex()}
    from fastapi.testclient import TestClient

    ingest = Ingest(db, TestClient(create_app(db, tenants)), tenants)
    with SandboxServer(create_app(db, tenants)) as server:
        first = deliver_at_once(server.base_url, "generic", generic("race-1"), DELIVERIES)
        assert first == {"queued": 1, "duplicate": DELIVERIES - 1}
        # A later event of one call, delivered 20 times at once, re-plans the sync exactly once.
        assert deliver_at_once(server.base_url, "retell", retell("race-2", "call_ended"), 10)["queued"] == 1
        later = deliver_at_once(server.base_url, "retell", retell("race-2", "call_analyzed"), 20)
        assert later == {"updated": 1, "duplicate": 19}
    return ingest


def test_fifty_simultaneous_deliveries_make_one_call_and_one_workflow_on_sqlite(
    sqlite_db: Database, secrets_env: None
) -> None:
    ingest = run(sqlite_db)
    assert ingest.count() == 2
    assert ingest.workflows("sync:acme:race-1") == ["sync:acme:race-1"]
    assert ingest.workflows("sync:acme:race-2") == ["sync:acme:race-2", "sync:acme:race-2:1"]
    assert len(ingest.events()) == 1


def test_fifty_simultaneous_deliveries_make_one_call_and_one_workflow_on_postgres(
    pg_url: str, secrets_env: None
) -> None:
    db = Database(pg_url)
    try:
        db.migrate()
        ingest = run(db)
        assert ingest.count() == 2
        assert ingest.workflows("sync:acme:race-1") == ["sync:acme:race-1"]
        assert ingest.workflows("sync:acme:race-2") == ["sync:acme:race-2", "sync:acme:race-2:1"]
    finally:
        db.dispose()


@pytest.fixture(autouse=True)
def _quiet_uvicorn() -> None:
    import logging

    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
