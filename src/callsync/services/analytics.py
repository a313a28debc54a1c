"""Numbers for the dashboard's overview (and, later, its analytics pages): counts per state, the backlog,
and the call-end → confirmed sync latency with its daily p50/p99. Every query is limited to the tenants a
user may see (`None`: all). Read-only; computed from the database, so every process sees the same."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from callsync.analytics.feedback import FieldFeedback, Observation, feedback
from callsync.services import status as status_service
from callsync.services.errors import NotFound, ServiceError
from callsync.store.db import Database
from callsync.store.tables import (
    CallRow,
    DeadLetterRow,
    LedgerRow,
    QuarantineRow,
    ReviewItemRow,
    SpotCheckRow,
    aware_utc,
)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..1) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[rank]


LATENCY_SAMPLE = 5_000  # the newest confirmed calls the latency percentiles are computed from


@dataclass(frozen=True)
class DayLatency:
    day: str  # YYYY-MM-DD (UTC)
    calls: int
    p50_s: float | None
    p99_s: float | None


@dataclass(frozen=True)
class Overview:
    calls_today: int
    calls_7d: int
    confirmed: int
    in_review: int  # calls waiting in review
    review_items: int  # open review items
    dead_letters: int
    quarantined: int  # open; unrouted payloads count for all-tenant users only
    backlog: int  # calls queued for their sync
    latency_p50_s: float | None  # call end (else receipt) → confirmed, last 7 days
    latency_p99_s: float | None
    latency_days: tuple[DayLatency, ...]
    budget_waits: tuple[status_service.BudgetWait, ...]


def _seconds_between(db: Database, start: Any, end: Any) -> Any:
    """`end - start` in seconds, computed by the database: parsing thousands of timestamps in Python
    costs more than the query."""
    if db.engine.dialect.name == "sqlite":
        # julianday is a double counted in days: exact to ~20 µs, so round to the millisecond.
        return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)
    return func.extract("epoch", end - start)


def _day(value: Any) -> str:
    """A `date(...)` column as YYYY-MM-DD (SQLite returns text, PostgreSQL a date)."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)[:10]


def _latency(
    db: Database, tenants: Collection[str] | None, since: datetime, days: int, week: datetime
) -> tuple[tuple[DayLatency, ...], list[float]]:
    """Call end (else receipt) → synced, per day since `since`, and the values since `week`, from the newest
    LATENCY_SAMPLE synced calls (an index range read on synced_at)."""
    seconds = _seconds_between(db, func.coalesce(CallRow.ended_at, CallRow.received_at), CallRow.synced_at)
    stmt = (
        select(func.date(CallRow.synced_at), seconds, CallRow.synced_at >= week)
        .where(CallRow.synced_at.is_not(None), CallRow.synced_at >= since)
        .order_by(CallRow.synced_at.desc())
        .limit(LATENCY_SAMPLE)
    )
    if tenants is not None:
        stmt = stmt.where(CallRow.tenant.in_(list(tenants)))
    with db.session() as session:
        rows = session.execute(stmt).all()
    per_day: dict[str, list[float]] = {}
    week_values: list[float] = []
    for day, value, in_week in rows:
        if value is None:
            continue
        latency = max(0.0, float(value))
        per_day.setdefault(_day(day), []).append(latency)
        if in_week:
            week_values.append(latency)
    shown = tuple(
        DayLatency(d, len(v), percentile(v, 0.5), percentile(v, 0.99))
        for d in ((since + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days))
        for v in [per_day.get(d, [])]
    )
    return shown, week_values


def overview(
    db: Database, tenants: Collection[str] | None, now: datetime | None = None, days: int = 14
) -> Overview:
    moment = now or datetime.now(UTC)
    today = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    week = moment - timedelta(days=7)
    since = today - timedelta(days=days - 1)

    def scoped(column: Any) -> list[Any]:
        return [column.in_(list(tenants))] if tenants is not None else []

    with db.session() as session:

        def count(model: Any, *where: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        by_state = dict(
            session.execute(
                select(CallRow.sync_state, func.count())
                .where(*scoped(CallRow.tenant))
                .group_by(CallRow.sync_state)
            ).all()
        )
        quarantine_where = [QuarantineRow.status == "open"]
        if tenants is not None:
            quarantine_where.append(QuarantineRow.tenant.in_(list(tenants)))
        result = {
            "calls_today": count(CallRow, CallRow.received_at >= today, *scoped(CallRow.tenant)),
            "calls_7d": count(CallRow, CallRow.received_at >= week, *scoped(CallRow.tenant)),
            "review_items": count(
                ReviewItemRow, ReviewItemRow.status == "open", *scoped(ReviewItemRow.tenant)
            ),
            "dead_letters": count(
                DeadLetterRow, DeadLetterRow.status == "open", *scoped(DeadLetterRow.tenant)
            ),
            "quarantined": count(QuarantineRow, *quarantine_where),
        }
    days_shown, week_values = _latency(db, tenants, since, days, week)
    return Overview(
        calls_today=result["calls_today"], calls_7d=result["calls_7d"],
        confirmed=int(by_state.get("confirmed", 0)), in_review=int(by_state.get("review", 0)),
        review_items=result["review_items"], dead_letters=result["dead_letters"],
        quarantined=result["quarantined"], backlog=int(by_state.get("queued", 0)),
        latency_p50_s=percentile(week_values, 0.5), latency_p99_s=percentile(week_values, 0.99),
        latency_days=days_shown, budget_waits=status_service.budget_waits(db),
    )  # fmt: skip


LATENCY_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class MetricsSnapshot:
    """What /metrics reports from the database, read at scrape time (the same from every process)."""

    calls: list[tuple[str, str, str, int]]  # tenant, platform, state, count
    dead_letters: list[tuple[str, str, str, int]]  # tenant, crm, status, count
    quarantined: list[tuple[str, str, int]]  # platform, status, count
    review_open: list[tuple[str, str, int]]  # tenant, kind, count
    backlog: int
    oldest_queued_s: int
    waiting_rate_limit: int
    waiting_retry: int
    budget_blocked: int  # CRM accounts whose new writes wait for their allowance
    recent_latencies_s: list[float]  # call end → confirmed, calls confirmed in the last LATENCY_WINDOW


def metrics_snapshot(db: Database, now: datetime | None = None) -> MetricsSnapshot:
    from callsync.pipeline.backlog import backlog_view

    since = (now or datetime.now(UTC)) - LATENCY_WINDOW
    with db.session() as session:
        calls = [
            (t, p, s, int(n))
            for t, p, s, n in session.execute(
                select(CallRow.tenant, CallRow.platform, CallRow.sync_state, func.count()).group_by(
                    CallRow.tenant, CallRow.platform, CallRow.sync_state
                )
            ).all()
        ]
        dead = [
            (t, c, s, int(n))
            for t, c, s, n in session.execute(
                select(DeadLetterRow.tenant, DeadLetterRow.crm, DeadLetterRow.status, func.count()).group_by(
                    DeadLetterRow.tenant, DeadLetterRow.crm, DeadLetterRow.status
                )
            ).all()
        ]
        quarantined = [
            (p or "generic", s, int(n))
            for p, s, n in session.execute(
                select(QuarantineRow.platform, QuarantineRow.status, func.count()).group_by(
                    QuarantineRow.platform, QuarantineRow.status
                )
            ).all()
        ]
        review = [
            (t, k, int(n))
            for t, k, n in session.execute(
                select(ReviewItemRow.tenant, ReviewItemRow.kind, func.count())
                .where(ReviewItemRow.status == "open")
                .group_by(ReviewItemRow.tenant, ReviewItemRow.kind)
            ).all()
        ]
        recent = session.execute(
            select(CallRow.ended_at, CallRow.received_at, CallRow.synced_at).where(CallRow.synced_at >= since)
        ).all()
    latencies = [
        max(0.0, (aware_utc(synced) - aware_utc(ended or received)).total_seconds())
        for ended, received, synced in recent
        if synced is not None
    ]
    view = backlog_view(db)
    queued = sum(n for _, _, s, n in calls if s == "queued")
    return MetricsSnapshot(
        calls, dead, quarantined, review, queued, view.oldest_queued_s, view.waiting_rate_limit,
        view.waiting_retry, len(status_service.budget_waits(db)), latencies,
    )  # fmt: skip


DURATION_SAMPLE = 5_000  # the newest calls the average call time is computed from
LABEL_SAMPLE = 100  # calls without stored labels (older than the labels column) classified per view


@dataclass(frozen=True)
class FieldRates:
    field: str
    writes: int  # confirmed call writes of the field in the period
    reviewed: int  # review items about the field
    decided: int  # of those, decided by a person
    corrected: int  # decided by a correction or rejection: the extraction was wrong

    @property
    def review_rate(self) -> float | None:
        total = self.writes + self.reviewed
        return self.reviewed / total if total else None

    @property
    def corrected_rate(self) -> float | None:
        return self.corrected / self.decided if self.decided else None


@dataclass(frozen=True)
class DayCalls:
    day: str
    by_tenant: dict[str, int]


@dataclass(frozen=True)
class Analytics:
    days: int
    tenants: tuple[str, ...]
    calls_per_day: tuple[DayCalls, ...]
    calls: int
    average_call_s: float | None
    labelled: int  # calls whose labels were read (the newest LABEL_SAMPLE of the period)
    intents: dict[str, int]
    outcomes: dict[str, int]
    sentiments: dict[str, int]
    frustrated_calls: tuple[tuple[str, str], ...]  # (tenant, call id), newest first
    transfer_rate: float | None
    booking_conversion: float | None  # booking-intent calls that ended with an appointment booked
    fields: tuple[FieldRates, ...]
    latency_days: tuple[DayLatency, ...]


def analytics(
    db: Database,
    tenants: Collection[str] | None,
    *,
    days: int = 14,
    tenant: str | None = None,
    now: datetime | None = None,
) -> Analytics:
    """The feedback loop's numbers for the last `days` days (1-90), for the user's tenants or one of them."""
    from callsync.capture.extract.labels import classify_intent, classify_outcome, classify_sentiment
    from callsync.capture.platforms import record_from_payloads
    from callsync.errors import InputError

    days = max(1, min(days, 90))
    moment = now or datetime.now(UTC)
    since = moment.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    chosen: list[str] | None = None if tenants is None else list(tenants)
    if tenant:
        chosen = [tenant] if chosen is None or tenant in chosen else []

    def scoped(column: Any) -> list[Any]:
        return [column.in_(chosen)] if chosen is not None else []

    with db.session() as session:
        day_col = func.date(CallRow.received_at)
        per_day_rows = session.execute(
            select(CallRow.tenant, day_col, func.count())
            .where(CallRow.received_at >= since, *scoped(CallRow.tenant))
            .group_by(CallRow.tenant, day_col)
        ).all()
        # Labels stored when each call was prepared, counted over every call of the period (covering index).
        stored = session.execute(
            select(CallRow.intent, CallRow.outcome, CallRow.sentiment, func.count())
            .where(CallRow.received_at >= since, CallRow.intent.is_not(None), *scoped(CallRow.tenant))
            .group_by(CallRow.intent, CallRow.outcome, CallRow.sentiment)
        ).all()
        timed = (
            select(_seconds_between(db, CallRow.started_at, CallRow.ended_at).label("seconds"))
            .where(
                CallRow.received_at >= since, CallRow.started_at.is_not(None),
                CallRow.ended_at >= CallRow.started_at, *scoped(CallRow.tenant),
            )
            .order_by(CallRow.received_at.desc())
            .limit(DURATION_SAMPLE)
            .subquery()
        )  # fmt: skip
        average_call = session.scalar(select(func.avg(timed.c.seconds)))
        frustrated_rows = session.execute(
            select(CallRow.tenant, CallRow.call_id)
            .where(CallRow.received_at >= since, CallRow.sentiment == "frustrated", *scoped(CallRow.tenant))
            .order_by(CallRow.received_at.desc())
            .limit(20)
        ).all()
        # Calls stored before labels were kept (or not prepared yet): the newest few are classified here.
        # Found first on the labels index alone (ids only: an index-only scan), then read by id; filtering on
        # the transcript in the same query would read every row of the period.
        unlabelled = session.scalars(
            select(CallRow.id)
            .where(CallRow.received_at >= since, CallRow.intent.is_(None), *scoped(CallRow.tenant))
            .order_by(CallRow.received_at.desc())
            .limit(LABEL_SAMPLE)
        ).all()
        newest = (
            session.execute(
                select(CallRow.tenant, CallRow.call_id, CallRow.payload_format, CallRow.raw_payload)
                .where(CallRow.id.in_(unlabelled), CallRow.transcript_removed_at.is_(None))
                .order_by(CallRow.received_at.desc())
            ).all()
            if unlabelled
            else []
        )
        writes: dict[str, int] = dict(
            session.execute(
                select(LedgerRow.field, func.count())
                .where(
                    LedgerRow.written_at >= since, LedgerRow.policy != "reviewer", *scoped(LedgerRow.tenant)
                )
                .group_by(LedgerRow.field)
            ).all()
        )
        reviews = session.execute(
            select(ReviewItemRow.field, ReviewItemRow.status, func.count())
            .where(
                ReviewItemRow.created_at >= since,
                ReviewItemRow.field.is_not(None),
                *scoped(ReviewItemRow.tenant),
            )
            .group_by(ReviewItemRow.field, ReviewItemRow.status)
        ).all()
    per_day: dict[str, dict[str, int]] = {}
    seen_tenants: set[str] = set()
    calls = 0
    for t, day, n in per_day_rows:
        seen_tenants.add(t)
        key = _day(day)
        per_day.setdefault(key, {})[t] = per_day.get(key, {}).get(t, 0) + int(n)
        calls += int(n)
    intents: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    sentiments: dict[str, int] = {}
    frustrated: list[tuple[str, str]] = [(t, c) for t, c in frustrated_rows]
    booking = booked = labelled = 0
    for stored_intent, stored_outcome, stored_sentiment, n in stored:
        intent, outcome, sentiment = (
            str(stored_intent),
            str(stored_outcome or "unknown"),
            str(stored_sentiment or "neutral"),
        )
        labelled += n
        intents[intent] = intents.get(intent, 0) + n
        outcomes[outcome] = outcomes.get(outcome, 0) + n
        sentiments[sentiment] = sentiments.get(sentiment, 0) + n
        if intent == "booking":
            booking += n
            booked += n if outcome == "appointment_booked" else 0
    for t, call_id, fmt, raw in newest:
        try:
            record = record_from_payloads(fmt, [raw], t)
        except (InputError, ValueError, KeyError, TypeError):
            continue
        labelled += 1
        intent, outcome = classify_intent(record).value, classify_outcome(record).value
        sentiment = classify_sentiment(record).value
        intents[intent] = intents.get(intent, 0) + 1
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        sentiments[sentiment] = sentiments.get(sentiment, 0) + 1
        if sentiment == "frustrated":
            frustrated.append((t, call_id))
        if intent == "booking":
            booking += 1
            booked += outcome == "appointment_booked"
    rates: dict[str, list[int]] = {}
    for field_name, status, n in reviews:
        entry = rates.setdefault(str(field_name), [0, 0, 0])
        entry[0] += n
        if status != "open":
            entry[1] += n
        if status in ("corrected", "rejected"):
            entry[2] += n
    fields = tuple(
        FieldRates(f, int(writes.get(f, 0)), *rates.get(f, [0, 0, 0]))
        for f in sorted(set(writes) | set(rates))
    )
    latency, _ = _latency(db, chosen, since, days, moment - timedelta(days=7))
    return Analytics(
        days=days, tenants=tuple(sorted(seen_tenants)),
        calls_per_day=tuple(
            DayCalls(d, per_day.get(d, {}))
            for d in ((since + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days))
        ),
        calls=calls, average_call_s=float(average_call) if average_call is not None else None,
        labelled=labelled, intents=intents, outcomes=outcomes, sentiments=sentiments,
        frustrated_calls=tuple(frustrated[:20]),
        transfer_rate=outcomes.get("transferred", 0) / labelled if labelled else None,
        booking_conversion=booked / booking if booking else None,
        fields=fields, latency_days=latency,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------- spot check

SPOT_CHECK_SIZE = 20
VERDICTS = ("right", "wrong")


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _week_start(week: str) -> datetime:
    return datetime.strptime(week + "-1", "%G-W%V-%u").replace(tzinfo=UTC)


def check_week(week: str) -> str:
    try:
        _week_start(week)
    except ValueError as exc:
        raise ServiceError(f"{week[:20]!r} is not an ISO week like 2026-W49") from exc
    return week


@dataclass(frozen=True)
class SpotCheck:
    id: int
    week: str
    tenant: str
    crm: str
    record_id: str
    field: str
    canonical_field: str | None
    value: Any
    confidence: float | None
    call_id: str
    verdict: str | None
    checked_by: str | None


def _spot(row: SpotCheckRow) -> SpotCheck:
    return SpotCheck(
        row.id, row.week, row.tenant, row.crm, row.record_id, row.field, row.canonical_field, row.value,
        row.confidence, row.call_id, row.verdict, row.checked_by,
    )  # fmt: skip


def spot_checks(db: Database, tenants: Collection[str] | None, week: str) -> list[SpotCheck]:
    check_week(week)
    stmt = select(SpotCheckRow).where(SpotCheckRow.week == week)
    if tenants is not None:
        stmt = stmt.where(SpotCheckRow.tenant.in_(list(tenants)))
    with db.session() as session:
        return [_spot(r) for r in session.scalars(stmt.order_by(SpotCheckRow.id)).all()]


def draw_spot_check(
    db: Database, tenants: Collection[str] | None, week: str, n: int = SPOT_CHECK_SIZE
) -> list[SpotCheck]:
    """A uniform random sample of the week's accepted call writes (not reviewers' own) of these tenants, kept
    for people to mark. Drawing again adds only writes not drawn yet, up to `n` in all."""
    start = _week_start(check_week(week))
    stmt = select(LedgerRow).where(
        LedgerRow.written_at >= start, LedgerRow.written_at < start + timedelta(days=7),
        LedgerRow.policy != "reviewer", LedgerRow.redacted_by.is_(None),
    )  # fmt: skip
    if tenants is not None:
        stmt = stmt.where(LedgerRow.tenant.in_(list(tenants)))
    have = spot_checks(db, tenants, week)
    wanted = max(0, min(n, 200) - len(have))
    if wanted:
        taken = {s.call_id + "\0" + s.record_id + "\0" + s.field for s in have}
        with db.session() as session:
            drawn = session.scalars(
                stmt.where(~LedgerRow.id.in_(select(SpotCheckRow.ledger_id).where(SpotCheckRow.week == week)))
                .order_by(func.random())
                .limit(wanted)
            ).all()
            for r in drawn:
                if r.call_id + "\0" + r.record_id + "\0" + r.field in taken:
                    continue
                session.add(SpotCheckRow(
                    week=week, ledger_id=r.id, tenant=r.tenant, crm=r.crm, record_id=r.record_id, field=r.field,
                    canonical_field=r.canonical_field, value=r.new_value, confidence=r.confidence,
                    call_id=r.call_id,
                ))  # fmt: skip
    return spot_checks(db, tenants, week)


def mark_spot_check(
    db: Database, tenants: Collection[str] | None, check_id: int, verdict: str, by: str
) -> SpotCheck:
    if verdict not in VERDICTS:
        raise ServiceError(f"a verdict is one of: {', '.join(VERDICTS)}")
    with db.session() as session:
        row = session.get(SpotCheckRow, check_id)
        if row is None or (tenants is not None and row.tenant not in tenants):
            raise NotFound(f"no spot check {check_id}")
        row.verdict, row.checked_by, row.checked_at = verdict, by, datetime.now(UTC)
        return _spot(row)


@dataclass(frozen=True)
class WeekErrors:
    week: str
    checked: int
    wrong: int
    by_field: dict[str, tuple[int, int]]  # field -> (checked, wrong)

    @property
    def error_rate(self) -> float | None:
        return self.wrong / self.checked if self.checked else None


def spot_check_history(db: Database, tenants: Collection[str] | None, weeks: int = 12) -> list[WeekErrors]:
    """Per week (oldest first), how many checked writes were wrong, per field."""
    stmt = select(SpotCheckRow.week, SpotCheckRow.field, SpotCheckRow.verdict, func.count()).where(
        SpotCheckRow.verdict.is_not(None)
    )
    if tenants is not None:
        stmt = stmt.where(SpotCheckRow.tenant.in_(list(tenants)))
    with db.session() as session:
        rows = session.execute(
            stmt.group_by(SpotCheckRow.week, SpotCheckRow.field, SpotCheckRow.verdict)
        ).all()
    found: dict[str, dict[str, list[int]]] = {}
    for week, field, verdict, n in rows:
        entry = found.setdefault(week, {}).setdefault(field, [0, 0])
        entry[0] += n
        entry[1] += n if verdict == "wrong" else 0
    out = []
    for week in sorted(found)[-weeks:]:
        fields = {f: (c, w) for f, (c, w) in found[week].items()}
        out.append(
            WeekErrors(week, sum(c for c, _ in fields.values()), sum(w for _, w in fields.values()), fields)
        )
    return out


def field_feedback(db: Database, tenants: Collection[str] | None) -> list[FieldFeedback]:
    """Per canonical field, precision at the current threshold from reviewer decisions on held values and
    from spot checks, and the threshold that would keep it at the target (offered, never applied)."""
    from callsync.capture.extract.thresholds import FIELD_THRESHOLDS

    observations: list[Observation] = []
    review_stmt = select(ReviewItemRow.status, ReviewItemRow.detail).where(
        ReviewItemRow.kind == "held_value", ReviewItemRow.status.in_(["approved", "corrected", "rejected"])
    )
    spot_stmt = select(SpotCheckRow.canonical_field, SpotCheckRow.field, SpotCheckRow.confidence,
                       SpotCheckRow.verdict).where(SpotCheckRow.verdict.is_not(None))  # fmt: skip
    if tenants is not None:
        review_stmt = review_stmt.where(ReviewItemRow.tenant.in_(list(tenants)))
        spot_stmt = spot_stmt.where(SpotCheckRow.tenant.in_(list(tenants)))
    with db.session() as session:
        for status, detail in session.execute(review_stmt.limit(50_000)).all():
            canonical, confidence = (detail or {}).get("canonical"), (detail or {}).get("confidence")
            if canonical and isinstance(confidence, int | float):
                observations.append(
                    Observation(str(canonical), float(confidence), status == "approved", "review")
                )
        for canonical, field, confidence, verdict in session.execute(spot_stmt.limit(50_000)).all():
            if confidence is not None:
                observations.append(
                    Observation(canonical or field, float(confidence), verdict == "right", "spot_check")
                )
    return feedback(observations, dict(FIELD_THRESHOLDS))
