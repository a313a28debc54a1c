"""The dead-letter queue: what could not be written, why, and replaying it.

A dead letter keeps the call's plan (what callsync meant to write), the errors of its last attempts and
the attempt count. Replaying one re-runs the call's sync workflow from its first step (extraction
included, so a fixed bug or a fixed mapping takes effect) under a fresh workflow id,
`sync:<tenant>:<call>:replay<dead letter id>`. The new workflow is enqueued in the same transaction that
puts the call back to `queued` and the dead letter to `replaying`, on the call's own queue partition, so
it is serialized with the caller's other calls. A replay can never double a write: every attempt first
looks for what an earlier attempt left (the origin-call stamp, the unique email, identity links).

Replaying is the pipeline's (`pipeline/replay.py`); this module reads and settles dead letters.

Dead-letter states: `open` → `replaying` → `resolved` (the call is confirmed, or went to review) or
`replayed` (it failed again: a new open dead letter holds the new errors). `settle_replays` moves
`replaying` rows on once their call's sync has finished; every command of `callsync dlq` calls it.
An open dead letter may also be `discarded` by a person, with a reason: the row stays for audit (who, when,
why, in `request["discarded"]`), and a call with no other open dead letter is `closed`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from callsync.store.calls import DEAD_LETTER, close_if_settled
from callsync.store.db import Database
from callsync.store.tables import CallRow, DeadLetterRow, aware_utc

OPEN, REPLAYING, RESOLVED, REPLAYED, DISCARDED = "open", "replaying", "resolved", "replayed", "discarded"
STATUSES = (OPEN, REPLAYING, RESOLVED, REPLAYED, DISCARDED)


@dataclass(frozen=True)
class DeadLetter:
    id: int
    tenant: str
    crm: str
    call_id: str
    workflow_id: str
    operation: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    request: dict[str, Any]
    call_state: str | None

    @property
    def replay_workflow_id(self) -> str:
        return replay_workflow_id(self.workflow_id, self.id)

    @property
    def discarded(self) -> dict[str, Any] | None:
        """Who discarded it, when and why (None unless discarded)."""
        found = self.request.get("discarded")
        return dict(found) if isinstance(found, dict) else None

    def replay_command(self) -> str:
        tenant_file = "" if self.tenant == "demo" else f" --tenant-file <{self.tenant}.yaml>"
        return f"callsync dlq replay {self.id}{tenant_file}"

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "tenant": self.tenant,
            "crm": self.crm,
            "call_id": self.call_id,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "call_state": self.call_state,
            "replay": self.replay_command(),
            "discarded": self.discarded,
        }
        if full:
            out |= {"workflow_id": self.workflow_id, "operation": self.operation, "request": self.request}
        return out


def replay_workflow_id(workflow_id: str, dead_letter_id: int) -> str:
    """A replay of a replay stays one level deep: `<sync id>:replay<dead letter>`."""
    return f"{re.sub(r'(:replay[0-9]+)+$', '', workflow_id)}:replay{dead_letter_id}"


def _load(row: DeadLetterRow, call_state: str | None) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        tenant=row.tenant,
        crm=row.crm,
        call_id=row.call_id,
        workflow_id=row.workflow_id,
        operation=row.operation,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=aware_utc(row.created_at),
        request=dict(row.request or {}),
        call_state=call_state,
    )


def _dead_letter_filters(
    status: str | None, tenant: str | None, tenants: Collection[str] | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if status is not None:
        where.append(DeadLetterRow.status == status)
    if tenant is not None:
        where.append(DeadLetterRow.tenant == tenant)
    if tenants is not None:
        where.append(DeadLetterRow.tenant.in_(list(tenants)))
    return where


def list_dead_letters(
    db: Database,
    *,
    status: str | None = OPEN,
    tenant: str | None = None,
    tenants: Collection[str] | None = None,
    limit: int | None = None,
) -> list[DeadLetter]:
    """Dead letters, oldest first; `status=None` lists every state; `tenants` limits them to a user's
    tenants (None: all), `limit` to the oldest that many."""
    query = (
        select(DeadLetterRow, CallRow.sync_state)
        .outerjoin(
            CallRow, (CallRow.tenant == DeadLetterRow.tenant) & (CallRow.call_id == DeadLetterRow.call_id)
        )
        .where(*_dead_letter_filters(status, tenant, tenants))
        .order_by(DeadLetterRow.id)
        .limit(limit)
    )
    with db.session() as session:
        return [_load(row, state) for row, state in session.execute(query).all()]


def count_dead_letters(
    db: Database, *, status: str | None = OPEN, tenants: Collection[str] | None = None
) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(DeadLetterRow)
                .where(*_dead_letter_filters(status, None, tenants))
            )
            or 0
        )


def get_dead_letter(db: Database, dead_letter_id: int) -> DeadLetter | None:
    with db.session() as session:
        found = session.execute(
            select(DeadLetterRow, CallRow.sync_state)
            .outerjoin(
                CallRow, (CallRow.tenant == DeadLetterRow.tenant) & (CallRow.call_id == DeadLetterRow.call_id)
            )
            .where(DeadLetterRow.id == dead_letter_id)
        ).first()
    return _load(found[0], found[1]) if found else None


@dataclass(frozen=True)
class Settled:
    dead_letter_id: int
    call_id: str
    status: str  # resolved | replayed
    call_state: str
    new_dead_letter: int | None = None
    error: str | None = None


def settle_replays(db: Database) -> list[Settled]:
    """Move `replaying` dead letters whose call's sync has finished to `resolved` or `replayed`."""
    settled: list[Settled] = []
    with db.session() as session:
        rows = session.execute(
            select(DeadLetterRow, CallRow.sync_state)
            .join(
                CallRow, (CallRow.tenant == DeadLetterRow.tenant) & (CallRow.call_id == DeadLetterRow.call_id)
            )
            .where(DeadLetterRow.status == REPLAYING)
        ).all()
        for row, state in rows:
            if state == "queued":
                continue
            if state == "dead_letter":
                newer = session.scalars(
                    select(DeadLetterRow).where(
                        DeadLetterRow.tenant == row.tenant,
                        DeadLetterRow.call_id == row.call_id,
                        DeadLetterRow.id > row.id,
                        DeadLetterRow.status == OPEN,
                    )
                ).first()
                row.status = REPLAYED
                settled.append(
                    Settled(row.id, row.call_id, REPLAYED, state, newer.id if newer else None,
                            newer.last_error if newer else None)
                )  # fmt: skip
            else:
                row.status = RESOLVED
                settled.append(Settled(row.id, row.call_id, RESOLVED, state))
    return settled


def call_states(db: Database, tenant_calls: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The sync state of each (tenant, call id)."""
    wanted = set(tenant_calls)
    if not wanted:
        return {}
    with db.session() as session:
        rows = session.execute(
            select(CallRow.tenant, CallRow.call_id, CallRow.sync_state).where(
                CallRow.call_id.in_({c for _, c in wanted})
            )
        ).all()
    return {(t, c): s for t, c, s in rows if (t, c) in wanted}


def discard_dead_letter(db: Database, dead_letter_id: int, reason: str, by: str) -> DeadLetter | None:
    """Give up on an open dead letter, with a reason. Nothing is deleted: the row becomes `discarded` with who,
    when and why; the call, if nothing else of it is open, becomes `closed`. None: no such dead letter.
    Raises ValueError when the dead letter is not open."""
    with db.session() as session:
        row = session.get(DeadLetterRow, dead_letter_id, with_for_update=True)
        if row is None:
            return None
        if row.status != OPEN:
            raise ValueError(f"dead letter {dead_letter_id} is {row.status}, not open")
        row.status = DISCARDED
        row.request = {
            **(row.request or {}),
            "discarded": {"reason": reason, "by": by, "at": datetime.now(UTC).isoformat()},
        }
        session.flush()
        close_if_settled(session, row.tenant, row.call_id, DEAD_LETTER)
    return get_dead_letter(db, dead_letter_id)


def tenants_of(db: Database, dead_letter_ids: list[int]) -> set[str]:
    """The tenants these dead letters belong to."""
    with db.session() as session:
        return set(session.scalars(select(DeadLetterRow.tenant).where(DeadLetterRow.id.in_(dead_letter_ids))))
