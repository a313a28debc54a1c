"""The adapters of a running process: fresh ones for one-off work, long-lived shared ones for write attempts."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Protocol, runtime_checkable

import structlog

from callsync.crm.http.budget import BudgetStore
from callsync.crm.http.ratelimit import limits_shared_through
from callsync.crm.protocol import CRMAdapter
from callsync.crm.registry import spec_for
from callsync.crm.settings import CRMConnection
from callsync.crm.spec import AdapterContext
from callsync.store.db import Database

log = structlog.get_logger("callsync.crm")


class TenantConfig(Protocol):
    """What the pool reads of a tenant (config.TenantConfig; config imports crm, not the other way)."""

    @property
    def name(self) -> str: ...

    @property
    def crm(self) -> CRMConnection: ...


@runtime_checkable
class PerAttempt(Protocol):
    """An adapter that keeps per-attempt state (a credit budget's standing, what the attempt has seen):
    the shared one hands each attempt a view of its own over the shared transport."""

    def attempt(self) -> CRMAdapter: ...


class AdapterPool:
    """Builds the adapters of a runtime, through the CRM registry.

    Calling it gives a fresh adapter the caller owns and closes. `for_attempt` gives write attempts an
    adapter built on one long-lived adapter per tenant and event loop, so the attempts running at the
    same time share its HTTP client, circuit breaker, limiter and known-schema caches, and, where the
    CRM's capabilities say `group_commit`, its batches; `close` ends those."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db  # credit budgets are shared through it by every worker
        self._shared: dict[tuple[str, int], tuple[CRMAdapter, asyncio.AbstractEventLoop]] = {}
        self._lock = threading.Lock()

    def _budget_store(self) -> BudgetStore | None:
        if self.db is None:
            return None
        from callsync.store.budget import DatabaseBudgetStore

        return DatabaseBudgetStore(self.db)

    def _build(self, tenant: TenantConfig, *, batching: bool) -> CRMAdapter:
        spec = spec_for(tenant.crm.kind)
        context = AdapterContext(tenant=tenant.name, budget_store=self._budget_store(), batching=batching)
        # Request windows too are shared by every worker on this database (PostgreSQL; ratelimit.py).
        with limits_shared_through(self.db):
            return spec.factory(tenant.crm, context)

    def __call__(self, tenant: TenantConfig) -> CRMAdapter:
        return self._build(tenant, batching=False)

    def for_attempt(self, tenant: TenantConfig) -> tuple[CRMAdapter, bool]:
        """The adapter for one write attempt, and whether the attempt owns it (and must close it)."""
        loop = asyncio.get_running_loop()
        key = (tenant.name, id(loop))
        with self._lock:
            held = self._shared.get(key)
            if held is None or held[1] is not loop:
                batching = spec_for(tenant.crm.kind).capabilities.group_commit
                held = self._shared[key] = (self._build(tenant, batching=batching), loop)
        shared = held[0]
        return (shared.attempt() if isinstance(shared, PerAttempt) else shared), False

    def close(self) -> None:
        """Close the shared adapters on their own loops (from any thread but theirs)."""
        with self._lock:
            held, self._shared = list(self._shared.values()), {}
        for adapter, loop in held:
            batches = getattr(adapter, "batches", None)
            if batches is not None:
                # Debug, not info: it would print in the middle of a command's output (the demo's table).
                log.debug(
                    "batching",
                    crm=adapter.name,
                    **{k: f"{n} in {b}" for k, (n, b) in batches.coalescers.stats().items()},
                )
            if loop.is_closed() or not loop.is_running():
                continue
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(adapter.aclose(), loop).result(timeout=5)
