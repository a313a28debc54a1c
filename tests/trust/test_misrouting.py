"""`callsync reconcile` finds a record written to another tenant's CRM account (a GoHighLevel location):
the record is stamped by a call that is not that tenant's (issue 14)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from callsync.config import CRMConnection, TenantConfig
from callsync.crm.gohighlevel.adapter import GoHighLevelAdapter
from callsync.crm.protocol import WriteRequest
from callsync.store.db import Database
from callsync.store.tables import CallRow
from callsync.trust.reconcile import reconcile
from callsync_sandbox.gohighlevel import GoHighLevelSandbox
from callsync_sandbox.server import SandboxServer

STAMP, LAST = "callsync_origin_call_id", "callsync_last_call_id"


@pytest.fixture
def two_locations() -> Iterator[tuple[GoHighLevelSandbox, str]]:
    sandbox = GoHighLevelSandbox(token="ghl-token", locations=("location-1", "location-2"))
    with SandboxServer(sandbox.app()) as server:
        yield sandbox, server.base_url


def tenant(name: str, url: str, location: str, env: str) -> TenantConfig:
    crm = CRMConnection(kind="gohighlevel", api_url=url, location_id=location, token_env=env)
    return TenantConfig(name=name, crm=crm, mapping=str(_examples() / "gohighlevel.yaml"))


def _examples() -> Any:
    from callsync.config import EXAMPLES_DIR

    return EXAMPLES_DIR


def stored_call(db: Database, tenant_name: str, call_id: str) -> None:
    with db.session() as s:
        s.add(CallRow(tenant=tenant_name, call_id=call_id, platform="generic", direction="inbound",
                      raw_payload=json.dumps({"call_id": call_id}), sync_state="confirmed",
                      workflow_id=f"sync:{tenant_name}:{call_id}"))  # fmt: skip


async def test_reconcile_reports_a_record_stamped_by_another_tenants_call(
    two_locations: tuple[GoHighLevelSandbox, str], sqlite_db: Database
) -> None:
    sandbox, url = two_locations
    os.environ["GHL_A_TOKEN"] = sandbox.token_for("location-1")
    os.environ["GHL_B_TOKEN"] = sandbox.token_for("location-2")
    a = tenant("tenant-a", url, "location-1", "GHL_A_TOKEN")
    b = tenant("tenant-b", url, "location-2", "GHL_B_TOKEN")
    stored_call(sqlite_db, "tenant-a", "a-call-1")
    stored_call(sqlite_db, "tenant-b", "b-call-1")
    # Each tenant's own record in its own location, then one of A's calls landed in B's location.
    for t, call, email in ((a, "a-call-1", "dana@example.com"), (b, "b-call-1", "sam@example.com")):
        ghl = GoHighLevelAdapter(t.crm.token(), t.crm.location_id or "", base_url=url, timeout_s=3.0)
        await ghl.ensure_schema("contacts", [STAMP, LAST])
        await ghl.write(WriteRequest("contacts", {"email": email, STAMP: call, LAST: call}, None, f"k:{call}"))
        await ghl.aclose()
    planted = sandbox.insert("contacts", {"email": "lee@example.com", STAMP: "a-call-1"}, "location-2")

    report = await reconcile(sqlite_db, {"tenant-a": a, "tenant-b": b})
    assert [(m.tenant, m.record_id, m.call_id, m.belongs_to) for m in report.misrouted_writes] == [
        ("tenant-b", planted, "a-call-1", ("tenant-a",))
    ]
    assert not report.clean and report.exit_code == 1
    assert report.to_json()["misrouted"][0]["belongs_to"] == ["tenant-a"]
