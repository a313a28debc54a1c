"""`callsync rehearse --tenant FILE [--calls FILE]`: a go-live rehearsal against the tenant's CRM emulator.

The tenant's CRM emulator is stood up in process, seeded with the tenant's schema (read from its CRM, or
an exported file), and sample calls (the demo's, or the tenant's own file) go through the real pipeline
under a fault plan: the first create's answer is lost after the CRM committed it, a storm of throttling
answers (429; Salesforce's 403 REQUEST_LIMIT_EXCEEDED), and a short outage (503s). Then the
reconciliation job runs against the emulator. The result says what was created, what waited for review,
and whether anything was lost or doubled; it is written as a file the contract check reads
(trust/contract.py `RehearsalResult`).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from callsync.capture.platforms.generic import parse_generic_call
from callsync.capture.reader import read_calls
from callsync.config import DeliverySettings, TenantConfig
from callsync.crm.schema import CRMSchema
from callsync.errors import InputError
from callsync.models import CallRecord
from callsync.pipeline import engine
from callsync.pipeline.intake import receive_call
from callsync.pipeline.worker import Backlog, drain, running_worker
from callsync.services.reconcile import reconcile
from callsync.store.db import Database
from callsync.store.tables import CallRow, LedgerRow
from callsync.structure.mapping import MappingDocument
from callsync.structure.mapping_doc import integration_version
from callsync.trust.contract import RehearsalResult, SampleTrace
from callsync.trust.trace import field_history
from callsync_sandbox.demo import DEMO_CALLS, DEMO_TOKEN_ENV, SANDBOX_TOKEN
from callsync_sandbox.faults import FaultInjector, FaultPlan
from callsync_sandbox.seed import build_sandbox
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.webhook import SANDBOX_SECRET

__all__ = [
    "REHEARSAL_TOKEN_ENV",
    "URL_SETTING",
    "RecentCall",
    "fault_plan",
    "pointed_at",
    "recent_calls",
    "rehearse",
]

# The variable the rehearsal's tenant reads its emulator's token (or webhook secret) from.
REHEARSAL_TOKEN_ENV: Final = "CALLSYNC_REHEARSAL_TOKEN"

# The setting of each CRM's tenant section that says where its API is.
URL_SETTING: Final = {
    "hubspot": "base_url",
    "salesforce": "instance_url",
    "zoho": "api_domain",
    "pipedrive": "api_domain",
    "gohighlevel": "api_url",
    "webhook": "url",
}
# The path under the emulator's address a setting points at (the webhook receiver's hook).
_URL_PATH: Final = {"webhook": "/hooks/calls"}
_THROTTLE: Final = {"salesforce": 403}  # Salesforce throttles with 403 REQUEST_LIMIT_EXCEEDED
_ANY_PATH: Final = {"salesforce": "/services/data/.*", "zoho": "/crm/.*", "pipedrive": "/api/v2/.*"}
# Requests let through before the storm and before the outage: a webhook target gets one request a call.
_SKIP: Final = {"webhook": (1, 3)}


def _create_path(crm: str, crm_object: str, stamp: str) -> tuple[str, str]:
    """(method, path regex) of the request that creates the caller's record."""
    if crm == "hubspot":
        return "POST", f"/crm/v3/objects/{crm_object}(/batch/create)?"
    if crm == "salesforce":
        return "PATCH", f"/services/data/v[0-9.]+/sobjects/{crm_object}/{stamp}/.*"
    if crm == "zoho":
        return "POST", f"/crm/v[0-9]+/{crm_object}/upsert"
    if crm == "pipedrive":
        return "POST", f"/api/v2/{crm_object}"
    if crm == "webhook":
        return "POST", _URL_PATH["webhook"]
    return "POST", "/contacts/upsert"


def fault_plan(crm: str, doc: MappingDocument) -> FaultPlan:
    """A lost answer after commit on the first create, a throttling storm, a short outage."""
    contact = doc.object("contact")
    method, path = _create_path(crm, contact.crm_object, contact.stamp_field)
    every = _ANY_PATH.get(crm, "/.*")
    storm, outage = _SKIP.get(crm, (8, 16))
    return FaultPlan.model_validate(
        {
            "seed": 17,
            "rules": [
                {"method": method, "path": path, "fault": "drop_response_after_commit", "times": 1},
                {
                    "path": every,
                    "fault": "status",
                    "status": _THROTTLE.get(crm, 429),
                    "skip": storm,
                    "times": 4,
                },
                {"path": every, "fault": "status", "status": 503, "skip": outage, "times": 3},
            ],
        }
    )


def pointed_at(tenant: TenantConfig, base_url: str, token_env: str = DEMO_TOKEN_ENV) -> TenantConfig:
    """The tenant, its CRM section pointed at an emulator, with short waits for a rehearsal."""
    settings = type(tenant.crm).model_fields
    url = base_url + _URL_PATH.get(tenant.crm.kind, "")
    update: dict[str, Any] = {URL_SETTING[tenant.crm.kind]: url, "token_env": token_env}
    if "timeout_s" in settings:
        update["timeout_s"] = 2.0
    if "limit_retry_s" in settings:
        update["limit_retry_s"] = 1.0
    return tenant.model_copy(
        update={
            "crm": tenant.crm.model_copy(update=update),
            "delivery": DeliverySettings(max_attempts=6, base_delay_s=0.2, max_delay_s=2.0),
        }
    )


@dataclass(frozen=True)
class _Landed:
    created: dict[str, int]
    doubled: int


def _stamp_of(record: dict[str, Any], stamp: str) -> str:
    props = record.get("properties")
    value = (props if isinstance(props, dict) else record).get(stamp)
    return str(value or "")


def _landed(sandbox: Any, crm: str, doc: MappingDocument, location: str | None) -> _Landed:
    if crm == "webhook":  # a receiver keeps deliveries: one per event id, a call twice is doubled
        events = sandbox.records()
        calls = Counter(str(e.get("call_id") or "") for e in events)
        return _Landed({"deliveries": len(events)}, sum(n - 1 for n in calls.values() if n > 1))
    created: dict[str, int] = {}
    doubled = 0
    for obj in doc.model.objects.values():
        if obj.crm_object in created:
            continue
        rows = (
            sandbox.records(obj.crm_object, location)
            if crm == "gohighlevel"
            else sandbox.records(obj.crm_object)
        )
        live = [r for r in rows if not r.get("archived") and not r.get("IsDeleted")]
        created[obj.crm_object] = len(live)
        stamps = Counter(s for r in live if (s := _stamp_of(r, obj.stamp_field)))
        doubled += sum(n - 1 for n in stamps.values() if n > 1)
    return _Landed(created, doubled)


def _sample_trace(db: Database, crm: str) -> SampleTrace | None:
    """The audit trail of one field a call wrote: the first ledger row whose value has its sentence."""
    from sqlalchemy import select

    with db.session() as session:
        rows = session.scalars(
            select(LedgerRow).where(LedgerRow.policy != "default").order_by(LedgerRow.id).limit(200)
        ).all()
    for row in rows:
        for entry in field_history(db, crm, row.record_id, row.field):
            if entry.quotes:
                return SampleTrace(
                    crm_object=row.object_type,
                    record_id=row.record_id,
                    field=row.field,
                    value=str(entry.value),
                    call_id=entry.call_id,
                    policy=entry.policy,
                    sentence=entry.quotes[0].sentence,
                    integration_version=entry.integration_version,
                )
    return None


def _fault_counts(sandbox: Any) -> dict[str, int]:
    """How many requests each kind of fault hit. Every emulator keeps its plan's injector as `_faults`
    (HubSpot also offers `fault_stats()`); the rehearsal reads its per-rule firings."""
    injector = getattr(sandbox, "_faults", None)
    if not isinstance(injector, FaultInjector):
        return {}
    counts: Counter[str] = Counter()
    for rule in injector.stats()["fired"]:
        name = rule["fault"] if rule["fault"] != "status" else f"status {rule['status']}"
        counts[name] += int(rule["fired"])
    return dict(counts)


@dataclass(frozen=True)
class RecentCall:
    """A call the tenant already received, as first stored: replayed in the rehearsal's own database."""

    call: CallRecord
    raw_payload: str
    payload_format: str | None
    source: str


def recent_calls(db: Database, tenant: TenantConfig, since: datetime, limit: int = 200) -> list[RecentCall]:
    """The tenant's calls received since `since` (newest `limit`), read from its database, never changed."""
    from sqlalchemy import select

    from callsync.pipeline.engine import load_call

    with db.session() as session:
        rows = session.scalars(
            select(CallRow)
            .where(CallRow.tenant == tenant.name, CallRow.received_at >= since)
            .order_by(CallRow.received_at.desc())
            .limit(limit)
        ).all()
    found = []
    for row in reversed(rows):  # oldest first, as they arrived
        call = load_call(db, tenant.name, row.call_id)
        found.append(RecentCall(call, row.raw_payload, row.payload_format, f"{row.source or 'database'}"))
    return found


def rehearse(
    tenant: TenantConfig,
    *,
    calls: Path | None = None,
    recent: list[RecentCall] | None = None,
    schema: CRMSchema | None = None,
    schema_source: str = "",
    on_progress: Callable[[Backlog], None] | None = None,
    timeout_s: float = 180.0,
) -> RehearsalResult:
    """Run the rehearsal in a fresh database of its own; the tenant's database is never touched."""
    doc = tenant.load_mapping()
    kind = tenant.crm.kind
    location = getattr(tenant.crm, "location_id", None)
    plan = fault_plan(kind, doc)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    token = SANDBOX_SECRET if kind == "webhook" else SANDBOX_TOKEN  # a webhook's is a signing secret
    os.environ[REHEARSAL_TOKEN_ENV] = token
    sandbox = build_sandbox(kind, token, plan, schema, location=location, quick=True)
    with tempfile.TemporaryDirectory(prefix="callsync-rehearsal-") as tmp:
        db = Database(f"sqlite:///{tmp}/rehearsal.db")
        try:
            db.migrate()
            with SandboxServer(sandbox.app()) as server:
                target = pointed_at(tenant, server.base_url, REHEARSAL_TOKEN_ENV)
                received = 0
                for given in recent or []:
                    receive_call(
                        db, given.call, given.raw_payload, given.source, payload_format=given.payload_format
                    )
                    received += 1
                for raw in read_calls(calls or DEMO_CALLS) if recent is None else []:
                    if raw.error:
                        raise raw.error
                    call = parse_generic_call(
                        raw.payload, tenant=target.name, source=raw.source, line=raw.line
                    )
                    receive_call(db, call, raw.text, f"{raw.source}:{raw.line}")
                    received += 1
                if not received:
                    raise InputError("no calls to rehearse with", str(calls or "the tenant's recent calls"))
                with running_worker(engine.Runtime(db, {target.name: target})):
                    state = drain(db, timeout_s=timeout_s, on_progress=on_progress)
                report = reconcile(db, {target.name: target})
                landed = _landed(sandbox, kind, doc, location)
                faults = _fault_counts(sandbox)
            trace = _sample_trace(db, kind)
        finally:
            db.dispose()
    summary = (
        f"{report.received} call(s): confirmed {report.confirmed}, in review {report.review}, "
        f"dead letters {report.dead_letter}; lost {report.lost}, doubled {report.doubled}, "
        f"{len(report.drifted_fields)} drifted"
    )
    return RehearsalResult(
        tenant=tenant.name,
        crm=kind,
        mapping=doc.source,
        integration_version=integration_version(doc),
        schema_source=schema_source,
        started_at=started,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        calls=state.total,
        confirmed=state.confirmed,
        delivered=state.delivered,
        review=state.review,
        dead_letter=state.dead_letter,
        queued=state.queued,
        created=landed.created,
        doubled=landed.doubled + report.doubled,
        lost=state.dead_letter + state.queued + report.lost,
        faults=faults,
        reconcile_clean=report.clean,
        reconcile_summary=summary,
        trace=trace,
        schema_digest=schema.digest() if schema is not None else "",
    )
