"""Quarantined payloads: received but could not become calls. List, show, retry with the current tenant
configuration, or discard with a reason (kept whole either way)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callsync.config import TenantConfig
from callsync.services.errors import AlreadyDecided, NotFound, ServiceError
from callsync.store import events
from callsync.store.db import Database

STATUSES = ("open", "retried", "discarded")


@dataclass(frozen=True)
class Quarantined:
    id: int
    received_at: datetime
    status: str
    platform: str
    tenant: str | None
    source: str
    reason: str
    call_id: str | None
    payload: str

    def to_json(self, *, payload: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "received_at": self.received_at.isoformat(), "status": self.status,
            "platform": self.platform, "tenant": self.tenant, "source": self.source, "reason": self.reason,
            "call_id": self.call_id,
        }  # fmt: skip
        if payload:
            out["payload"] = self.payload
        return out


def _view(row: Any) -> Quarantined:
    return Quarantined(
        row.id, row.received_at, row.status, row.platform or "generic", row.tenant, row.source, row.reason,
        row.call_id, row.payload,
    )  # fmt: skip


def list_(db: Database, status: str | None = "open") -> list[Quarantined]:
    if status is not None and status not in STATUSES:
        raise ServiceError(f"no quarantine status {status!r}; one of: {', '.join(STATUSES)}")
    return [_view(r) for r in events.list_quarantine(db, status)]


def get(db: Database, quarantine_id: int) -> Quarantined:
    row = events.get_quarantined(db, quarantine_id)
    if row is None:
        raise NotFound(f"no quarantined payload {quarantine_id}")
    return _view(row)


@dataclass(frozen=True)
class RetryResult:
    id: int
    ok: bool
    message: str  # why not, or what it became
    call_id: str | None = None
    tenant: str | None = None


def retry(
    db: Database, configs: dict[str, TenantConfig], ids: list[int], tenant: str | None = None
) -> list[RetryResult]:
    """Run payloads through ingest again with the current tenant files. A stored one is marked `retried`;
    the others stay open with the newest reason. `tenant` stores under that tenant instead of routing."""
    from callsync.route.ingest import Refused, ingest_payload

    results: list[RetryResult] = []
    for qid in ids:
        row = events.get_quarantined(db, qid)
        if row is None or row.status != "open":
            results.append(RetryResult(qid, False, "no such row" if row is None else f"already {row.status}"))
            continue
        try:
            outcome = ingest_payload(
                db, configs, row.platform or "generic", row.payload, candidates=list(configs),
                source=row.source, tenant=tenant or row.tenant, keep=False,
            )  # fmt: skip
        except Refused as exc:
            events.requarantine(db, qid, exc.detail)
            results.append(RetryResult(qid, False, f"still refused: {exc.detail}"))
            continue
        if outcome.status == "quarantined" or outcome.call_id is None or outcome.tenant is None:
            events.requarantine(db, qid, outcome.reason or outcome.status)
            results.append(RetryResult(qid, False, f"still {outcome.status}: {outcome.reason or ''}".strip()))
            continue
        events.resolve_quarantined(db, qid, outcome.tenant, outcome.call_id)
        results.append(RetryResult(qid, True, outcome.status, outcome.call_id, outcome.tenant))
    return results


def discard(db: Database, quarantine_id: int, *, reason: str, by: str) -> Quarantined:
    """Give up on an open payload, with a reason; the row stays whole, `discarded`, for audit."""
    if not reason.strip():
        raise ServiceError("say why with --reason: the reason is kept with the payload")
    try:
        row = events.discard_quarantined(db, quarantine_id, reason.strip(), by)
    except ValueError as exc:
        raise AlreadyDecided(str(exc)) from exc
    if row is None:
        raise NotFound(f"no quarantined payload {quarantine_id}")
    return _view(row)
