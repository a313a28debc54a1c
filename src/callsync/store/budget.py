"""The CRM credit budgets in the database: one row per (CRM, account) shared by every worker, and what
`callsync status` shows of them. The rules are crm/http/budget.py's; this is where their state is kept,
with the state's shapes (`BudgetState`, `BudgetKey`, `BudgetSettings`) and the `BudgetStore` interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from callsync.store.db import Database
from callsync.store.tables import CallRow, CrmBudgetRow

__all__ = [
    "SLICES",
    "BudgetKey",
    "BudgetSettings",
    "BudgetState",
    "BudgetStore",
    "DatabaseBudgetStore",
    "calls_waiting_for_budget",
    "waiting_budgets",
]

SLICES = 24  # a window is counted in this many slices (crm/http/budget.py has the rules)
T = TypeVar("T")


@dataclass
class BudgetState:
    """One account's row, as plain data: what the stores load, the rules change, and the stores save."""

    tenants: list[str] = field(default_factory=list)
    spent: dict[str, int] = field(default_factory=dict)
    observed_used: int | None = None
    observed_limit: int | None = None
    observed_at: float | None = None
    blocked_until: float | None = None  # until when new work waits (what `callsync status` shows)
    blocked_reason: str | None = None
    # Until when the CRM itself refuses (or only the reserve is left per its own count): nothing new
    # may start; by callsync's count alone, each request is judged on what is left at that moment.
    crm_blocked_until: float | None = None


@dataclass(frozen=True)
class BudgetKey:
    crm: str
    account: str
    label: str  # what a person reads in `callsync status`: the CRM and its account


class BudgetStore:
    """Runs a change to one account's state atomically: in the database, or in this process only."""

    def transact(self, key: BudgetKey, settings: BudgetSettings, change: Callable[[BudgetState], T]) -> T:
        raise NotImplementedError


@dataclass(frozen=True)
class BudgetSettings:
    limit: int | None  # credits per window; None: not counted here, only the CRM's refusals pause work
    reserve: int = 0
    window_s: float = 86_400.0
    retry_s: float = 900.0  # wait after the CRM itself refused for the window

    @property
    def slice_s(self) -> float:
        return self.window_s / SLICES


class DatabaseBudgetStore(BudgetStore):
    """One row per account. Every change first takes the row's write lock (an UPDATE: the row lock on
    PostgreSQL, the database write lock on SQLite), so two workers never spend the same credit."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def transact(self, key: BudgetKey, settings: BudgetSettings, change: Callable[[BudgetState], T]) -> T:
        from callsync.store.ledger import insert_ignore

        where = (CrmBudgetRow.crm == key.crm, CrmBudgetRow.account == key.account)
        with self.db.session() as session:
            if not self._lock(session, where):
                insert_ignore(
                    session,
                    CrmBudgetRow,
                    {
                        "crm": key.crm,
                        "account": key.account,
                        "label": key.label,
                        "tenants": [],
                        "spent": {},
                        "reserve": settings.reserve,
                        "window_s": settings.window_s,
                        "version": 0,
                        "daily_limit": settings.limit,
                        "updated_at": datetime.now(UTC),
                    },
                )
                self._lock(session, where)
            row = session.scalars(select(CrmBudgetRow).where(*where)).one()
            state = BudgetState(
                tenants=list(row.tenants or []),
                spent={str(k): int(v) for k, v in (row.spent or {}).items()},
                observed_used=row.observed_used,
                observed_limit=row.observed_limit,
                observed_at=_epoch(row.observed_at),
                blocked_until=_epoch(row.blocked_until),
                blocked_reason=row.blocked_reason,
                crm_blocked_until=_epoch(row.crm_blocked_until),
            )
            result = change(state)
            row.label, row.daily_limit, row.reserve, row.window_s = (
                key.label,
                settings.limit,
                settings.reserve,
                settings.window_s,
            )
            row.tenants = list(state.tenants)
            row.spent = dict(state.spent)
            row.observed_used, row.observed_limit = state.observed_used, state.observed_limit
            row.observed_at = _moment(state.observed_at)
            row.blocked_until = _moment(state.blocked_until)
            row.blocked_reason = state.blocked_reason
            row.crm_blocked_until = _moment(state.crm_blocked_until)
            row.updated_at = datetime.now(UTC)
            return result

    @staticmethod
    def _lock(session: Session, where: tuple[Any, ...]) -> bool:
        result = session.execute(update(CrmBudgetRow).where(*where).values(version=CrmBudgetRow.version + 1))
        return bool(getattr(result, "rowcount", 0))


def _epoch(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _moment(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


# -- what `callsync status` shows -------------------------------------------------------------------------


def waiting_budgets(session: Session, now: datetime | None = None) -> list[CrmBudgetRow]:
    """Accounts whose new work is waiting for its allowance right now."""
    moment = (now or datetime.now(UTC)).timestamp()
    rows = session.scalars(select(CrmBudgetRow).where(CrmBudgetRow.blocked_until.is_not(None))).all()
    return [r for r in rows if (_epoch(r.blocked_until) or 0.0) > moment]


def calls_waiting_for_budget(session: Session, now: datetime | None = None) -> int:
    """Queued calls of tenants whose CRM allowance is exhausted (or down to its reserve) right now."""
    tenants = sorted({t for row in waiting_budgets(session, now) for t in (row.tenants or [])})
    if not tenants:
        return 0
    count = session.scalar(
        select(func.count())
        .select_from(CallRow)
        .where(CallRow.sync_state == "queued", CallRow.tenant.in_(tenants))
    )
    return int(count or 0)
