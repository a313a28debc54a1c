"""A CRM account's API allowance per rolling window, shared by every worker through the database.

Some CRMs count API *credits* per rolling 24 hours and say nothing about what is left until they refuse;
others count API requests per rolling 24 hours and report the account's usage on every response. Either way, several worker processes spend from one allowance, so what they spent
and until when new work must wait live in one database row per (CRM, account) (`crm_budgets`).

The window is cut into 24 slices; a slice's credits count until the whole window has passed after the
slice ended, so the count never frees a credit before the CRM does (it may hold one up to a slice longer).

A `reserve` keeps the last credits for urgent work: new work waits when spending would leave less than the
reserve, while urgent requests (an attempt that has already written and must confirm by reading back)
may spend down to zero. Waiting is never dropping: the refusal is a `RateLimited` with the time until
enough credits come back, which the delivery engine sleeps durably; `callsync status` shows who waits, and
why, from `blocked_until` / `blocked_reason`.

The rules and the in-process store are here; the database store and the status queries are in
store/budget.py (the delivery pipeline hands adapters a `BudgetStore`, so nothing here runs SQL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from callsync.crm.errors import BudgetExhausted

# The state's shapes and the database store live in store/budget.py (store does not import crm);
# re-exported here for the adapters and the older importers of these names.
from callsync.store.budget import (
    SLICES,
    BudgetKey,
    BudgetSettings,
    BudgetState,
    BudgetStore,
    DatabaseBudgetStore,
    calls_waiting_for_budget,
    waiting_budgets,
)

__all__ = [
    "MEMORY_STORE",
    "SLICES",
    "BudgetKey",
    "BudgetSettings",
    "BudgetState",
    "BudgetStore",
    "CreditBudget",
    "DatabaseBudgetStore",
    "MemoryBudgetStore",
    "calls_waiting_for_budget",
    "used",
    "waiting_budgets",
]

T = TypeVar("T")


# -- the rules (pure) ---------------------------------------------------------------------------------


def _slice(now: float, settings: BudgetSettings) -> int:
    return int(now // settings.slice_s)


def _live(state: BudgetState, now: float, settings: BudgetSettings) -> dict[int, int]:
    """Slices still inside the window: a slice stops counting once the window has passed after it."""
    current = _slice(now, settings)
    return {int(k): v for k, v in state.spent.items() if int(k) >= current - SLICES}


def used(state: BudgetState, now: float, settings: BudgetSettings) -> int:
    return sum(_live(state, now, settings).values())


def _wait_for(state: BudgetState, now: float, settings: BudgetSettings, need: int, allowed: int) -> float:
    """Seconds until spending `need` keeps the total within `allowed`, as old slices leave the window."""
    live = _live(state, now, settings)
    total = sum(live.values())
    if total + need <= allowed:
        return 0.0
    for index in sorted(live):
        total -= live[index]
        if total + need <= allowed:
            return max(0.0, (index + SLICES + 1) * settings.slice_s - now)
    return settings.window_s  # more than the whole allowance: try again once a window has passed


def _spend(
    state: BudgetState,
    now: float,
    settings: BudgetSettings,
    tenant: str,
    cost: int,
    urgent: bool,
    label: str,
    headroom: int = 0,
) -> float:
    """Record `cost` and return 0, or return how long to wait (and note it for `callsync status`).
    `headroom`: credits that must be left beyond the reserve (what the rest of the work will need)."""
    if tenant and tenant not in state.tenants:
        state.tenants = [*state.tenants, tenant]
    wait = 0.0
    if not urgent and state.crm_blocked_until is not None and state.crm_blocked_until > now:
        wait = state.crm_blocked_until - now
    elif settings.limit is not None:
        allowed = settings.limit if urgent else settings.limit - settings.reserve
        wait = _wait_for(state, now, settings, cost + (0 if urgent else headroom), allowed)
        if wait > 0:
            spent = used(state, now, settings)
            state.blocked_until = max(state.blocked_until or 0.0, now + wait)
            state.blocked_reason = (
                f"{label}: {spent} of {settings.limit} API credits used in the last "
                f"{_duration(settings.window_s)}"
                + (f", {settings.reserve} kept for urgent writes" if settings.reserve else "")
            )
    if wait > 0:
        return wait
    if not urgent and state.blocked_until is not None and state.blocked_until <= now:
        state.blocked_until = state.blocked_reason = state.crm_blocked_until = None
    index = str(_slice(now, settings))
    live = {str(k): v for k, v in _live(state, now, settings).items()}
    live[index] = live.get(index, 0) + cost
    state.spent = live
    return 0.0


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return f"{hours} h"
    return f"{seconds:g} s"


# -- stores -------------------------------------------------------------------------------------------


class MemoryBudgetStore(BudgetStore):
    """Per process: for an adapter used without the delivery engine's database (tests, one-off tools)."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str], BudgetState] = {}
        self._lock = threading.Lock()

    def transact(self, key: BudgetKey, settings: BudgetSettings, change: Callable[[BudgetState], T]) -> T:
        with self._lock:
            state = self._states.setdefault((key.crm, key.account), BudgetState())
            return change(state)


MEMORY_STORE = MemoryBudgetStore()


# -- what adapters use ----------------------------------------------------------------------------------


class CreditBudget:
    """One CRM account's allowance as an adapter sees it. Database calls run in a worker thread."""

    def __init__(
        self,
        key: BudgetKey,
        settings: BudgetSettings,
        *,
        tenant: str = "",
        store: BudgetStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.settings = settings
        self.tenant = tenant
        self.store = store or MEMORY_STORE
        self.clock = clock

    async def _run(self, change: Callable[[BudgetState], T]) -> T:
        import asyncio

        return await asyncio.to_thread(self.store.transact, self.key, self.settings, change)

    async def spend(self, cost: int, *, urgent: bool = False, headroom: int = 0) -> None:
        """Take `cost` credits, or raise RateLimited with the time until they are there. New work passes
        `headroom`, the credits it will go on to need, so it starts only when it can also finish."""
        now = self.clock()
        reason: list[str] = []

        def change(state: BudgetState) -> float:
            wait = _spend(state, now, self.settings, self.tenant, cost, urgent, self.key.label, headroom)
            reason.append(state.blocked_reason or "")
            return wait

        wait = await self._run(change)
        if wait > 0:
            raise BudgetExhausted(
                f"waiting for CRM budget: {reason[0]}",
                retry_after=wait,
                policy="DAILY_BUDGET",
                reason=reason[0],
            )

    async def check(self) -> None:
        """For new work where the CRM does the counting: raise RateLimited while the account waits."""
        now = self.clock()

        def change(state: BudgetState) -> tuple[float, str]:
            if self.tenant and self.tenant not in state.tenants:
                state.tenants = [*state.tenants, self.tenant]
            if state.crm_blocked_until is not None and state.crm_blocked_until > now:
                return state.crm_blocked_until - now, state.blocked_reason or ""
            return 0.0, ""

        wait, why = await self._run(change)
        if wait > 0:
            raise BudgetExhausted(
                f"waiting for CRM budget: {why}", retry_after=wait, policy="DAILY_BUDGET", reason=why
            )

    async def block(self, reason: str, seconds: float | None = None) -> float:
        """The CRM refused (or is down to the reserve): new work waits `seconds` (default `retry_s`)."""
        wait = self.settings.retry_s if seconds is None else seconds
        now = self.clock()

        def change(state: BudgetState) -> None:
            if self.tenant and self.tenant not in state.tenants:
                state.tenants = [*state.tenants, self.tenant]
            until = max(state.crm_blocked_until or 0.0, now + wait)
            state.crm_blocked_until = until
            state.blocked_until = max(state.blocked_until or 0.0, until)
            state.blocked_reason = f"{self.key.label}: {reason}"

        await self._run(change)
        return wait

    async def observe(self, used_now: int, limit: int) -> None:
        """Record the usage the CRM reported on an answer."""
        now = self.clock()

        def change(state: BudgetState) -> None:
            state.observed_used, state.observed_limit, state.observed_at = used_now, limit, now

        await self._run(change)

    def state(self) -> BudgetState:
        """A copy of the current state (for tests and status)."""
        return self.store.transact(self.key, self.settings, lambda s: BudgetState(**vars(s)))
