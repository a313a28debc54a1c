"""The CRM credit budgets in the database: one row per (CRM, account) shared by every worker, and what
`callsync status` shows of them. The rules are crm/http/budget.py's; this is where their state is kept,
with the state's shapes (`BudgetState`, `BudgetKey`, `BudgetSettings`) and the `BudgetStore` interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, bindparam, func, select, update
from sqlalchemy.orm import Session

from callsync.store.db import Database
from callsync.store.tables import CallRow, CrmBudgetRow, table

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
    # A shared rate window's margin, widened after a 429 for every process until `margin_until`.
    margin_s: float | None = None
    margin_until: float | None = None


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

        account = {"the_crm": key.crm, "the_account": key.account}
        with self.db.transaction() as conn:
            row = _take(conn, account)
            if row is None:
                insert_ignore(
                    conn,
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
                row = _take(conn, account)
                assert row is not None, "the row was just inserted"
            state = BudgetState(
                tenants=list(row.tenants or []),
                spent={str(k): int(v) for k, v in (row.spent or {}).items()},
                observed_used=row.observed_used,
                observed_limit=row.observed_limit,
                observed_at=_epoch(row.observed_at),
                blocked_until=_epoch(row.blocked_until),
                blocked_reason=row.blocked_reason,
                crm_blocked_until=_epoch(row.crm_blocked_until),
                margin_s=row.margin_s,
                margin_until=_epoch(row.margin_until),
            )
            result = change(state)
            conn.execute(
                _SAVE,
                account
                | {
                    "new_label": key.label,
                    "new_daily_limit": settings.limit,
                    "new_reserve": settings.reserve,
                    "new_window_s": settings.window_s,
                    "new_tenants": list(state.tenants),
                    "new_spent": dict(state.spent),
                    "new_observed_used": state.observed_used,
                    "new_observed_limit": state.observed_limit,
                    "new_observed_at": _moment(state.observed_at),
                    "new_blocked_until": _moment(state.blocked_until),
                    "new_blocked_reason": state.blocked_reason,
                    "new_crm_blocked_until": _moment(state.crm_blocked_until),
                    "new_margin_s": state.margin_s,
                    "new_margin_until": _moment(state.margin_until),
                    "new_updated_at": datetime.now(UTC),
                },
            )
            return result


# Built once (store/tables.py `table`); an UPDATE's bind parameters may not take its columns' names.
_budgets = table(CrmBudgetRow)
_this_account = (_budgets.c.crm == bindparam("the_crm"), _budgets.c.account == bindparam("the_account"))
# The row's write lock (the row lock on PostgreSQL, the database write lock on SQLite) and the row, in one
# round trip: nothing may spend between the read and the save.
_STATE = (
    _budgets.c.tenants, _budgets.c.spent, _budgets.c.observed_used, _budgets.c.observed_limit,
    _budgets.c.observed_at, _budgets.c.blocked_until, _budgets.c.blocked_reason, _budgets.c.crm_blocked_until,
    _budgets.c.margin_s, _budgets.c.margin_until,
)  # fmt: skip
_LOCK = update(_budgets).where(*_this_account).values(version=_budgets.c.version + 1)
_TAKE = _LOCK.returning(*_STATE)
_READ = select(*_STATE).where(*_this_account)
_SAVE = (
    update(_budgets)
    .where(*_this_account)
    .values({
        column: bindparam(f"new_{column}")
        for column in ("label", "daily_limit", "reserve", "window_s", "tenants", "spent", "observed_used",
                       "observed_limit", "observed_at", "blocked_until", "blocked_reason", "crm_blocked_until",
                       "margin_s", "margin_until", "updated_at")
    })
)  # fmt: skip


def _take(conn: Connection, account: dict[str, str]) -> Row[*tuple[Any, ...]] | None:
    """The account's row under its write lock (None: no row yet). A SQLite older than 3.35 has no
    UPDATE ... RETURNING: there the lock and the read are two statements in the same transaction."""
    if conn.dialect.update_returning:
        return conn.execute(_TAKE, account).one_or_none()
    if not conn.execute(_LOCK, account).rowcount:
        return None
    return conn.execute(_READ, account).one()


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
