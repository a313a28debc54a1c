"""Queries behind the delivery engine: field values, the ledger, identity links, review items, dead letters.

`record_outcome` runs as a workflow step that may run twice, so every insert here is idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from callsync.actions.plan import ActionRun, RunStatus
from callsync.delivery import FieldWrite, Outcome, PreparedCall, RecordLink, ReviewTarget, Status
from callsync.models import Extraction
from callsync.reconcile.fields import LastWrite
from callsync.reconcile.identity import IdentityKeys
from callsync.redaction import mask_contacts
from callsync.store.db import Database
from callsync.store.tables import (
    ActionRunRow,
    CallRow,
    DeadLetterRow,
    FieldValueRow,
    IdentityLinkRow,
    LedgerRow,
    ReviewItemRow,
    aware_utc,
    table,
)

# Ledger rows with this policy record a reviewer's decision: the value is human-verified from then on.
REVIEWER_POLICY = "reviewer"
PAST_TENSE = {"approve": "approved", "correct": "corrected", "reject": "rejected"}
# Outcomes whose writes are ledgered: confirmed by read-back, or delivered (2xx) to a target that has none.
_WRITTEN = (Status.CONFIRMED, Status.DELIVERED)

# The statements every call runs, built once (store/tables.py `table`).
_calls, _values, _ledger = table(CallRow), table(FieldValueRow), table(LedgerRow)
_links, _dead_letters = table(IdentityLinkRow), table(DeadLetterRow)
# An UPDATE's bind parameters may not take its columns' names.
_this_call = (_calls.c.tenant == bindparam("the_tenant"), _calls.c.call_id == bindparam("the_call"))
_SET_LABELS = update(_calls).where(*_this_call).values(
    intent=bindparam("new_intent"), outcome=bindparam("new_outcome"), sentiment=bindparam("new_sentiment")
)
_DROP_VALUES = delete(_values).where(
    _values.c.tenant == bindparam("tenant"), _values.c.call_id == bindparam("call_id")
)
_ADD_VALUES = insert(_values)
_LINKED = select(_links.c.key, _links.c.record_id).where(
    _links.c.tenant == bindparam("tenant"),
    _links.c.crm == bindparam("crm"),
    _links.c.object_type.in_(bindparam("object_types", expanding=True)),
    _links.c.key.in_(bindparam("keys", expanding=True)),
)
# Two calls of one person may finish at once: the first link wins, the second is a no-op.
_ADD_LINKS = {
    "sqlite": sqlite_insert(_links).on_conflict_do_nothing(),
    "postgresql": pg_insert(_links).on_conflict_do_nothing(),
}
_ADD_LEDGER = insert(_ledger)
# A call's ledger rows on one record: which fields, and whether each is confirmed (Core: no objects).
_CALLS_LEDGER = select(_ledger.c.id, _ledger.c.field, _ledger.c.confirmed_at).where(
    _ledger.c.tenant == bindparam("tenant"),
    _ledger.c.crm == bindparam("crm"),
    _ledger.c.call_id == bindparam("call_id"),
    _ledger.c.object_type == bindparam("object_type"),
    _ledger.c.record_id == bindparam("record_id"),
)
# Every ledger row of one record, oldest first: the columns `write_history` reads.
_RECORD_HISTORY = (
    select(
        _ledger.c.field, _ledger.c.call_id, _ledger.c.confirmed_at, _ledger.c.observed_at, _ledger.c.written_at,
        _ledger.c.old_value, _ledger.c.new_value, _ledger.c.decision, _ledger.c.canonical_field,
        _ledger.c.policy, _ledger.c.confidence, _ledger.c.evidence,
    )
    .where(
        _ledger.c.tenant == bindparam("tenant"),
        _ledger.c.crm == bindparam("crm"),
        _ledger.c.object_type == bindparam("object_type"),
        _ledger.c.record_id == bindparam("record_id"),
    )
    .order_by(_ledger.c.written_at, _ledger.c.id)
)  # fmt: skip
_LEDGER_ROWS = select(LedgerRow).where(LedgerRow.id.in_(bindparam("ids", expanding=True)))
_TAKEN_UP = (
    select(_dead_letters.c.id)
    .where(_dead_letters.c.workflow_id == bindparam("workflow_id"), _dead_letters.c.status != "open")
    .limit(1)
)
# Only the call's current workflow (or a rerun of it, whose id extends it after a colon) says where the call
# stands: an older sync finishing after a later event re-planned the call must not mark it done while the
# re-plan waits. One UPDATE, no row loaded.
_SET_STATE = (
    update(_calls)
    .where(*_this_call, _calls.c.workflow_id.in_(bindparam("workflows", expanding=True)))
    .values(sync_state=bindparam("new_state"), synced_at=bindparam("new_synced_at"))
)


def save_field_values_of(db: Database, calls: Sequence[tuple[str, Extraction]]) -> list[None]:
    """The extracted values of several calls (tenant, extraction), each replacing its call's earlier
    extraction's, and their labels on the call rows: one transaction of three statements, each run once for
    every call's rows (store/group_commit.py gathers the calls)."""
    if not calls:
        return []
    labels = [
        {"the_tenant": tenant, "the_call": x.call_id, "new_intent": x.intent.value,
         "new_outcome": x.outcome.value, "new_sentiment": x.sentiment.value}
        for tenant, x in calls
    ]  # fmt: skip
    # One statement for all the calls' values, and no ids read back: a flush of ORM objects costs the
    # worker more CPU than the rest of the database work of preparing a call.
    rows = [
        {"tenant": tenant, "call_id": x.call_id, "name": name, "value": fv.value,
         "confidence": fv.confidence, "status": fv.status.value, "reason": fv.reason,
         "evidence": [e.to_json() for e in fv.evidence], "extractor": fv.extractor}
        for tenant, x in calls
        for name, fv in x.fields.items()
    ]  # fmt: skip
    with db.transaction() as conn:
        conn.execute(_SET_LABELS, labels)
        conn.execute(_DROP_VALUES, [{"tenant": tenant, "call_id": x.call_id} for tenant, x in calls])
        if rows:
            conn.execute(_ADD_VALUES, rows)
    return [None] * len(calls)


def linked_records(
    db: Database, tenant: str, crm: str, object_types: Sequence[str], keys: IdentityKeys
) -> dict[str, list[str]]:
    """Records callsync already linked to these keys: they cover the CRM search index's lag."""
    return linked_records_of(db, [LinkQuery(tenant, crm, tuple(object_types), keys)])[0]


@dataclass(frozen=True)
class LinkQuery:
    """One `linked_records` question, for `linked_records_of`."""

    tenant: str
    crm: str
    object_types: tuple[str, ...]
    keys: IdentityKeys


def linked_records_of(db: Database, queries: Sequence[LinkQuery]) -> list[dict[str, list[str]]]:
    """`linked_records` for several calls in one transaction (store/group_commit.py gathers them), in order."""
    answers: list[dict[str, list[str]]] = [{} for _ in queries]
    asked = [(q, q.keys.as_link_keys(), out) for q, out in zip(queries, answers, strict=True)]
    if not any(wanted for _, wanted, _ in asked):
        return answers
    with db.transaction() as conn:
        for q, wanted, out in asked:
            if not wanted:
                continue
            rows = conn.execute(
                _LINKED,
                {"tenant": q.tenant, "crm": q.crm, "object_types": list(q.object_types), "keys": list(wanted)},
            ).all()
            for key, record_id in rows:
                out.setdefault(key.split(":", 1)[0], []).append(record_id)
    return answers


def write_history(
    db: Database, tenant: str, crm: str, object_type: str, record_id: str, call_id: str
) -> tuple[dict[str, LastWrite], dict[str, FieldWrite]]:
    """Per field, the last confirmed value callsync wrote to this record (and whether a reviewer verified
    it); and this call's own unconfirmed intents on the record, from an attempt whose answer was lost."""
    with db.transaction() as conn:
        rows = conn.execute(
            _RECORD_HISTORY, {"tenant": tenant, "crm": crm, "object_type": object_type, "record_id": record_id}
        ).all()
    history: dict[str, LastWrite] = {}
    intents: dict[str, FieldWrite] = {}
    for row in rows:
        if row.confirmed_at is not None:
            history[row.field] = LastWrite(
                row.new_value,
                aware_utc(row.observed_at or row.written_at),
                row.confidence,
                row.policy == REVIEWER_POLICY,
            )
        elif row.call_id == call_id:
            intents[row.field] = FieldWrite(
                old=row.old_value, new=row.new_value, decision=row.decision, canonical=row.canonical_field,
                policy=row.policy, confidence=row.confidence, evidence=row.evidence or [],
            )  # fmt: skip
    return history, intents


def save_intents(
    db: Database,
    tenant: str,
    crm: str,
    call_id: str,
    object_type: str,
    record_id: str,
    writes: dict[str, FieldWrite],
    prepared: PreparedCall,
) -> None:
    """Record what an update is about to write, before it is sent: unconfirmed ledger rows. If the answer
    is lost, the next attempt still knows which values this call wrote and what they replaced."""
    with db.session() as session:
        for crm_field, w in writes.items():
            _upsert_ledger(
                session, tenant, crm, call_id, object_type, record_id, crm_field, w,
                _Provenance(prepared.integration_version, prepared.observed_at),
            )  # fmt: skip


@dataclass(frozen=True)
class _Provenance:
    integration_version: str
    observed_at: datetime | None


@dataclass(frozen=True)
class _WriteTimes:
    request_id: str | None = None
    sent_at: datetime | None = None
    acknowledged_at: datetime | None = None
    confirmed_at: datetime | None = None

    @staticmethod
    def of(outcome: Outcome) -> _WriteTimes:
        return _WriteTimes(outcome.request_id, outcome.sent_at, outcome.acknowledged_at, outcome.confirmed_at)


@dataclass(frozen=True)
class _Reviewed:
    reviewer: str | None
    reviewed_at: datetime
    review_item_id: int
    origin_call_id: str | None


def _upsert_ledger(
    session: Session,
    tenant: str,
    crm: str,
    call_id: str,
    object_type: str,
    record_id: str,
    crm_field: str,
    w: FieldWrite,
    provenance: _Provenance,
    times: _WriteTimes | None = None,
    reviewed: _Reviewed | None = None,
    existing: Mapping[str, LedgerRow] | None = None,
    new_rows: list[dict[str, Any]] | None = None,
) -> None:
    """`existing`: the record's rows of this call by field, read once for all of an outcome's fields.
    `new_rows`: a row not there yet is appended here for the caller to insert with the others in one
    statement, instead of being added to the session."""
    if existing is not None:
        row = existing.get(crm_field)
    else:
        row = session.scalars(
            select(LedgerRow).filter_by(
                tenant=tenant,
                crm=crm,
                call_id=call_id,
                object_type=object_type,
                record_id=record_id,
                field=crm_field,
            )
        ).one_or_none()
    if row is not None and row.confirmed_at is not None:
        return  # confirmed rows are history: never rewritten
    times = times or _WriteTimes()
    values: dict[str, Any] = {
        "canonical_field": w.canonical, "old_value": w.old, "new_value": w.new, "policy": w.policy,
        "decision": w.decision, "confidence": w.confidence, "evidence": list(w.evidence),
        "written_at": datetime.now(UTC), "crm_request_id": times.request_id, "sent_at": times.sent_at,
        "acknowledged_at": times.acknowledged_at, "confirmed_at": times.confirmed_at,
    }  # fmt: skip
    if reviewed is not None:
        values |= {
            "reviewer": reviewed.reviewer, "reviewed_at": reviewed.reviewed_at,
            "review_item_id": reviewed.review_item_id, "origin_call_id": reviewed.origin_call_id,
        }  # fmt: skip
    if row is None:
        values |= {
            "tenant": tenant, "crm": crm, "object_type": object_type, "record_id": record_id,
            "field": crm_field, "call_id": call_id, "integration_version": provenance.integration_version,
            "observed_at": provenance.observed_at,
        }  # fmt: skip
        if new_rows is not None:
            new_rows.append(values)
        else:
            session.add(LedgerRow(**values))
        return
    for name, value in values.items():
        setattr(row, name, value)


@dataclass(frozen=True)
class IdentityLink:
    """A confirmed record's identity keys, for `link_identities`."""

    tenant: str
    crm: str
    object_type: str
    keys: tuple[str, ...]
    record_id: str
    call_id: str


def link_identities(db: Database, links: Sequence[IdentityLink]) -> list[None]:
    """Link each confirmed record to its keys, for several calls in one transaction (store/group_commit.py
    gathers them); the first link of a key wins."""
    if any(link.keys for link in links):
        with db.transaction() as conn:
            for link in links:
                _insert_links(conn, link.tenant, link.crm, link.object_type, link.keys, link.record_id, link.call_id)
    return [None] * len(links)


def _insert_links(
    session: Session | Connection,
    tenant: str,
    crm: str,
    object_type: str,
    keys: Sequence[str],
    record_id: str,
    call_id: str,
) -> None:
    if not keys:
        return
    now = datetime.now(UTC)
    rows = [
        {"tenant": tenant, "crm": crm, "object_type": object_type, "key": key, "record_id": record_id,
         "call_id": call_id, "updated_at": now}
        for key in dict.fromkeys(keys)
    ]  # fmt: skip
    # An executemany of one compiled statement: a multi-row VALUES is compiled afresh for each call, which
    # cost the worker more CPU than the round trips it saves.
    session.execute(_ADD_LINKS[_dialect(session)], rows)


def _dialect(session: Session | Connection) -> str:
    return (session.get_bind() if isinstance(session, Session) else session).dialect.name


def insert_ignore(session: Session | Connection, model: Any, values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""
    insert = sqlite_insert if _dialect(session) == "sqlite" else pg_insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def _add_review(session: Session, tenant: str, call_id: str, crm: str | None, kind: str, **item: Any) -> None:
    key = f"{tenant}|{call_id}|{kind}|{item.get('field') or ''}"
    if session.scalar(select(ReviewItemRow.id).where(ReviewItemRow.dedupe_key == key)) is not None:
        return
    # A reason is shown in lists and logs: it never carries an email or phone (docs/privacy.md).
    item["reason"] = mask_contacts(str(item.get("reason") or ""))
    session.add(ReviewItemRow(dedupe_key=key, tenant=tenant, call_id=call_id, crm=crm, kind=kind, **item))


def record_outcome(
    db: Database,
    tenant: str,
    crm: str,
    call_id: str,
    workflow_id: str,
    prepared: PreparedCall,
    outcome: Outcome,
) -> str:
    """Write what the sync decided, in one transaction; returns the call's final sync state."""
    return record_outcomes(db, [OutcomeToRecord(tenant, crm, call_id, workflow_id, prepared, outcome)])[0]


@dataclass(frozen=True)
class OutcomeToRecord:
    """One call's `record_outcome` arguments, for `record_outcomes`."""

    tenant: str
    crm: str
    call_id: str
    workflow_id: str
    prepared: PreparedCall
    outcome: Outcome


def record_outcomes(db: Database, outcomes: Sequence[OutcomeToRecord]) -> list[str]:
    """`record_outcome` for several calls in one transaction (store/group_commit.py gathers them): each
    call's writes as its own, one commit for all. Their final sync states, in order."""
    with db.session() as session:
        return [_record_outcome_in(session, o) for o in outcomes]


def _record_outcome_in(session: Session, to_record: OutcomeToRecord) -> str:
    """One call's `record_outcome` inside the group's transaction."""
    tenant, crm, call_id, workflow_id = to_record.tenant, to_record.crm, to_record.call_id, to_record.workflow_id
    prepared, outcome = to_record.prepared, to_record.outcome
    plan = prepared.plan
    object_type = plan.crm_object if plan else None
    provenance = _Provenance(prepared.integration_version, prepared.observed_at)
    now = datetime.now(UTC)
    # DBOS re-runs a finish whose checkpoint was not saved (the worker stopped right after it committed).
    # If this workflow's dead letter has since been taken up (replayed, resolved, discarded), that re-run
    # must neither reopen it nor move the call, which a replay may already be syncing.
    taken_up = session.scalar(_TAKEN_UP, {"workflow_id": workflow_id})
    if taken_up is not None:
        return session.scalars(select(CallRow.sync_state).filter_by(tenant=tenant, call_id=call_id)).one()
    for held in plan.held if plan else []:
        _add_review(
            session, tenant, call_id, crm, "held_value",
            object_type=object_type, field=held.field, reason=held.reason,
            proposed_value=held.value, current_value=None,
            detail={"canonical": held.canonical, "confidence": held.confidence},
        )  # fmt: skip
    for waiting in prepared.waiting:
        _add_review(
            session, tenant, call_id, crm, "waiting_object", object_type=None, field=waiting.object,
            reason=f"{waiting.object} not created: {waiting.reason}", proposed_value=None,
            current_value=None, detail={"object": waiting.object},
        )  # fmt: skip
    if outcome.status in _WRITTEN and outcome.record_id:
        written_type = outcome.object_type or object_type or ""  # the record's own type
        state = _record_confirmed(session, tenant, crm, call_id, written_type, provenance, outcome)
        # A target that cannot be read back (a webhook) accepted it: delivered, not confirmed.
        state = "delivered" if outcome.status is Status.DELIVERED else state
        state = _record_related(session, tenant, crm, call_id, workflow_id, prepared, outcome) or state
        state = _record_actions(session, tenant, crm, call_id, workflow_id, prepared, outcome) or state
        if outcome.rejected_fields:
            # The good fields are written and ledgered; the fields the CRM does not have are a dead
            # letter of their own, naming them, and the call is not fully synced.
            names = ", ".join(sorted(outcome.rejected_fields))
            error = f"the CRM has no field {names} on {written_type}: " + next(
                iter(outcome.rejected_fields.values())
            )
            rejected = outcome.model_copy(
                update={"error": error, "errors": [error], "attempts": 1, "object": "fields"}
            )
            _dead_letter(session, tenant, crm, call_id, workflow_id, prepared, rejected)
            state = "dead_letter"
    elif outcome.status is Status.REVIEW and outcome.review is not None:
        review = outcome.review
        identity = plan.identity.model_dump(mode="json") if plan else None
        _add_review(
            session, tenant, call_id, crm, review.kind, object_type=object_type, field=None,
            reason=review.reason, proposed_value=identity, current_value=None,
            detail={"candidates": review.candidates} if review.candidates else {},
        )  # fmt: skip
        state = "review"
    else:
        _dead_letter(session, tenant, crm, call_id, workflow_id, prepared, outcome)
        state = "dead_letter"
    session.execute(
        _SET_STATE,
        {"the_tenant": tenant, "the_call": call_id, "workflows": workflow_and_parents(workflow_id),
         "new_state": state, "new_synced_at": now},
    )  # fmt: skip
    return state


def workflow_and_parents(workflow_id: str) -> list[str]:
    """The id and every prefix of it that ends before a colon: "a:b:c" -> ["a:b:c", "a:b", "a"]."""
    parts = workflow_id.split(":")
    return [":".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _record_related(
    session: Session,
    tenant: str,
    crm: str,
    call_id: str,
    workflow_id: str,
    prepared: PreparedCall,
    outcome: Outcome,
) -> str | None:
    """Companies and deals written after the contact. Returns a worse call state if one failed."""
    state = None
    provenance = _Provenance(prepared.integration_version, prepared.observed_at)
    for related in outcome.related:
        if related.status in _WRITTEN and related.record_id:
            for crm_field, w in related.writes.items():
                _upsert_ledger(
                    session, tenant, crm, call_id, related.object_type or "", related.record_id, crm_field, w,
                    provenance, _WriteTimes.of(related),
                )  # fmt: skip
        elif related.status is Status.REVIEW and related.review is not None:
            _add_review(
                session, tenant, call_id, crm, related.review.kind, object_type=None, field=related.object,
                reason=related.review.reason, proposed_value=None, current_value=None,
                detail={"object": related.object},
            )  # fmt: skip
        else:
            _dead_letter(session, tenant, crm, call_id, workflow_id, prepared, related)
            state = "dead_letter"  # the call is not fully synced until its replay completes
    return state


def _record_confirmed(
    session: Session,
    tenant: str,
    crm: str,
    call_id: str,
    object_type: str,
    provenance: _Provenance,
    outcome: Outcome,
) -> str:
    record_id = outcome.record_id or ""
    # One read of the rows already there and one statement for the new ones (not a query per field). Most
    # calls have none there, or only confirmed ones (history, never rewritten): ORM rows are loaded only for
    # the unconfirmed intents an earlier attempt left, which this outcome completes.
    there = session.execute(
        _CALLS_LEDGER,
        {"tenant": tenant, "crm": crm, "call_id": call_id, "object_type": object_type, "record_id": record_id},
    ).all()
    confirmed = {field for _, field, confirmed_at in there if confirmed_at is not None}
    pending = [row_id for row_id, _, confirmed_at in there if confirmed_at is None]
    existing = (
        {row.field: row for row in session.scalars(_LEDGER_ROWS, {"ids": pending})} if pending else {}
    )
    new_rows: list[dict[str, Any]] = []
    with session.no_autoflush:
        for crm_field, w in outcome.writes.items():
            if crm_field in confirmed:
                continue
            _upsert_ledger(
                session,
                tenant,
                crm,
                call_id,
                object_type,
                record_id,
                crm_field,
                w,
                provenance,
                _WriteTimes.of(outcome),
                existing=existing,
                new_rows=new_rows,
            )
    if new_rows:
        # One statement, no ids read back (an ORM flush of these rows was the step's costliest part).
        session.execute(_ADD_LEDGER, new_rows)
    if outcome.status is not Status.CONFIRMED:
        # A confirmed write's keys were linked by its attempt, under the identity lock (pipeline/engine.py).
        _insert_links(session, tenant, crm, object_type, outcome.link_keys, record_id, call_id)
    for review in outcome.reviews:
        detail: dict[str, Any] = {
            "policy": review.policy,
            "confidence": review.confidence,
            "evidence": review.evidence,
        }
        if review.candidates:
            detail["candidates"] = review.candidates
        _add_review(
            session, tenant, call_id, crm, review.kind, object_type=object_type,
            record_id=record_id, field=review.field, reason=review.reason, proposed_value=review.proposed,
            current_value=review.current, detail={k: v for k, v in detail.items() if v is not None},
        )  # fmt: skip
    return "confirmed"


def _dead_letter(
    session: Session,
    tenant: str,
    crm: str,
    call_id: str,
    workflow_id: str,
    prepared: PreparedCall,
    outcome: Outcome,
) -> None:
    exists = session.scalar(select(DeadLetterRow.id).filter_by(workflow_id=workflow_id, status="open"))
    if exists is not None:
        return
    plan = prepared.plan.model_dump(mode="json") if prepared.plan else None
    session.add(
        DeadLetterRow(
            tenant=tenant,
            crm=crm,
            call_id=call_id,
            workflow_id=workflow_id,
            operation="upsert_contact" if outcome.object is None else f"upsert_{outcome.object}",
            request={"plan": plan, "errors": outcome.errors},
            last_error=mask_contacts(outcome.error or "unknown error"),
            attempts=outcome.attempts,
        )
    )


def record_review_write(
    db: Database,
    target: ReviewTarget,
    value: Any,
    decision: str,
    outcome: Outcome,
    integration_version: str,
    reviewer: str | None = None,
) -> None:
    """The ledger row of a reviewer's write. Its policy marks the value human-verified from now on. It keeps
    the call the value was heard in (and its evidence), who decided and when."""
    now = datetime.now(UTC)
    old = outcome.writes[target.field].old if target.field in outcome.writes else None
    w = FieldWrite(
        old=old,
        new=value,
        decision=f"{PAST_TENSE.get(decision, decision)} by a reviewer (review item {target.id}: {target.reason})",
        policy=REVIEWER_POLICY,
        confidence=1.0,
        evidence=target.evidence,
    )
    with db.session() as session:
        _upsert_ledger(
            session, target.tenant, target.crm, f"review:{target.id}", target.object_type, target.record_id,
            target.field, w, _Provenance(integration_version, now), _WriteTimes.of(outcome),
            _Reviewed(reviewer, now, target.id, target.call_id),
        )  # fmt: skip


# -- workflow actions (docs/actions.md) ---------------------------------------------------------------


def _record_actions(
    session: Session,
    tenant: str,
    crm: str,
    call_id: str,
    workflow_id: str,
    prepared: PreparedCall,
    outcome: Outcome,
) -> str | None:
    """One ledger row per action (unique on its stamp); a review item for each doubtful one; a dead letter
    for one that failed for good. Returns a worse call state if one failed."""
    state = None
    for run in outcome.actions:
        row = _upsert_action(session, tenant, crm, call_id, prepared.integration_version, run)
        if run.status is RunStatus.REVIEW and row.status == RunStatus.REVIEW.value:
            planned = run.planned
            _add_review(
                session, tenant, call_id, crm, "action", object_type=None, field=planned.rule,
                reason=planned.question or f"{planned.kind.value} waits for a person",
                proposed_value={"action": planned.kind.value, "title": planned.title,
                                "due_at": planned.due_at.isoformat() if planned.due_at else None},
                current_value=None,
                detail={"stamp": run.stamp, "doubts": list(planned.doubts), "run": run.model_dump(mode="json")},
            )  # fmt: skip
            session.flush()
            item_id = session.scalar(
                select(ReviewItemRow.id).where(
                    ReviewItemRow.dedupe_key == f"{tenant}|{call_id}|action|{planned.rule}"
                )
            )
            row.review_item_id = item_id
        elif run.status is RunStatus.DEAD_LETTER and row.status == RunStatus.DEAD_LETTER.value:
            failed = outcome.model_copy(
                update={"object": f"action:{run.planned.rule}", "error": run.error, "attempts": run.attempts,
                        "errors": [run.error or "unknown error"]}
            )  # fmt: skip
            _dead_letter(session, tenant, crm, call_id, workflow_id, prepared, failed)
            state = "dead_letter"
    return state


def _upsert_action(
    session: Session, tenant: str, crm: str, call_id: str, integration_version: str, run: ActionRun
) -> ActionRunRow:
    row = session.scalars(select(ActionRunRow).filter_by(tenant=tenant, stamp=run.stamp)).one_or_none()
    if row is None:
        row = ActionRunRow(
            tenant=tenant, crm=crm, call_id=call_id, rule=run.planned.rule, action=run.planned.kind.value,
            stamp=run.stamp, status=run.status.value, planned={}, attempts=0,
            integration_version=integration_version, created_at=datetime.now(UTC),
        )  # fmt: skip
        session.add(row)
    elif row.status in (RunStatus.CONFIRMED.value, RunStatus.DROPPED.value):
        return row  # done or dropped: history, never rewritten (a replay finds the object by its stamp)
    elif row.status == RunStatus.REVIEW.value and run.status is RunStatus.REVIEW:
        return row  # still waiting for the same person's decision
    row.status = run.status.value
    row.result = run.result
    row.person_id = run.person_id
    row.object_type = run.object_type
    row.record_id = run.record_id
    row.planned = run.planned.model_dump(mode="json")
    row.detail = run.detail or None
    row.error = mask_contacts(run.error) if run.error else None
    row.attempts = run.attempts
    row.crm_request_id = run.request_id
    row.confirmed_at = run.confirmed_at
    return row


def open_action_records(
    db: Database, tenant: str, crm: str, rule: str, person_id: str, stamp: str
) -> list[RecordLink]:
    """Objects earlier calls' runs of this rule created for this person (once_open: one still open in the
    CRM means no new one)."""
    with db.session() as session:
        rows = session.scalars(
            select(ActionRunRow).where(
                ActionRunRow.tenant == tenant, ActionRunRow.crm == crm, ActionRunRow.rule == rule,
                ActionRunRow.person_id == person_id, ActionRunRow.stamp != stamp,
                ActionRunRow.status == RunStatus.CONFIRMED.value, ActionRunRow.record_id.is_not(None),
            ).order_by(ActionRunRow.id.desc()).limit(20)
        ).all()  # fmt: skip
        return [RecordLink(object_type=r.object_type or "", record_id=r.record_id or "") for r in rows]


def call_row(db: Database, tenant: str, call_id: str) -> CallRow:
    with db.session() as session:
        return session.scalars(select(CallRow).filter_by(tenant=tenant, call_id=call_id)).one()


def record_action_decision(
    db: Database, tenant: str, run: ActionRun, reviewer: str | None, item_id: int, integration_version: str
) -> None:
    """A reviewer's decision on a doubtful action: confirmed (approved or corrected, then done) or dropped."""
    with db.session() as session:
        row = session.scalars(select(ActionRunRow).filter_by(tenant=tenant, stamp=run.stamp)).one_or_none()
        if row is None:
            row = ActionRunRow(
                tenant=tenant, crm="", call_id="", rule=run.planned.rule, action=run.planned.kind.value,
                stamp=run.stamp, status=run.status.value, planned={}, attempts=0,
                integration_version=integration_version,
            )  # fmt: skip
            session.add(row)
        if row.status in (RunStatus.CONFIRMED.value, RunStatus.DROPPED.value):
            return
        row.status = run.status.value
        row.result = run.result
        row.object_type = run.object_type
        row.record_id = run.record_id
        row.planned = run.planned.model_dump(mode="json")
        row.detail = run.detail or None
        row.crm_request_id = run.request_id
        row.confirmed_at = run.confirmed_at
        row.reviewer = reviewer
        row.review_item_id = item_id
        row.decided_at = datetime.now(UTC)


def drop_action(db: Database, item_id: int, reviewer: str | None) -> None:
    """A rejected doubtful action: dropped, and ledgered as such (nothing is ever done for it)."""
    with db.session() as session:
        row = session.scalars(select(ActionRunRow).filter_by(review_item_id=item_id)).one_or_none()
        if row is not None and row.status == RunStatus.REVIEW.value:
            row.status = RunStatus.DROPPED.value
            row.reviewer = reviewer
            row.decided_at = datetime.now(UTC)


def action_runs(db: Database, tenant: str, call_id: str) -> list[ActionRunRow]:
    with db.session() as session:
        return list(
            session.scalars(
                select(ActionRunRow).filter_by(tenant=tenant, call_id=call_id).order_by(ActionRunRow.id)
            ).all()
        )
