"""Retention and erasure queries (docs/privacy.md). SQLite and PostgreSQL alike; DBOS's tables are reached
with plain SQL (schema `dbos` on PostgreSQL, no prefix on SQLite), never through DBOS.

- Retention: a call older than the tenant's `payloads` limit keeps only its transcript (the raw payload
  becomes the generic call JSON, later events are dropped); older than `transcripts`, the words are removed
  too, and every ledger row of the call keeps a keyed hash of its evidence sentence instead.
- Erasure: everything callsync stored about one person is deleted (calls, events, field values, review
  items, identity links, dead letters, quarantined payloads, the DBOS rows of their syncs); ledger rows stay,
  their values and sentences replaced by keyed hashes.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, delete, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from callsync.capture.platforms import record_from_payloads
from callsync.capture.platforms.generic import parse_generic_call
from callsync.errors import InputError
from callsync.models import CallRecord, Turn
from callsync.redaction import keyed_hash, sentence_around
from callsync.store.db import Database
from callsync.store.ledger import insert_ignore
from callsync.store.tables import (
    CallEventRow,
    CallRow,
    DeadLetterRow,
    FieldValueRow,
    IdentityLinkRow,
    LedgerRow,
    PrivacyEventRow,
    PrivacyKeyRow,
    QuarantineRow,
    ReviewItemRow,
)

KEY_NAME = "redaction"
ERASED = "[erased]"
# A sync still running needs its call: retention skips it, erasure refuses to start.
_UNFINISHED_CALL_STATES = ("received", "queued")
_DBOS_DONE = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")
# At most this many calls per retention run (the scheduled job comes back for the rest).
RETENTION_BATCH = 500


class ErasureRefused(Exception):
    """The person's data cannot be erased now (a sync of one of their calls is still running)."""


def install_key(session: Session) -> bytes:
    """This install's HMAC key for redaction hashes, created on first use (and kept in the database, so a
    hash means the same on every worker)."""
    insert_ignore(session, PrivacyKeyRow, {"name": KEY_NAME, "secret": secrets.token_hex(32),
                                           "created_at": datetime.now(UTC)})  # fmt: skip
    secret = session.scalar(select(PrivacyKeyRow.secret).where(PrivacyKeyRow.name == KEY_NAME))
    assert secret is not None
    return bytes.fromhex(secret)


# --------------------------------------------------------------------------------------------- the transcript


def _record_of(row: CallRow, later: Sequence[str]) -> CallRecord | None:
    """The call as the engine reads it; None for a payload no adapter reads any more."""
    try:
        if row.payload_format is None and not later:
            return parse_generic_call(json.loads(row.raw_payload), tenant=row.tenant)
        return record_from_payloads(row.payload_format, [row.raw_payload, *later], row.tenant)
    except (InputError, ValueError, KeyError, TypeError):
        return None


def _turns_of(row: CallRow, later: Sequence[str]) -> list[Turn]:
    record = _record_of(row, later)
    return list(record.turns) if record else []


def _generic_payload(row: CallRow, turns: Sequence[Turn], removed: str | None, timezone: str | None = None) -> str:
    """The call as generic call JSON with its words and nothing else the platform sent (analysis, recording
    URL, metadata). `removed`: the turns keep their speakers and times, their text is gone."""
    out: dict[str, Any] = {
        "call_id": row.call_id,
        "platform": row.platform,
        "direction": row.direction,
        "from": row.from_number,
        "to": row.to_number,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "timezone": timezone,  # relative dates ("next Tuesday") keep resolving the same way
        "turns": [
            {"speaker": str(t.speaker), "text": "" if removed else t.text, "start": t.start, "end": t.end}
            for t in turns
        ],
    }
    if removed:
        out["transcript_removed_by"] = removed
    return json.dumps({k: v for k, v in out.items() if v is not None}, ensure_ascii=False)


def hash_evidence(key: bytes, turns: Sequence[Turn], evidence: Iterable[Any], by: str) -> list[Any]:
    """Evidence with each quoted sentence replaced by its keyed hash (the span stays: which turn, where)."""
    out: list[Any] = []
    for ev in evidence:
        if not isinstance(ev, dict) or ev.get("source", "transcript") != "transcript" or "removed_by" in ev:
            out.append(ev)
            continue
        turn = int(ev.get("turn", -1))
        new = {k: v for k, v in ev.items() if k in ("turn", "start", "end", "source")}
        if 0 <= turn < len(turns):
            sentence, _s, _e = sentence_around(turns[turn].text, int(ev["start"]), int(ev["end"]))
            new["sentence_hmac"] = keyed_hash(key, sentence)
        new["removed_by"] = by
        out.append(new)
    return out


def _later_payloads(session: Session, tenant: str, call_id: str) -> list[str]:
    return list(
        session.scalars(
            select(CallEventRow.payload)
            .where(CallEventRow.tenant == tenant, CallEventRow.call_id == call_id)
            .order_by(CallEventRow.received_at, CallEventRow.id)
        )
    )


def _ledger_of_calls(session: Session, tenant: str, call_ids: Sequence[str]) -> list[LedgerRow]:
    if not call_ids:
        return []
    return list(
        session.scalars(
            select(LedgerRow).where(
                LedgerRow.tenant == tenant,
                or_(LedgerRow.call_id.in_(call_ids), LedgerRow.origin_call_id.in_(call_ids)),
            )
        )
    )


# ---------------------------------------------------------------------------------------------- retention


@dataclass(frozen=True)
class RetentionCounts:
    payloads: int = 0  # raw payloads reduced to the transcript
    events: int = 0  # later platform events deleted with them
    transcripts: int = 0  # calls whose words were removed
    ledger_rows: int = 0  # ledger rows whose evidence sentence became a keyed hash
    quarantine: int = 0  # quarantined payloads deleted
    sync_records: int = 0  # DBOS rows of finished syncs deleted (they hold the call's plan)

    def total(self) -> int:
        return sum(vars(self).values())


def apply_retention(
    db: Database,
    tenant: str,
    *,
    payloads_before: datetime | None,
    transcripts_before: datetime | None,
    dry_run: bool = False,
    actor: str = "retention",
) -> RetentionCounts:
    """Apply one tenant's limits to calls received before the given times (None: kept forever). Bounded:
    at most RETENTION_BATCH calls of each kind per run. Records the run (counts only) unless dry."""
    now = datetime.now(UTC)
    counts: dict[str, int] = dict.fromkeys(vars(RetentionCounts()), 0)
    with db.session() as session:
        _secure_delete(session)
        key = install_key(session)
        done = CallRow.sync_state.not_in(_UNFINISHED_CALL_STATES)
        if payloads_before is not None:
            rows = session.scalars(
                select(CallRow)
                .where(CallRow.tenant == tenant, CallRow.received_at < payloads_before, done,
                       CallRow.payload_removed_at.is_(None))
                .order_by(CallRow.id)
                .limit(RETENTION_BATCH)
            ).all()
            for row in rows:
                later = _later_payloads(session, tenant, row.call_id)
                counts["payloads"] += 1
                counts["events"] += len(later)
                if dry_run:
                    continue
                record = _record_of(row, later)
                removed = "retention" if row.transcript_removed_at is not None else None
                row.raw_payload = _generic_payload(row, record.turns if record else (), removed,
                                                   record.timezone if record else None)  # fmt: skip
                row.payload_format = None
                row.payload_removed_at = now
                session.execute(
                    delete(CallEventRow).where(CallEventRow.tenant == tenant, CallEventRow.call_id == row.call_id)
                )
            stale = select(QuarantineRow.id).where(
                QuarantineRow.tenant == tenant, QuarantineRow.received_at < payloads_before
            )
            counts["quarantine"] = len(session.scalars(stale).all())
            if not dry_run:
                session.execute(delete(QuarantineRow).where(QuarantineRow.id.in_(stale)))
        if transcripts_before is not None:
            rows = session.scalars(
                select(CallRow)
                .where(CallRow.tenant == tenant, CallRow.received_at < transcripts_before, done,
                       CallRow.transcript_removed_at.is_(None))
                .order_by(CallRow.id)
                .limit(RETENTION_BATCH)
            ).all()
            for row in rows:
                counts["transcripts"] += 1
                ledger = _ledger_of_calls(session, tenant, [row.call_id])
                counts["ledger_rows"] += len(ledger)
                if dry_run:
                    continue
                later = _later_payloads(session, tenant, row.call_id)
                record = _record_of(row, later)
                turns = list(record.turns) if record else []
                for entry in ledger:
                    if entry.redacted_by is None:
                        entry.evidence = hash_evidence(key, turns, entry.evidence, "retention")
                        entry.redacted_by, entry.redacted_at = "retention", now
                row.raw_payload = _generic_payload(row, turns, "retention", record.timezone if record else None)
                row.payload_format = None
                row.transcript_removed_at = now
                row.payload_removed_at = row.payload_removed_at or now
                counts["events"] += len(later)
                session.execute(
                    delete(CallEventRow).where(CallEventRow.tenant == tenant, CallEventRow.call_id == row.call_id)
                )
                counts["sync_records"] += _delete_finished_workflows(
                    session, _workflow_ids_of(session, tenant, [row.call_id])
                )
        result = RetentionCounts(**counts)
        if not dry_run and result.total():
            session.add(PrivacyEventRow(kind="retention", tenant=tenant, actor=actor, subject=None,
                                        counts=vars(result), at=now))  # fmt: skip
    if not dry_run and result.total():
        _checkpoint(db)
    return result


# ------------------------------------------------------------------------------------------------- DBOS


def _dbos_table(session: Session, name: str) -> str:
    return name if session.get_bind().dialect.name == "sqlite" else f"dbos.{name}"


def _has_table(session: Session, name: str) -> bool:
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        found = conn.execute(text("SELECT 1 FROM sqlite_master WHERE type='table' AND name=:n"), {"n": name})
    else:
        found = conn.execute(
            text("SELECT 1 FROM information_schema.tables WHERE table_schema='dbos' AND table_name=:n"), {"n": name}
        )
    return found.first() is not None


# DBOS tables keyed by workflow id, and the column that holds it.
_DBOS_BY_WORKFLOW = (
    ("operation_outputs", "workflow_uuid"),
    ("workflow_events", "workflow_uuid"),
    ("workflow_events_history", "workflow_uuid"),
    ("streams", "workflow_uuid"),
    ("notifications", "destination_uuid"),
    ("workflow_input", "workflow_uuid"),
    ("workflow_output", "workflow_uuid"),
    ("workflow_status", "workflow_uuid"),
)


def _workflow_ids_of(session: Session, tenant: str, call_ids: Sequence[str]) -> list[str]:
    """The sync workflows of these calls: `sync:<tenant>:<call>` and its re-plans `...:<revision>`."""
    if not call_ids or not _has_table(session, "workflow_status"):
        return []
    status = _dbos_table(session, "workflow_status")
    ids: list[str] = []
    for call_id in call_ids:
        base = f"sync:{tenant}:{call_id}"
        like = base.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ":%"
        ids += session.execute(
            text(f"SELECT workflow_uuid FROM {status} WHERE workflow_uuid = :b OR workflow_uuid LIKE :l ESCAPE '\\'"),
            {"b": base, "l": like},
        ).scalars()
    return ids


def _unfinished(session: Session, workflow_ids: Sequence[str]) -> list[str]:
    if not workflow_ids:
        return []
    status = _dbos_table(session, "workflow_status")
    rows = session.execute(
        text(f"SELECT workflow_uuid, status FROM {status} WHERE workflow_uuid IN :ids").bindparams(
            _expanding("ids")
        ),
        {"ids": list(workflow_ids)},
    ).all()
    return [w for w, s in rows if s not in _DBOS_DONE]


def _expanding(name: str) -> Any:
    return bindparam(name, expanding=True)


def _delete_finished_workflows(session: Session, workflow_ids: Sequence[str]) -> int:
    """Delete every DBOS row of these finished workflows (their inputs, step outputs, events)."""
    done = [w for w in workflow_ids if w not in set(_unfinished(session, workflow_ids))]
    if not done:
        return 0
    deleted = 0
    for table, column in _DBOS_BY_WORKFLOW:
        if not _has_table(session, table):
            continue
        result = session.execute(
            text(f"DELETE FROM {_dbos_table(session, table)} WHERE {column} IN :ids").bindparams(_expanding("ids")),
            {"ids": done},
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


def _decoded(value: str) -> bytes:
    """A DBOS column as bytes to search: its text, and (pickled values are base64) the decoded bytes."""
    raw = value.encode("utf-8", "replace")
    try:
        return raw + b"\n" + base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return raw


def _dbos_workflows_mentioning(session: Session, needles: Sequence[str]) -> list[str]:
    """Workflows whose DBOS rows hold one of the needles (in plain text or in a pickled value)."""
    if not needles or not _has_table(session, "workflow_status"):
        return []
    wanted = [n.encode("utf-8") for n in needles]
    found: set[str] = set()
    scans = (
        ("workflow_status", "workflow_uuid", ("inputs", "output", "error", "queue_partition_key", "request")),
        ("operation_outputs", "workflow_uuid", ("output", "error")),
        ("workflow_input", "workflow_uuid", ("inputs",)),
        ("workflow_output", "workflow_uuid", ("output", "error")),
        ("workflow_events", "workflow_uuid", ("value",)),
        ("workflow_events_history", "workflow_uuid", ("value",)),
        ("streams", "workflow_uuid", ("value",)),
        ("notifications", "destination_uuid", ("message",)),
    )
    for table, id_col, cols in scans:
        if not _has_table(session, table):
            continue
        present = _columns(session, table)
        use = [c for c in cols if c in present]
        if not use:
            continue
        result = session.execute(text(f"SELECT {id_col}, {', '.join(use)} FROM {_dbos_table(session, table)}"))
        for row in result:
            blob = b"\n".join(_decoded(str(v)) for v in row[1:] if v is not None)
            if any(n in blob for n in wanted):
                found.add(str(row[0]))
    return sorted(found)


def _columns(session: Session, table: str) -> set[str]:
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return {str(r[1]) for r in conn.execute(text(f"PRAGMA table_info({table})"))}
    return set(
        conn.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_schema='dbos' AND table_name=:t"),
            {"t": table},
        ).scalars()
    )


# ------------------------------------------------------------------------------------------------- erasure


@dataclass(frozen=True)
class WrittenRecord:
    """A CRM record callsync wrote for the person: the owner decides what happens to it."""

    crm: str
    object_type: str
    record_id: str


@dataclass
class ErasureCounts:
    calls: int = 0
    events: int = 0
    field_values: int = 0
    review_items: int = 0
    identity_links: int = 0
    dead_letters: int = 0
    quarantine: int = 0
    ledger_rows: int = 0  # kept, values and sentences replaced by keyed hashes
    sync_records: int = 0  # DBOS rows of the person's finished syncs
    other_mentions: int = 0  # values elsewhere (another call's ledger row, a reason) replaced by [erased]


@dataclass
class ErasureResult:
    tenant: str
    counts: ErasureCounts
    call_ids: list[str]
    crm_records: list[WrittenRecord] = field(default_factory=list)


def tenants_in(db: Database) -> list[str]:
    with db.session() as session:
        return sorted(set(session.scalars(select(CallRow.tenant).distinct())))


def _like(needle: str) -> str:
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _mentions(column: Any, needles: Sequence[str]) -> Any:
    return or_(*[cast(column, Text).ilike(_like(n), escape="\\") for n in needles])


def _person_calls(session: Session, tenant: str, needles: Sequence[str], keys: Sequence[str]) -> list[str]:
    """The person's calls: from or to their number, their email or phone heard in the payload or an event,
    extracted as a field value, or their identity key first linked by the call."""
    found: set[str] = set()
    found.update(session.scalars(select(CallRow.call_id).where(
        CallRow.tenant == tenant,
        or_(CallRow.from_number.in_(needles), CallRow.to_number.in_(needles), CallRow.identity_key.in_(
            [f"line:{n}" for n in needles]), _mentions(CallRow.raw_payload, needles)),
    )))  # fmt: skip
    found.update(session.scalars(select(CallEventRow.call_id).where(
        CallEventRow.tenant == tenant, _mentions(CallEventRow.payload, needles))))  # fmt: skip
    found.update(session.scalars(select(FieldValueRow.call_id).where(
        FieldValueRow.tenant == tenant, _mentions(FieldValueRow.value, needles))))  # fmt: skip
    found.update(session.scalars(select(IdentityLinkRow.call_id).where(
        IdentityLinkRow.tenant == tenant, IdentityLinkRow.key.in_(keys))))  # fmt: skip
    return sorted(found)


def erase_person(
    db: Database,
    tenant: str,
    *,
    needles: Sequence[str],
    keys: Sequence[str],
    subject: str,
    actor: str,
    dry_run: bool = False,
) -> ErasureResult:
    """Erase one person of one tenant. `needles`: the email / phone forms to find (normalized and as typed);
    `keys`: their identity keys (`email:...`, `phone:...`). Raises ErasureRefused while a sync of one of
    their calls is still running (its workflow needs the call)."""
    now = datetime.now(UTC)
    counts = ErasureCounts()
    with db.session() as session:
        _secure_delete(session)
        key = install_key(session)
        call_ids = _person_calls(session, tenant, needles, keys)
        # The other identifier their own calls linked to them (the phone beside the email, or the email
        # beside the phone) is theirs too: one round, so a shared line does not pull in a chain of people.
        linked = session.scalars(select(IdentityLinkRow.key).where(
            IdentityLinkRow.tenant == tenant, IdentityLinkRow.call_id.in_(call_ids))).all()  # fmt: skip
        extra = [k for k in linked if k.startswith(("email:", "phone:")) and k not in keys]
        if extra:
            keys = [*keys, *extra]
            needles = sorted({*needles, *(k.split(":", 1)[1] for k in extra)})
            call_ids = _person_calls(session, tenant, needles, keys)
        workflows = sorted(set(_workflow_ids_of(session, tenant, call_ids))
                           | set(_dbos_workflows_mentioning(session, needles)))  # fmt: skip
        running = _unfinished(session, workflows)
        if running:
            raise ErasureRefused(f"{len(running)} workflow(s) of this person's calls are still running or waiting "
                                 f"({', '.join(running[:3])}): let them finish (or resolve their review items), "
                                 "then run forget again")  # fmt: skip
        ledger = _ledger_of_calls(session, tenant, call_ids)
        link_rows = session.scalars(select(IdentityLinkRow).where(
            IdentityLinkRow.tenant == tenant,
            or_(IdentityLinkRow.key.in_(keys), IdentityLinkRow.call_id.in_(call_ids)),
        )).all()  # fmt: skip
        records = {WrittenRecord(r.crm, r.object_type, r.record_id) for r in ledger if r.record_id}
        records |= {WrittenRecord(r.crm, r.object_type, r.record_id) for r in link_rows if r.record_id}
        result = ErasureResult(tenant, counts, call_ids, sorted(records, key=lambda r: (r.crm, r.object_type,
                                                                                        r.record_id)))  # fmt: skip

        def count(model: Any, *where: Any) -> int:
            n = len(session.scalars(select(model.id).where(*where)).all())
            if n and not dry_run:
                session.execute(delete(model).where(*where))
            return n

        turns_by_call: dict[str, list[Turn]] = {}
        for row in session.scalars(select(CallRow).where(CallRow.tenant == tenant, CallRow.call_id.in_(call_ids))):
            turns_by_call[row.call_id] = _turns_of(row, _later_payloads(session, tenant, row.call_id))
        counts.ledger_rows = len(ledger)
        if not dry_run:
            for entry in ledger:
                turns = turns_by_call.get(entry.origin_call_id or entry.call_id, [])
                entry.evidence = hash_evidence(key, turns, entry.evidence, "erasure")
                entry.old_value = None if entry.old_value is None else keyed_hash(key, entry.old_value)
                entry.new_value = None if entry.new_value is None else keyed_hash(key, entry.new_value)
                entry.decision = _erase_text(entry.decision, needles)
                entry.redacted_by, entry.redacted_at = "erasure", now
        counts.events = count(CallEventRow, CallEventRow.tenant == tenant, CallEventRow.call_id.in_(call_ids))
        counts.field_values = count(FieldValueRow, FieldValueRow.tenant == tenant, FieldValueRow.call_id.in_(call_ids))
        counts.review_items = count(ReviewItemRow, ReviewItemRow.tenant == tenant, or_(
            ReviewItemRow.call_id.in_(call_ids), _mentions(ReviewItemRow.proposed_value, needles),
            _mentions(ReviewItemRow.detail, needles)))  # fmt: skip
        counts.identity_links = count(IdentityLinkRow, IdentityLinkRow.id.in_([r.id for r in link_rows]))
        counts.dead_letters = count(DeadLetterRow, DeadLetterRow.tenant == tenant, or_(
            DeadLetterRow.call_id.in_(call_ids), _mentions(DeadLetterRow.request, needles)))  # fmt: skip
        counts.quarantine = count(QuarantineRow, or_(QuarantineRow.tenant == tenant, QuarantineRow.tenant.is_(None)),
                                  or_(QuarantineRow.call_id.in_(call_ids), _mentions(QuarantineRow.payload, needles)))  # fmt: skip
        counts.calls = count(CallRow, CallRow.tenant == tenant, CallRow.call_id.in_(call_ids))
        counts.sync_records = len(workflows)
        if not dry_run:
            _delete_finished_workflows(session, workflows)
            counts.other_mentions = _sweep(session, needles, key)
            session.add(PrivacyEventRow(kind="erasure", tenant=tenant, actor=actor, subject=subject,
                                        counts=vars(counts), at=now))  # fmt: skip
    if not dry_run:
        _checkpoint(db)
    return result


def _secure_delete(session: Session) -> None:
    """SQLite: freed pages are overwritten with zeros, so deleted text does not linger in the file."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete=ON"))


def _checkpoint(db: Database) -> None:
    """SQLite: copy the write-ahead log into the file and empty it (old page images live there until then).
    Best effort: a reader holding the log open (a running worker) only delays it to the next checkpoint."""
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _erase_text(value: str, needles: Sequence[str]) -> str:
    out = value
    for n in needles:
        out = _replace_ci(out, n)
    return out


def _replace_ci(value: str, needle: str) -> str:
    lower, n = value.lower(), needle.lower()
    i = lower.find(n)
    while i >= 0:
        value = value[:i] + ERASED + value[i + len(needle) :]
        lower = value.lower()
        i = lower.find(n, i + len(ERASED))
    return value


# callsync's columns that may still mention the person after their own rows are gone: another call's
# ledger row (the old value it overwrote), a reason, a budget note. Values are replaced, rows kept.
_SWEEP: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (LedgerRow, ("old_value", "new_value", "decision")),
    (ReviewItemRow, ("reason", "proposed_value", "current_value", "detail")),
    (DeadLetterRow, ("last_error", "request")),
    (QuarantineRow, ("reason", "payload")),
    (CallRow, ("raw_payload", "identity_key")),
    (CallEventRow, ("payload",)),
    (FieldValueRow, ("value", "evidence")),
    (IdentityLinkRow, ("key",)),
)


def _sweep(session: Session, needles: Sequence[str], key: bytes) -> int:
    """Replace any remaining mention of the person in callsync's own tables: a ledger value becomes its keyed
    hash, text has the mention replaced by [erased]."""
    replaced = 0
    for model, columns in _SWEEP:
        for name in columns:
            column = getattr(model, name)
            for row in session.scalars(select(model).where(_mentions(column, needles))):
                value = getattr(row, name)
                if model is LedgerRow and name in ("old_value", "new_value"):
                    setattr(row, name, keyed_hash(key, value))
                elif isinstance(value, str):
                    setattr(row, name, _erase_text(value, needles))
                else:
                    setattr(row, name, json.loads(_erase_text(json.dumps(value, ensure_ascii=False), needles)))
                replaced += 1
    session.flush()
    return replaced


def scan_for(conn: Connection, needles: Sequence[str]) -> list[tuple[str, str]]:
    """(table, column) pairs of every table in the database, DBOS's included, whose text holds a needle
    (pickled DBOS values are decoded first). The check `forget` runs after erasing, and tests rely on."""
    from sqlalchemy import inspect

    wanted = [n.lower().encode("utf-8") for n in needles]
    hits: list[tuple[str, str]] = []
    inspector = inspect(conn)
    schemas: list[str | None] = [None] if conn.dialect.name == "sqlite" else [None, "dbos"]
    for schema in schemas:
        for table in inspector.get_table_names(schema=schema):
            qualified = f"{schema}.{table}" if schema else table
            for col in inspector.get_columns(table, schema=schema):
                quoted = conn.dialect.identifier_preparer.quote(str(col["name"]))
                sql = f"SELECT CAST({quoted} AS TEXT) FROM {qualified} WHERE {quoted} IS NOT NULL"
                for (value,) in conn.execute(text(sql)):
                    if any(n in _decoded(str(value)).lower() for n in wanted):
                        hits.append((qualified, str(col["name"])))
                        break
    return hits


def erasure_events(db: Database, kind: str | None = None) -> list[PrivacyEventRow]:
    with db.session() as session:
        query = select(PrivacyEventRow).order_by(PrivacyEventRow.id)
        if kind:
            query = query.where(PrivacyEventRow.kind == kind)
        return list(session.scalars(query))

