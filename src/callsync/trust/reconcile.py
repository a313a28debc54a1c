"""The reconciliation job: does the CRM hold what the ledger says callsync wrote — once?

For the calls received in a window it compares three things: what callsync received (calls), what it says
it wrote and confirmed (the ledger, identity links), and what the CRM holds now (a fresh read). It reports:

- calls received vs confirmed (and in review, dead-lettered, still queued);
- **missing writes**: a confirmed call whose record is not in the CRM (deleted, merged away, never there);
- **double writes**: two records stamped with one call's id, or two records for one identity (one email;
  one phone where neither record has another email) of which callsync created at least one;
- **drifted fields**: a field whose CRM value differs from the last value callsync wrote and confirmed —
  someone changed it since. Reported, never "fixed": a value a person set is theirs;
- **unacknowledged writes**: a record stamped by a call that is not confirmed (a write that landed while
  its call is still queued or dead-lettered). Not a loss: replaying the call finds the record.

Anything lost (missing) or doubled makes the job fail (`ReconcileReport.exit_code`). The job only reads.

CRM access: where the CRM can list records in bulk (the `bulk_scan` capability, `crm/scan.py`) the job pages through the
records modified in the window; otherwise it reads each record and finds each call's stamp and each
identity through the adapter protocol (a request or two per call).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import select

from callsync.config import TenantConfig
from callsync.crm.protocol import (
    AmbiguousWriteError,
    CRMAdapter,
    CRMRecord,
    IdentityQuery,
    RateLimited,
    RecordRef,
    TransientError,
)
from callsync.crm.registry import capabilities_for
from callsync.crm.scan import scanner_for, stamp_lister_for
from callsync.reconcile.identity import normalize_email, normalize_phone
from callsync.reconcile.policy import is_empty, same_value
from callsync.store.db import Database
from callsync.store.tables import CallRow, FieldValueRow, IdentityLinkRow, LedgerRow, aware_utc

T = TypeVar("T")
CONTACT = "contact"


@dataclass(frozen=True)
class MissingWrite:
    tenant: str
    call_id: str
    object_type: str
    record_id: str
    reason: str


@dataclass(frozen=True)
class DoubleWrite:
    tenant: str
    kind: str  # "stamp": records stamped with one call; "identity": records for one email / phone
    key: str
    object_type: str
    record_ids: list[str]
    calls: list[str]  # the calls that stamped them (origin and last call)


@dataclass(frozen=True)
class Drift:
    tenant: str
    object_type: str
    record_id: str
    field: str
    written: Any
    current: Any
    call_id: str
    written_at: str


@dataclass(frozen=True)
class Unacknowledged:
    tenant: str
    call_id: str
    call_state: str
    object_type: str
    record_id: str


@dataclass(frozen=True)
class Misrouted:
    """A record stamped by a call that is not this tenant's, found in this tenant's CRM account: a write
    that went to the wrong account (a GoHighLevel location, say)."""

    tenant: str  # whose account holds it
    object_type: str
    record_id: str
    call_id: str
    belongs_to: tuple[str, ...]  # the tenants that hold a call with that id (empty: no tenant here does)


@dataclass
class ReconcileReport:
    since: datetime | None
    generated_at: datetime
    received: int = 0
    confirmed: int = 0
    review: int = 0
    dead_letter: int = 0
    queued: int = 0
    closed: int = 0  # a person decided nothing is to be written (review rejected, dead letter discarded)
    delivered: int = 0  # a 2xx from a target that cannot be read back (a webhook): nothing to compare
    records_checked: int = 0
    missing_writes: list[MissingWrite] = field(default_factory=list)
    double_writes: list[DoubleWrite] = field(default_factory=list)
    drifted_fields: list[Drift] = field(default_factory=list)
    unacknowledged_writes: list[Unacknowledged] = field(default_factory=list)
    misrouted_writes: list[Misrouted] = field(default_factory=list)
    skipped_tenants: list[str] = field(default_factory=list)
    # Tenants whose target keeps nothing to read (no `read_back`): their calls are counted, not checked.
    unreadable_tenants: list[str] = field(default_factory=list)
    crm_requests: int = 0

    @property
    def lost(self) -> int:
        return len({(m.tenant, m.call_id) for m in self.missing_writes})

    @property
    def doubled(self) -> int:
        return len(self.double_writes)

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.doubled == 0 and not self.misrouted_writes

    @property
    def exit_code(self) -> int:
        return 0 if self.clean else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "generated_at": self.generated_at.isoformat(),
            "calls": {
                "received": self.received,
                "confirmed": self.confirmed,
                "review": self.review,
                "dead_letter": self.dead_letter,
                "queued": self.queued,
                "closed": self.closed,
                "delivered": self.delivered,
            },
            "records_checked": self.records_checked,
            "misrouted": [
                {
                    "tenant": m.tenant,
                    "object_type": m.object_type,
                    "record_id": m.record_id,
                    "call_id": m.call_id,
                    "belongs_to": list(m.belongs_to),
                }
                for m in self.misrouted_writes
            ],
            "lost": self.lost,
            "doubled": self.doubled,
            "drifted": len(self.drifted_fields),
            "clean": self.clean,
            "missing_writes": [asdict(m) for m in self.missing_writes],
            "double_writes": [asdict(d) for d in self.double_writes],
            "drifted_fields": [asdict(d) for d in self.drifted_fields],
            "unacknowledged_writes": [asdict(u) for u in self.unacknowledged_writes],
            "skipped_tenants": self.skipped_tenants,
            "unreadable_tenants": self.unreadable_tenants,
        }


# -- what callsync knows ------------------------------------------------------------------------------


@dataclass
class _Call:
    tenant: str
    call_id: str
    state: str
    records: set[tuple[str, str]] = field(default_factory=set)  # (object_type, record_id)
    email: str | None = None
    phone: str | None = None


@dataclass
class _Known:
    calls: dict[tuple[str, str], _Call]
    # (tenant, object_type, record_id) -> field -> the last confirmed ledger row
    latest: dict[tuple[str, str, str], dict[str, LedgerRow]]


def _known(db: Database, since: datetime | None, tenants: Iterable[str]) -> _Known:
    wanted = set(tenants)
    # The window as a subquery, not a list of ids: a window may hold more calls than a statement may bind.
    window = select(CallRow.call_id).where(CallRow.tenant.in_(wanted))
    if since is not None:
        window = window.where(CallRow.received_at >= since)
    with db.session() as session:
        query = select(CallRow.tenant, CallRow.call_id, CallRow.sync_state).where(CallRow.call_id.in_(window))
        calls = {(t, c): _Call(t, c, s) for t, c, s in session.execute(query).all() if t in wanted}
        confirmed = LedgerRow.confirmed_at.is_not(None)
        for row in session.scalars(select(LedgerRow).where(LedgerRow.call_id.in_(window), confirmed)):
            if (row.tenant, row.call_id) in calls:
                calls[(row.tenant, row.call_id)].records.add((row.object_type, row.record_id))
        for link in session.scalars(select(IdentityLinkRow).where(IdentityLinkRow.call_id.in_(window))):
            if (link.tenant, link.call_id) in calls:
                calls[(link.tenant, link.call_id)].records.add((link.object_type, link.record_id))
        identity = FieldValueRow.name.in_(("email", "phone"))
        for fv in session.scalars(select(FieldValueRow).where(FieldValueRow.call_id.in_(window), identity)):
            call = calls.get((fv.tenant, fv.call_id))
            if call is None or fv.status != "accepted":
                continue
            if fv.name == "email":
                call.email = normalize_email(str(fv.value))
            else:
                call.phone = normalize_phone(str(fv.value))
        touched = {(c.tenant, ot, rid) for c in calls.values() for ot, rid in c.records}
        records = (
            select(LedgerRow.record_id)
            .where(LedgerRow.call_id.in_(window))
            .union(select(IdentityLinkRow.record_id).where(IdentityLinkRow.call_id.in_(window)))
        )
        rows = session.scalars(
            select(LedgerRow)
            .where(LedgerRow.record_id.in_(records), confirmed)
            .order_by(LedgerRow.confirmed_at, LedgerRow.id)
        ).all()
    latest: dict[tuple[str, str, str], dict[str, LedgerRow]] = defaultdict(dict)
    for row in rows:
        key = (row.tenant, row.object_type, row.record_id)
        if key in touched:
            latest[key][row.field] = row  # later rows win
    return _Known(calls, dict(latest))


# -- what the CRM holds -------------------------------------------------------------------------------


@dataclass
class _CrmView:
    records: dict[tuple[str, str], CRMRecord] = field(default_factory=dict)  # (object_type, id) -> record
    absent: set[tuple[str, str]] = field(default_factory=set)


class _Counting:
    """Counts the requests the job makes and rides out rate limits and transient errors."""

    def __init__(self) -> None:
        self.requests = 0

    async def __call__(self, work: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(8):
            self.requests += 1
            try:
                return await work()
            except RateLimited as exc:
                await asyncio.sleep(min(60.0, exc.retry_after))
            except (TransientError, AmbiguousWriteError):  # the job only reads: always safe to repeat
                if attempt == 7:
                    raise
                await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
        return await work()


async def _crm_view(
    adapter: CRMAdapter,
    tenant: TenantConfig,
    known: _Known,
    since: datetime | None,
    call: _Counting,
) -> _CrmView:
    mapping = tenant.load_mapping()
    contact = mapping.object(CONTACT)
    stamps = {
        obj.crm_object: (obj.stamp_field, obj.last_call_field) for obj in mapping.model.objects.values()
    }
    identity = _identity_fields(tenant)
    wanted: dict[str, set[str]] = defaultdict(set)
    for (t, object_type, _rid), written in known.latest.items():
        if t == tenant.name:
            wanted[object_type] |= set(written)
    for c in known.calls.values():
        if c.tenant == tenant.name:
            for object_type, _ in c.records:
                wanted[object_type]
    wanted[contact.crm_object] |= set(identity)
    for object_type in wanted:
        stamp, last = stamps.get(object_type, (contact.stamp_field, contact.last_call_field))
        wanted[object_type] |= {stamp, last}

    view = _CrmView()
    scan = scanner_for(adapter, tenant.crm.kind)
    if scan is not None:
        for object_type, names in wanted.items():
            records = await call(partial(scan, object_type, sorted(names), since))
            view.records.update({(r.ref.object_type, r.ref.record_id): r for r in records})
    else:
        await _find_stamped_and_identities(adapter, tenant, known, wanted, view, call)
    # Every record the ledger names must be read, whether or not a scan or search saw it.
    for object_type, record_id in sorted(
        {ref for c in known.calls.values() if c.tenant == tenant.name for ref in c.records}
    ):
        if (object_type, record_id) in view.records:
            continue
        read = partial(adapter.read, RecordRef(object_type, record_id), sorted(wanted[object_type]))
        record = await call(read)
        if record is None:
            view.absent.add((object_type, record_id))
        else:
            view.records[(object_type, record_id)] = record
    return view


async def _find_stamped_and_identities(
    adapter: CRMAdapter,
    tenant: TenantConfig,
    known: _Known,
    wanted: dict[str, set[str]],
    view: _CrmView,
    call: _Counting,
) -> None:
    """Without a bulk lister: each call's stamp and each identity through the protocol's `find`."""
    mapping = tenant.load_mapping()
    contact = mapping.object(CONTACT)
    object_types = tuple(contact.match_objects or [contact.crm_object])
    fields = tuple(sorted(wanted[contact.crm_object]))
    mine = [c for c in known.calls.values() if c.tenant == tenant.name]
    for c in mine:
        query = IdentityQuery(
            object_types, origin_call_id=c.call_id, stamp_field=contact.stamp_field, fields=fields
        )
        found = await call(partial(adapter.find, query))
        view.records.update({(r.ref.object_type, r.ref.record_id): r for r in found.by_origin})
    for email in sorted({c.email for c in mine if c.email}):
        found = await call(partial(adapter.find, IdentityQuery(object_types, email=email, fields=fields)))
        view.records.update({(r.ref.object_type, r.ref.record_id): r for r in found.by_email})
    for phone in sorted({c.phone for c in mine if c.phone}):
        found = await call(partial(adapter.find, IdentityQuery(object_types, phone=phone, fields=fields)))
        view.records.update({(r.ref.object_type, r.ref.record_id): r for r in found.by_phone})


def _identity_fields(tenant: TenantConfig) -> dict[str, str]:
    """CRM field -> the identity it holds ("email" / "phone"), from the contact mapping."""
    contact = tenant.load_mapping().object(CONTACT)
    out = {name: f.source for name, f in contact.fields.items() if f.source in ("email", "phone")}
    return {k: str(v) for k, v in out.items()}


# -- the comparison -----------------------------------------------------------------------------------


def _compare(report: ReconcileReport, tenant: TenantConfig, known: _Known, view: _CrmView) -> None:
    mapping = tenant.load_mapping()
    contact = mapping.object(CONTACT)
    stamps = {
        obj.crm_object: (obj.stamp_field, obj.last_call_field) for obj in mapping.model.objects.values()
    }
    calls = {c.call_id: c for c in known.calls.values() if c.tenant == tenant.name}

    for c in calls.values():
        if c.state != "confirmed":
            continue
        for object_type, record_id in sorted(c.records):
            if (object_type, record_id) in view.absent:
                report.missing_writes.append(
                    MissingWrite(tenant.name, c.call_id, object_type, record_id,
                                 "the record this call wrote and confirmed is not in the CRM")
                )  # fmt: skip

    by_stamp: dict[tuple[str, str], list[CRMRecord]] = defaultdict(list)
    for (object_type, _rid), record in view.records.items():
        stamp = stamps.get(object_type, (contact.stamp_field, ""))[0]
        origin = record.fields.get(stamp)
        if not is_empty(origin):
            by_stamp[(object_type, str(origin))].append(record)
    for (object_type, origin), records in sorted(by_stamp.items()):
        if len(records) > 1:
            report.double_writes.append(
                DoubleWrite(tenant.name, "stamp", origin, object_type,
                            sorted((r.ref.record_id for r in records), key=_id_order), [origin])
            )  # fmt: skip
        origin_call = calls.get(origin)
        if origin_call is not None and origin_call.state != "confirmed":
            for r in records:
                report.unacknowledged_writes.append(
                    Unacknowledged(tenant.name, origin, origin_call.state, object_type, r.ref.record_id)
                )
    _identity_doubles(report, tenant, view, contact.crm_object, stamps)

    for (t, object_type, record_id), written in sorted(known.latest.items()):
        held = view.records.get((object_type, record_id))
        if t != tenant.name or held is None:
            continue
        for name, row in sorted(written.items()):
            current = held.fields.get(name)
            if not same_value(current, row.new_value):
                report.drifted_fields.append(
                    Drift(tenant.name, object_type, record_id, name, row.new_value, current, row.call_id,
                          aware_utc(row.confirmed_at or row.written_at).isoformat(timespec="seconds"))
                )  # fmt: skip
    report.records_checked += len(view.records) + len(view.absent)


def _identity_doubles(
    report: ReconcileReport,
    tenant: TenantConfig,
    view: _CrmView,
    contact_object: str,
    stamps: dict[str, tuple[str, str]],
) -> None:
    stamp, last = stamps.get(contact_object, ("callsync_origin_call_id", "callsync_last_call_id"))
    identity = _identity_fields(tenant)
    people = [r for (ot, _), r in view.records.items() if ot == contact_object]

    def email_of(r: CRMRecord) -> str | None:
        return next((normalize_email(str(r.fields[f])) for f, k in identity.items()
                     if k == "email" and not is_empty(r.fields.get(f))), None)  # fmt: skip

    groups: dict[str, dict[str, CRMRecord]] = defaultdict(dict)
    for r in people:
        for f, kind in identity.items():
            raw = r.fields.get(f)
            if is_empty(raw):
                continue
            key = (
                normalize_email(str(raw))
                if kind == "email"
                else normalize_phone(str(raw), tenant.default_country)
            )
            if key:
                groups[f"{kind}:{key}"][r.ref.record_id] = r
    # The same records already reported as one call's double are one problem, not two.
    seen = {frozenset(d.record_ids) for d in report.double_writes if d.tenant == tenant.name}
    for key, members in sorted(groups.items()):
        records = list(members.values())
        if len(records) < 2:
            continue
        if key.startswith("phone:"):
            # One line shared by two people (a company switchboard) is not a double: both have an email,
            # and the emails differ.
            emails = [email_of(r) for r in records]
            if all(emails) and len(set(emails)) == len(emails):
                continue
        ids = frozenset(r.ref.record_id for r in records)
        if ids in seen or not any(not is_empty(r.fields.get(stamp)) for r in records):
            continue  # reported already, or none of them is callsync's
        seen.add(ids)
        calls = sorted(
            {str(r.fields[k]) for r in records for k in (stamp, last) if not is_empty(r.fields.get(k))}
        )
        report.double_writes.append(
            DoubleWrite(tenant.name, "identity", key, contact_object, sorted(ids, key=_id_order), calls)
        )


def _id_order(record_id: str) -> tuple[int, str]:
    return (int(record_id), "") if record_id.isdigit() else (0, record_id)


# -- the job ------------------------------------------------------------------------------------------


async def _misrouted(db: Database, adapter: CRMAdapter, tenant: TenantConfig) -> list[Misrouted]:
    """Records in this tenant's account stamped by calls that are not this tenant's (all time)."""
    lister = stamp_lister_for(adapter, tenant.crm.kind)
    if lister is None:
        return []
    found: list[Misrouted] = []
    for obj in tenant.load_mapping().model.objects.values():
        records = await lister(obj.crm_object, obj.stamp_field, ())
        stamps = {str(r.fields.get(obj.stamp_field)): r for r in records if r.fields.get(obj.stamp_field)}
        if not stamps:
            continue
        with db.session() as session:
            rows = session.execute(
                select(CallRow.tenant, CallRow.call_id).where(CallRow.call_id.in_(list(stamps)))
            ).all()
        owners: dict[str, set[str]] = {}
        for owner, call_id in rows:
            owners.setdefault(call_id, set()).add(owner)
        for call_id, record in sorted(stamps.items()):
            if tenant.name not in owners.get(call_id, set()):
                found.append(Misrouted(tenant.name, record.ref.object_type, record.ref.record_id, call_id,
                                       tuple(sorted(owners.get(call_id, set())))))  # fmt: skip
    return found


def count_calls(report: ReconcileReport, states: Iterable[str]) -> None:
    """Calls received, by the sync state they are in."""
    for state in states:
        report.received += 1
        if state == "confirmed":
            report.confirmed += 1
        elif state == "review":
            report.review += 1
        elif state == "dead_letter":
            report.dead_letter += 1
        elif state == "closed":
            report.closed += 1
        elif state == "delivered":
            report.delivered += 1
        else:
            report.queued += 1


async def reconcile(
    db: Database,
    tenants: dict[str, TenantConfig],
    *,
    since: datetime | None = None,
    adapters: Callable[[TenantConfig], CRMAdapter] | None = None,
) -> ReconcileReport:
    """Compare the ledger with the CRM for the calls received since `since` (all calls when None)."""
    from callsync.crm.pool import AdapterPool

    make = adapters or AdapterPool()
    report = ReconcileReport(since=since, generated_at=datetime.now(UTC))
    with db.session() as session:
        query = select(CallRow.tenant, CallRow.sync_state)
        if since is not None:
            query = query.where(CallRow.received_at >= since)
        present = session.execute(query).all()
    report.skipped_tenants = sorted({t for t, _ in present} - set(tenants))
    count_calls(report, [s for t, s in present if t in tenants])
    known = await asyncio.to_thread(_known, db, since, tenants)
    counter = _Counting()
    for name in sorted({t for t, _ in present} & set(tenants)):
        tenant = tenants[name]
        if not capabilities_for(tenant.crm.kind).read_back:
            report.unreadable_tenants.append(name)  # delivered is all callsync can know there
            continue
        adapter = make(tenant)
        try:
            view = await _crm_view(adapter, tenant, known, since, counter)
            report.misrouted_writes += await _misrouted(db, adapter, tenant)
        finally:
            await adapter.aclose()
        _compare(report, tenant, known, view)
    report.crm_requests = counter.requests
    return report
