"""The adapters of a running process: fresh ones for one-off work, long-lived shared ones for write attempts."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import structlog

from callsync.config import TenantConfig
from callsync.crm.protocol import CRMAdapter
from callsync.store.db import Database

log = structlog.get_logger("callsync.crm")


class AdapterPool:
    """Builds the adapters of a runtime.

    Calling it gives a fresh adapter the caller owns and closes. `for_attempt` gives write attempts a
    long-lived HubSpot adapter per tenant and event loop, so the attempts running at the same time share
    its batches (group commit), its known properties and its circuit breaker; `close` ends those."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db  # Zoho/Salesforce credit budgets are shared through it
        self._shared: dict[tuple[str, int], tuple[CRMAdapter, asyncio.AbstractEventLoop]] = {}
        self._lock = threading.Lock()

    def __call__(self, tenant: TenantConfig) -> CRMAdapter:
        from callsync.crm.hubspot.adapter import HubSpotAdapter

        conn = tenant.crm
        db = self.db
        if conn.kind == "salesforce":
            from callsync.crm.salesforce.adapter import SalesforceAdapter

            return SalesforceAdapter.from_connection(conn, tenant=tenant.name, db=db)
        if conn.kind == "zoho":
            from callsync.crm.zoho.adapter import ZohoAdapter

            return ZohoAdapter.from_connection(conn, tenant=tenant.name, db=db)
        return HubSpotAdapter(conn.token(), conn.base_url, timeout_s=conn.timeout_s)

    def for_attempt(self, tenant: TenantConfig) -> tuple[CRMAdapter, bool]:
        """The adapter for one write attempt, and whether the attempt owns it (and must close it)."""
        from callsync.crm.hubspot.adapter import HubSpotAdapter

        conn = tenant.crm
        if conn.kind != "hubspot":
            return self(tenant), True
        loop = asyncio.get_running_loop()
        key = (tenant.name, id(loop))
        with self._lock:
            held = self._shared.get(key)
            if held is None or held[1] is not loop:
                adapter = HubSpotAdapter(conn.token(), conn.base_url, timeout_s=conn.timeout_s, batching=True)
                held = self._shared[key] = (adapter, loop)
        return held[0], False

    def close(self) -> None:
        """Close the shared adapters on their own loops (from any thread but theirs)."""
        with self._lock:
            held, self._shared = list(self._shared.values()), {}
        for adapter, loop in held:
            batches = getattr(adapter, "batches", None)
            if batches is not None:
                log.info(
                    "batching",
                    crm=adapter.name,
                    **{k: f"{n} in {b}" for k, (n, b) in batches.stats().items()},
                )
            if loop.is_closed() or not loop.is_running():
                continue
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(adapter.aclose(), loop).result(timeout=5)
