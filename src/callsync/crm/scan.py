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
from callsync.crm.registry import capabilities_for

Scanner = Callable[[str, Sequence[str], datetime | None], Awaitable[list[CRMRecord]]]


def scanner_for(adapter: CRMAdapter, kind: str) -> Scanner | None:
    """A bulk lister for this adapter's CRM when its kind declares the `bulk_scan` capability, else None
    (then use find/read)."""
    if not capabilities_for(kind).bulk_scan:
        return None
    scan = getattr(adapter, "scan", None)
    if not callable(scan):
        raise TypeError(f"{kind} declares bulk_scan but its adapter has no scan method")
    return scan  # type: ignore[no-any-return]


StampLister = Callable[[str, str, Sequence[str]], Awaitable[list[CRMRecord]]]


def stamp_lister_for(adapter: CRMAdapter, kind: str) -> StampLister | None:
    """Every stamped record of the adapter's account, when its kind declares `stamp_listing`, else None."""
    if not capabilities_for(kind).stamp_listing:
        return None
    stamped = getattr(adapter, "stamped", None)
    if not callable(stamped):
        raise TypeError(f"{kind} declares stamp_listing but its adapter has no stamped method")
    return stamped  # type: ignore[no-any-return]
