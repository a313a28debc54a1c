"""Queries behind the delivery engine: field values, the ledger, identity links, review items, dead letters.

`record_outcome` runs as a workflow step that may run twice, so every insert here is idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from callsync.models import Extraction
from callsync.reconcile.identity import IdentityKeys
from callsync.store.db import Database
from callsync.store.tables import (
    CallRow,
    DeadLetterRow,
    FieldValueRow,
    IdentityLinkRow,
    LedgerRow,
    ReviewItemRow,
)

# Ledger rows with this policy record a reviewer's decision: the value is human-verified from then on.
REVIEWER_POLICY = "reviewer"
PAST_TENSE = {"approve": "approved", "correct": "corrected", "reject": "rejected"}


def save_field_values(db: Database, tenant: str, extraction: Extraction) -> None:
    with db.session() as session:
        session.query(FieldValueRow).filter_by(tenant=tenant, call_id=extraction.call_id).delete()
        for name, fv in extraction.fields.items():
            session.add(
                FieldValueRow(
                    tenant=tenant,
                    call_id=extraction.call_id,
                    name=name,
                    value=fv.value,
                    confidence=fv.confidence,
                    status=fv.status.value,
                    reason=fv.reason,
                    evidence=[e.to_json() for e in fv.evidence],
                    extractor=fv.extractor,
                )
            )


def linked_records(
    db: Database, tenant: str, crm: str, object_types: Sequence[str], keys: IdentityKeys
) -> dict[str, list[str]]:
    """Records callsync already linked to these keys: they cover the CRM search index's lag."""
    out: dict[str, list[str]] = {}
    wanted = keys.as_link_keys()
    if not wanted:
        return out
    with db.session() as session:
        rows = session.scalars(
            select(IdentityLinkRow).where(
                IdentityLinkRow.tenant == tenant,
                IdentityLinkRow.crm == crm,
                IdentityLinkRow.object_type.in_(object_types),
                IdentityLinkRow.key.in_(wanted),
            )
        ).all()
        for row in rows:
            out.setdefault(row.key.split(":", 1)[0], []).append(row.record_id)
    return out


@dataclass(frozen=True)
class LastWrite:
    value: Any
    observed_at: datetime | None
    confidence: float | None
    human_verified: bool


def write_history(
    db: Database, tenant: str, crm: str, object_type: str, record_id: str, call_id: str
) -> tuple[dict[str, LastWrite], dict[str, dict[str, Any]]]:
    """Per field, the last confirmed value callsync wrote to this record (and whether a reviewer verified
    it); and this call's own unconfirmed intents on the record, from an attempt whose answer was lost."""
    with db.session() as session:
        rows = session.scalars(
            select(LedgerRow)
            .where(
                LedgerRow.tenant == tenant,
                LedgerRow.crm == crm,
                LedgerRow.object_type == object_type,
                LedgerRow.record_id == record_id,
            )
            .order_by(LedgerRow.written_at, LedgerRow.id)
        ).all()
    history: dict[str, LastWrite] = {}
    intents: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.confirmed_at is not None:
            history[row.field] = LastWrite(
                row.new_value,
                _aware(row.observed_at or row.written_at),
                row.confidence,
                row.policy == REVIEWER_POLICY,
            )
        elif row.call_id == call_id:
            intents[row.field] = {
                "old": row.old_value, "new": row.new_value, "decision": row.decision,
                "canonical": row.canonical_field, "policy": row.policy, "confidence": row.confidence,
                "evidence": row.evidence,
            }  # fmt: skip
    return history, intents


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def save_intents(
    db: Database,
    tenant: str,
    crm: str,
    call_id: str,
    object_type: str,
    record_id: str,
    writes: dict[str, dict[str, Any]],
    prepared: dict[str, Any],
) -> None:
    """Record what an update is about to write, before it is sent: unconfirmed ledger rows. If the answer
    is lost, the next attempt still knows which values this call wrote and what they replaced."""
    with db.session() as session:
        for crm_field, w in writes.items():
            _upsert_ledger(
                session, tenant, crm, call_id, object_type, record_id, crm_field, w, prepared, None, None
            )


def _upsert_ledger(
    session: Session,
    tenant: str,
    crm: str,
    call_id: str,
    object_type: str,
    record_id: str,
    crm_field: str,
    w: dict[str, Any],
    prepared: dict[str, Any],
    request_id: str | None,
    confirmed_at: datetime | None,
) -> None:
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
    if row is None:
        row = LedgerRow(
            tenant=tenant, crm=crm, object_type=object_type, record_id=record_id, field=crm_field, call_id=call_id,
            integration_version=prepared["integration_version"],
            observed_at=datetime.fromisoformat(prepared["observed_at"]),
        )  # fmt: skip
        session.add(row)
    elif row.confirmed_at is not None:
        return  # confirmed rows are history: never rewritten
    row.canonical_field = w.get("canonical")
    row.old_value = w.get("old")
    row.new_value = w["new"]
    row.policy = w.get("policy") or ""
    row.decision = w["decision"]
    row.confidence = w.get("confidence")
    row.evidence = w.get("evidence") or []
    row.written_at = datetime.now(UTC)
    row.crm_request_id = request_id
    row.confirmed_at = confirmed_at


def link_identity(
    db: Database, tenant: str, crm: str, object_type: str, keys: Sequence[str], record_id: str, call_id: str
) -> None:
    with db.session() as session:
        _insert_links(session, tenant, crm, object_type, keys, record_id, call_id)


def _insert_links(
    session: Session,
    tenant: str,
    crm: str,
    object_type: str,
    keys: Sequence[str],
    record_id: str,
    call_id: str,
) -> None:
    for key in keys:
        # Two calls of one person may finish at once: the first link wins, the second is a no-op.
        insert_ignore(
            session, IdentityLinkRow,
            {"tenant": tenant, "crm": crm, "object_type": object_type, "key": key, "record_id": record_id,
             "call_id": call_id, "updated_at": datetime.now(UTC)},
        )  # fmt: skip


def insert_ignore(session: Session, model: Any, values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def _add_review(session: Session, tenant: str, call_id: str, crm: str | None, kind: str, **item: Any) -> None:
    key = f"{tenant}|{call_id}|{kind}|{item.get('field') or ''}"
    if session.scalar(select(ReviewItemRow.id).where(ReviewItemRow.dedupe_key == key)) is not None:
        return
    session.add(ReviewItemRow(dedupe_key=key, tenant=tenant, call_id=call_id, crm=crm, kind=kind, **item))


def record_outcome(
    db: Database,
    tenant: str,
    crm: str,
    call_id: str,
    workflow_id: str,
    prepared: dict[str, Any],
    outcome: dict[str, Any],
) -> str:
    """Write what the sync decided, in one transaction; returns the call's final sync state."""
    plan = prepared.get("plan") or {}
    object_type = plan.get("crm_object")
    now = datetime.now(UTC)
    with db.session() as session:
        for held in plan.get("held", []):
            _add_review(
                session, tenant, call_id, crm, "held_value",
                object_type=object_type, field=held["field"], reason=held["reason"],
                proposed_value=held["value"], current_value=None,
                detail={"canonical": held["canonical"], "confidence": held["confidence"]},
            )  # fmt: skip
        for waiting in prepared.get("waiting", []):
            _add_review(
                session, tenant, call_id, crm, "waiting_object", object_type=None, field=waiting["object"],
                reason=f"{waiting['object']} not created: {waiting['reason']}", proposed_value=None,
                current_value=None, detail={"object": waiting["object"]},
            )  # fmt: skip
        status = outcome["status"]
        if status == "confirmed":
            written_type = str(outcome.get("object_type") or object_type)  # the record's own type
            state = _record_confirmed(session, tenant, crm, call_id, written_type, prepared, outcome)
            state = _record_related(session, tenant, crm, call_id, workflow_id, prepared, outcome) or state
        elif status == "review":
            review = outcome["review"]
            _add_review(
                session, tenant, call_id, crm, review["kind"], object_type=object_type, field=None,
                reason=review["reason"], proposed_value=plan.get("identity"), current_value=None,
                detail={k: v for k, v in review.items() if k not in ("kind", "reason")},
            )  # fmt: skip
            state = "review"
        else:
            _dead_letter(session, tenant, crm, call_id, workflow_id, prepared, outcome)
            state = "dead_letter"
        call = session.scalars(select(CallRow).filter_by(tenant=tenant, call_id=call_id)).one()
        # Only the call's current workflow (or a rerun of it) says where the call stands: an older sync
        # finishing after a later event re-planned the call must not mark it done while the re-plan waits.
        if workflow_id == call.workflow_id or workflow_id.startswith(f"{call.workflow_id}:"):
            call.sync_state = state
            call.synced_at = now
    return state


def _record_related(
    session: Session,
    tenant: str,
    crm: str,
    call_id: str,
    workflow_id: str,
    prepared: dict[str, Any],
    outcome: dict[str, Any],
) -> str | None:
    """Companies and deals written after the contact. Returns a worse call state if one failed."""
    state = None
    for related in outcome.get("related", []):
        if related["status"] == "confirmed":
            for crm_field, w in related["writes"].items():
                _upsert_ledger(
                    session, tenant, crm, call_id, related["object_type"], related["record_id"], crm_field, w,
                    prepared, related.get("request_id"), datetime.fromisoformat(related["confirmed_at"]),
                )  # fmt: skip
        elif related["status"] == "review":
            review = related["review"]
            _add_review(
                session, tenant, call_id, crm, review["kind"], object_type=None, field=related["object"],
                reason=review["reason"], proposed_value=None, current_value=None, detail={"object": related["object"]},
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
    prepared: dict[str, Any],
    outcome: dict[str, Any],
) -> str:
    record_id = outcome["record_id"]
    confirmed_at = datetime.fromisoformat(outcome["confirmed_at"])
    for crm_field, w in outcome["writes"].items():
        _upsert_ledger(
            session, tenant, crm, call_id, object_type, record_id, crm_field, w, prepared,
            outcome.get("request_id"), confirmed_at,
        )  # fmt: skip
    _insert_links(session, tenant, crm, object_type, outcome.get("link_keys", []), record_id, call_id)
    for review in outcome.get("reviews", []):
        detail_keys = ("policy", "confidence", "evidence", "candidates")
        _add_review(
            session, tenant, call_id, crm, review.get("kind", "protected_field"), object_type=object_type,
            record_id=record_id, field=review["field"], reason=review["reason"], proposed_value=review["proposed"],
            current_value=review["current"], detail={k: review[k] for k in detail_keys if k in review},
        )  # fmt: skip
    return "confirmed"


def _dead_letter(
    session: Session,
    tenant: str,
    crm: str,
    call_id: str,
    workflow_id: str,
    prepared: dict[str, Any],
    outcome: dict[str, Any],
) -> None:
    exists = session.scalar(select(DeadLetterRow.id).filter_by(workflow_id=workflow_id, status="open"))
    if exists is not None:
        return
    session.add(
        DeadLetterRow(
            tenant=tenant,
            crm=crm,
            call_id=call_id,
            workflow_id=workflow_id,
            operation="upsert_contact",
            request={"plan": prepared.get("plan"), "errors": outcome.get("errors", [])},
            last_error=str(outcome.get("error", "unknown error")),
            attempts=int(outcome.get("attempts", 0)),
        )
    )


def record_review_write(
    db: Database,
    item: dict[str, Any],
    value: Any,
    decision: str,
    outcome: dict[str, Any],
    integration_version: str,
) -> None:
    """The ledger row of a reviewer's write. Its policy marks the value human-verified from now on."""
    now = datetime.now(UTC)
    w = {
        "old": outcome.get("old"),
        "new": value,
        "decision": f"{PAST_TENSE.get(decision, decision)} by a reviewer (review item {item['id']}: {item['reason']})",
        "canonical": None,
        "policy": REVIEWER_POLICY,
        "confidence": 1.0,
        "evidence": item.get("evidence") or [],
    }
    prepared = {"integration_version": integration_version, "observed_at": now.isoformat()}
    with db.session() as session:
        _upsert_ledger(
            session, item["tenant"], item["crm"] or "", f"review:{item['id']}", item["object_type"],
            item["record_id"], item["field"], w, prepared, outcome.get("request_id"),
            datetime.fromisoformat(outcome["confirmed_at"]),
        )  # fmt: skip
