"""A CRM account's daily allowance, shared by workers through the database, with a reserve."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from callsync.capture.platforms.generic import parse_generic_call
from callsync.crm.http.budget import (
    SLICES,
    BudgetKey,
    BudgetSettings,
    CreditBudget,
    DatabaseBudgetStore,
    MemoryBudgetStore,
    calls_waiting_for_budget,
    waiting_budgets,
)
from callsync.crm.protocol import RateLimited
from callsync.pipeline.intake import receive_call
from callsync.store.db import Database

KEY = BudgetKey("zoho", "acct", "zoho https://www.zohoapis.com")


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def budget(settings: BudgetSettings, clock: Clock, store: Any = None, tenant: str = "t1") -> CreditBudget:
    return CreditBudget(KEY, settings, tenant=tenant, store=store or MemoryBudgetStore(), clock=clock)


async def test_spending_stops_at_the_limit_until_the_oldest_slice_leaves_the_window() -> None:
    clock = Clock()
    window = 2400.0  # slices of 100 s
    credits = budget(BudgetSettings(10, window_s=window), clock)
    for _ in range(6):
        await credits.spend(1)
    clock.now += 500
    for _ in range(4):
        await credits.spend(1)
    with pytest.raises(RateLimited) as waiting:
        await credits.spend(1)
    # The first six credits count until a whole window has passed after their slice ended.
    first_slice = 1_000_000 // 100
    assert waiting.value.retry_after == pytest.approx((first_slice + SLICES + 1) * 100 - clock.now)
    assert waiting.value.policy == "DAILY_BUDGET" and "10 of 10 API credits used" in str(waiting.value)
    clock.now += waiting.value.retry_after
    await credits.spend(6)
    with pytest.raises(RateLimited):
        await credits.spend(1)


async def test_the_reserve_is_kept_for_urgent_work_and_headroom_for_a_whole_attempt() -> None:
    clock = Clock()
    credits = budget(BudgetSettings(10, reserve=3, window_s=2400), clock)
    await credits.spend(7)
    with pytest.raises(RateLimited, match="3 kept for urgent writes"):
        await credits.spend(1)
    await credits.spend(3, urgent=True)
    with pytest.raises(RateLimited):
        await credits.spend(1, urgent=True)
    fresh = budget(BudgetSettings(10, reserve=3, window_s=2400), clock)
    await fresh.spend(1, headroom=6)
    with pytest.raises(RateLimited):
        await fresh.spend(1, headroom=6)  # 1 spent + 1 + 6 would eat into the reserve
    await fresh.spend(1, headroom=5)


async def test_a_refusal_from_the_crm_pauses_new_work_for_retry_s() -> None:
    clock = Clock()
    credits = budget(BudgetSettings(None, retry_s=900), clock)
    await credits.spend(1)
    assert await credits.block("Zoho refused: LIMIT_REACHED") == 900
    with pytest.raises(RateLimited, match="Zoho refused") as waiting:
        await credits.spend(1)
    assert waiting.value.retry_after == 900
    with pytest.raises(RateLimited):
        await credits.check()
    await credits.spend(1, urgent=True)  # an attempt confirming its write still tries
    clock.now += 901
    await credits.spend(1)
    await credits.check()
    assert credits.state().blocked_until is None


async def test_workers_share_one_budget_row_and_never_spend_the_same_credit(sqlite_db: Database) -> None:
    settings = BudgetSettings(40, window_s=86_400)
    spent: list[int] = []
    refused: list[int] = []

    def worker(n: int) -> None:
        credits = CreditBudget(KEY, settings, tenant=f"t{n % 2}", store=DatabaseBudgetStore(sqlite_db))
        for _ in range(15):
            try:
                asyncio.run(credits.spend(1))
                spent.append(n)
            except RateLimited:
                refused.append(n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(spent) == 40 and len(refused) == 20
    state = CreditBudget(KEY, settings, store=DatabaseBudgetStore(sqlite_db)).state()
    assert sum(state.spent.values()) == 40 and sorted(state.tenants) == ["t0", "t1"]


async def test_status_counts_queued_calls_of_tenants_whose_budget_waits(sqlite_db: Database) -> None:
    for call_id in ("c-1", "c-2"):
        payload = {"call_id": call_id, "from": "+14155550123", "turns": [{"speaker": "caller", "text": "hi"}]}
        receive_call(sqlite_db, parse_generic_call(payload, tenant="t1"), json.dumps(payload))
    credits = CreditBudget(
        KEY, BudgetSettings(5, window_s=86_400), tenant="t1", store=DatabaseBudgetStore(sqlite_db)
    )
    await credits.spend(5)
    with sqlite_db.session() as session:
        assert calls_waiting_for_budget(session) == 0
    with pytest.raises(RateLimited):
        await credits.spend(1)
    with sqlite_db.session() as session:
        assert calls_waiting_for_budget(session) == 2
        (row,) = waiting_budgets(session)
        assert row.label == KEY.label and "5 of 5 API credits used" in (row.blocked_reason or "")


def test_the_budget_row_works_on_postgres(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        db.migrate()
        credits = CreditBudget(
            KEY, BudgetSettings(3, reserve=1, window_s=60), tenant="t1", store=DatabaseBudgetStore(db)
        )
        asyncio.run(credits.spend(2))
        with pytest.raises(RateLimited):
            asyncio.run(credits.spend(1))
        asyncio.run(credits.spend(1, urgent=True))
        assert sum(credits.state().spent.values()) == 3
    finally:
        db.dispose()


@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "sqlite-before-3.35"])
def test_the_budget_row_is_locked_and_read_with_or_without_update_returning(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, returning: bool
) -> None:
    # A SQLite older than 3.35 (a distribution's Python) has no UPDATE ... RETURNING.
    monkeypatch.setattr(sqlite_db.engine.dialect, "update_returning", returning)
    settings = BudgetSettings(3, window_s=86_400)
    credits = CreditBudget(KEY, settings, tenant="t1", store=DatabaseBudgetStore(sqlite_db))
    asyncio.run(credits.spend(2))  # the first spend creates the row, the second finds it
    asyncio.run(credits.spend(1))
    with pytest.raises(RateLimited):
        asyncio.run(credits.spend(1))
    assert sum(CreditBudget(KEY, settings, store=DatabaseBudgetStore(sqlite_db)).state().spent.values()) == 3
