"""The reconciliation job (trust/reconcile.py): calls received vs confirmed, lost and double writes, drift."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from callsync.config import TenantConfig
from callsync.services.errors import ServiceError
from callsync.store.db import Database
from callsync.trust.reconcile import ReconcileReport
from callsync.trust.reconcile import reconcile as run

__all__ = ["ReconcileReport", "parse_since", "reconcile"]

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 moment (UTC when it names no zone), or a duration back from now: 90s, 30m, 6h, 7d.
    Raises ValueError naming the accepted forms."""
    match = _RELATIVE.match(text.strip())
    if match:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"--since {text!r}: not an ISO date/time nor a duration like 6h or 7d") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reconcile(
    db: Database, tenants: dict[str, TenantConfig], since: datetime | None = None
) -> ReconcileReport:
    """Only reads: drift is reported, never fixed. A CRM that cannot be read is a ServiceError (no verdict)."""
    try:
        return asyncio.run(run(db, tenants, since=since))
    except Exception as exc:  # the CRM unreachable, a bad token: no verdict, say why
        raise ServiceError(f"reconcile could not read the CRM: {exc}") from exc
