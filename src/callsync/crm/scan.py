"""Listing a CRM's records in bulk, for the reconciliation job, where the CRM allows it.

The adapter protocol finds records one identity or one call at a time, which costs a search per call:
fine for the delivery engine, slow for a reconciliation over thousands of calls. Where a CRM can page
through its records, a scanner lists every record modified since a moment in a few requests instead;
for the others the job falls back to the protocol's `find` and `read`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from callsync.crm.protocol import CRMAdapter, CRMRecord

Scanner = Callable[[str, Sequence[str], datetime | None], Awaitable[list[CRMRecord]]]


def scanner_for(adapter: CRMAdapter) -> Scanner | None:
    """A bulk lister for this adapter's CRM, or None (then use find/read)."""
    scan = getattr(adapter, "scan", None)
    return scan if callable(scan) else None
