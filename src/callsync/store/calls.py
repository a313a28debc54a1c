"""Storing what was received but cannot be a call: kept whole, with the reason, so nothing is lost.

Calls themselves are received by `pipeline/intake.py` (the call row and its sync job in one transaction).
"""

from __future__ import annotations

from callsync.store.db import Database
from callsync.store.tables import QuarantineRow


def quarantine(db: Database, source: str, reason: str, payload: str, tenant: str | None = None) -> int:
    """Keep a payload that failed validation whole, with the reason, so nothing received is lost."""
    with db.session() as session:
        row = QuarantineRow(tenant=tenant, source=source, reason=reason, payload=payload)
        session.add(row)
        session.flush()
        return row.id
