"""The relational schema. One metadata for SQLite and PostgreSQL; Alembic migrations mirror it.

Sync work itself lives in DBOS's own tables (workflow_status, operation_outputs, ...) in the same database,
so a call row and its sync workflow are committed in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite hands back naive ones, and everything is stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


def table(model: type[Base]) -> Table:
    """A model's Core table. The per-call statements are built once on it, with bind parameters: run that
    way, a statement costs the worker about 0.1 ms of CPU, against 0.4-0.7 ms for one built per call and run
    through the ORM."""
    return cast(Table, model.__table__)


class CallRow(Base):
    """A received call. `raw_payload` is the body exactly as received, never rewritten."""

    __tablename__ = "calls"
    __table_args__ = (UniqueConstraint("tenant", "call_id", name="uq_calls_tenant_call"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100))
    call_id: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(10))
    from_number: Mapped[str | None] = mapped_column(String(40))
    to_number: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    raw_payload: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(500))
    # received → queued → confirmed | dead_letter | review ; the workflow id is the idempotency key.
    sync_state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    workflow_id: Mapped[str] = mapped_column(String(300))
    identity_key: Mapped[str | None] = mapped_column(String(300))
    synced_at: Mapped[datetime | None]
    # Ingest (route stage): the adapter that reads `raw_payload` (None: the generic call JSON), the
    # platform event it came with, and how many later events re-planned the sync since.
    payload_format: Mapped[str | None] = mapped_column(String(40))
    event_key: Mapped[str | None] = mapped_column(String(200))
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Privacy (docs/privacy.md): when retention removed the transcript text / the raw payload.
    transcript_removed_at: Mapped[datetime | None]
    payload_removed_at: Mapped[datetime | None]
    # The extraction's call-level labels (set when the call is prepared): analytics count them in SQL.
    intent: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(40))
    sentiment: Mapped[str | None] = mapped_column(String(40))


class FieldValueRow(Base):
    __tablename__ = "field_values"
    __table_args__ = (UniqueConstraint("tenant", "call_id", "name", name="uq_field_values"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100))
    call_id: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(80))
    value: Mapped[Any] = mapped_column(JSON)
    confidence: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[list[Any]]
    extractor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerRow(Base):
    """One row per field callsync wrote and the CRM confirmed: the answer to 'why is this value here?'."""

    __tablename__ = "ledger"
    __table_args__ = (
        UniqueConstraint(
            "tenant", "crm", "call_id", "object_type", "record_id", "field", name="uq_ledger_write"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100))
    crm: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str] = mapped_column(String(100), index=True)
    field: Mapped[str] = mapped_column(String(120))
    canonical_field: Mapped[str | None] = mapped_column(String(80))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    policy: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(200))
    call_id: Mapped[str] = mapped_column(String(200), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list[Any]]
    integration_version: Mapped[str] = mapped_column(String(80))
    crm_request_id: Mapped[str | None] = mapped_column(String(200))
    # When the call that produced the value ended: newest_wins compares calls, not write times.
    observed_at: Mapped[datetime | None]
    written_at: Mapped[datetime] = mapped_column(default=utcnow)  # when this row was recorded
    # The write's own times: request sent, CRM's answer received, read-back confirmed.
    sent_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    # A reviewer's write: who decided, when, on which review item, and the call the value was heard in.
    reviewer: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    review_item_id: Mapped[int | None]
    origin_call_id: Mapped[str | None] = mapped_column(String(200))
    # Privacy: "retention" or "erasure" replaced the values and the evidence sentence by keyed hashes.
    redacted_by: Mapped[str | None] = mapped_column(String(20))
    redacted_at: Mapped[datetime | None]


class IdentityLinkRow(Base):
    """A match key (normalized email or E.164 phone) known to belong to one CRM record."""

    __tablename__ = "identity_links"
    __table_args__ = (UniqueConstraint("tenant", "crm", "object_type", "key", name="uq_identity_links"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100))
    crm: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(300))
    record_id: Mapped[str] = mapped_column(String(100))
    call_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeadLetterRow(Base):
    """A write that exhausted its retries or can never succeed, kept whole for replay."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100))
    crm: Mapped[str] = mapped_column(String(40))
    call_id: Mapped[str] = mapped_column(String(200), index=True)
    workflow_id: Mapped[str] = mapped_column(String(300))
    operation: Mapped[str] = mapped_column(String(60))
    request: Mapped[dict[str, Any]]
    last_error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewItemRow(Base):
    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Makes creating an item idempotent when a workflow step runs twice.
    dedupe_key: Mapped[str] = mapped_column(String(600), unique=True)
    tenant: Mapped[str] = mapped_column(String(100))
    call_id: Mapped[str] = mapped_column(String(200), index=True)
    crm: Mapped[str | None] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(60))
    record_id: Mapped[str | None] = mapped_column(String(100))
    field: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    proposed_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    current_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    detail: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class QuarantineRow(Base):
    """A payload that failed validation after receipt, kept whole with the reason."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Ingest: which adapter reads the payload (None: the generic call JSON), and once a retry stored it,
    # the call it became.
    platform: Mapped[str | None] = mapped_column(String(40))
    call_id: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]


class CallEventRow(Base):
    """A later platform event for a stored call (Retell's call_analyzed after call_ended, Twilio's recording
    and transcript after the status callback), kept verbatim. The first event is the call row itself."""

    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("tenant", "call_id", "event_key", name="uq_call_events"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100))
    call_id: Mapped[str] = mapped_column(String(200))
    event_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(500))
    revision: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollCursorRow(Base):
    """How far `callsync poll` has read a platform's list of calls, per tenant."""

    __tablename__ = "poll_cursors"
    __table_args__ = (UniqueConstraint("tenant", "platform", name="uq_poll_cursors"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(40))
    cursor: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrmBudgetRow(Base):
    """A CRM account's API allowance per rolling window (Zoho credits, Salesforce daily requests), shared
    by every worker process: what was spent per slice of the window, what the CRM last reported, and
    until when new work waits (the reason is shown by `callsync status`)."""

    __tablename__ = "crm_budgets"
    __table_args__ = (UniqueConstraint("crm", "account", name="uq_crm_budgets"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    crm: Mapped[str] = mapped_column(String(40))
    account: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(300))
    tenants: Mapped[list[Any]]
    daily_limit: Mapped[int | None] = mapped_column(Integer)
    reserve: Mapped[int] = mapped_column(Integer, default=0)
    window_s: Mapped[float] = mapped_column(Float)
    # slice index (epoch seconds // slice length) -> credits spent in it
    spent: Mapped[dict[str, Any]]
    observed_used: Mapped[int | None] = mapped_column(Integer)
    observed_limit: Mapped[int | None] = mapped_column(Integer)
    observed_at: Mapped[datetime | None]
    blocked_until: Mapped[datetime | None]
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    crm_blocked_until: Mapped[datetime | None]  # the CRM itself refuses until then
    # A rate window's margin widened after a 429, for every process until margin_until (crm/http/ratelimit.py)
    margin_s: Mapped[float | None] = mapped_column(Float)
    margin_until: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrivacyKeyRow(Base):
    """A per-install secret (created on first use): the HMAC key of the hashes that replace removed values."""

    __tablename__ = "privacy_keys"
    __table_args__ = (UniqueConstraint("name", name="uq_privacy_keys_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40))
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrivacyEventRow(Base):
    """A retention run or an erasure: who, when, what kind of subject, counts. Never personal data."""

    __tablename__ = "privacy_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # retention | erasure
    tenant: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(20))  # erasure: "email" | "phone", never the value
    counts: Mapped[dict[str, Any]]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class UserRow(Base):
    """A dashboard user (docs/dashboard.md): an argon2 password hash, a role, the tenants it may see."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("username", name="uq_users_username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # viewer | reviewer | admin
    # The tenants this user may see and change; ["*"]: every tenant (admins only).
    tenants: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class SpotCheckRow(Base):
    """One accepted write drawn for a week's human spot check, and the person's verdict (right / wrong)."""

    __tablename__ = "spot_checks"
    __table_args__ = (UniqueConstraint("week", "ledger_id", name="uq_spot_checks_week_ledger"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week: Mapped[str] = mapped_column(String(10), index=True)  # ISO week, e.g. 2026-W49
    ledger_id: Mapped[int] = mapped_column(Integer)
    tenant: Mapped[str] = mapped_column(String(100))
    crm: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(120))
    canonical_field: Mapped[str | None] = mapped_column(String(80))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    call_id: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str | None] = mapped_column(String(10))  # right | wrong | None: not checked yet
    checked_by: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# The dashboard's and /metrics' reads over many calls (counts by state, per day, latency): covering indexes
# so they stay fast at 100,000 calls and more (bench/dashboard.py). Migration 0006_users.
Index("ix_calls_tenant_platform_state", CallRow.tenant, CallRow.platform, CallRow.sync_state)
Index("ix_calls_tenant_received_at", CallRow.tenant, CallRow.received_at)
Index("ix_calls_received_at", CallRow.received_at)
# Covering indexes for analytics' label counts (an index-only scan of the period, all tenants or one).
Index("ix_calls_received_labels", CallRow.received_at, CallRow.tenant, CallRow.intent, CallRow.outcome, CallRow.sentiment)
Index("ix_calls_tenant_received_labels", CallRow.tenant, CallRow.received_at, CallRow.intent, CallRow.outcome,
      CallRow.sentiment)  # fmt: skip
Index("ix_calls_synced_at", CallRow.synced_at)
# Search by call id (any tenant) and by phone number (the caller's line inbound, the callee outbound).
Index("ix_calls_call_id", CallRow.call_id)
Index("ix_calls_from_number", CallRow.from_number)
Index("ix_calls_to_number", CallRow.to_number)


class ActionRunRow(Base):
    """One workflow action of one call (docs/actions.md): the ledger row of what a rule did in the CRM.
    Unique on its stamp (tenant + call + rule): a retry, a replay or a reviewer's approval updates this row,
    never adds a second."""

    __tablename__ = "action_runs"
    __table_args__ = (
        UniqueConstraint("tenant", "stamp", name="uq_action_runs_stamp"),
        Index("ix_action_runs_person", "tenant", "crm", "rule", "person_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100))
    crm: Mapped[str] = mapped_column(String(40))
    call_id: Mapped[str] = mapped_column(String(200), index=True)
    rule: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    stamp: Mapped[str] = mapped_column(String(400))
    # confirmed | review | dropped | dead_letter
    status: Mapped[str] = mapped_column(String(20), index=True)
    # created | found | moved | unchanged | held_back | already_open (confirmed rows)
    result: Mapped[str | None] = mapped_column(String(20))
    person_id: Mapped[str | None] = mapped_column(String(100))
    object_type: Mapped[str | None] = mapped_column(String(60))
    record_id: Mapped[str | None] = mapped_column(String(100))
    planned: Mapped[dict[str, Any]]  # the PlannedAction as JSON (what was, or would be, done)
    detail: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    crm_request_id: Mapped[str | None] = mapped_column(String(200))
    integration_version: Mapped[str] = mapped_column(String(80))
    review_item_id: Mapped[int | None] = mapped_column(Integer)
    reviewer: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
