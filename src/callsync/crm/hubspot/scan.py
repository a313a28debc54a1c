"""Listing a CRM's records in bulk, for the reconciliation job, where the CRM allows it.

The adapter protocol finds records one identity or one call at a time, which costs a search per call:
fine for the delivery engine, slow for a reconciliation over thousands of calls (HubSpot allows five
searches a second). Where a CRM can page through its records, a scanner lists every record modified since
a moment in a few requests instead. Only HubSpot has one so far; for the others the job falls back to the
protocol's `find` and `read`.

The HubSpot scanner pages the v3 search endpoint sorted by record id (200 per page) and starts a new query
from the last id before the 10,000-result cap. Search lags writes by a few seconds: run the job after the
queue has settled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from callsync.crm.protocol import CRMRecord, RecordRef

_PAGE = 200
_MAX_RESULTS = 10_000
_HUBSPOT_MODIFIED = {"contacts": "lastmodifieddate"}


async def scan_records(
    adapter: Any, object_type: str, fields: Sequence[str], since: datetime | None
) -> list[CRMRecord]:
    records: list[CRMRecord] = []
    last_id = 0
    while True:
        filters: list[dict[str, Any]] = [
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)}
        ]
        if since is not None:
            modified = _HUBSPOT_MODIFIED.get(object_type, "hs_lastmodifieddate")
            filters.append(
                {"propertyName": modified, "operator": "GTE", "value": str(int(since.timestamp() * 1000))}
            )
        after, seen = 0, 0
        while True:
            body = {
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "properties": list(fields),
                "limit": _PAGE,
                "after": str(after),
            }
            # The adapter's own transport: authentication, its search limiter, its error mapping.
            response = await adapter._send(
                "POST", f"/crm/v3/objects/{object_type}/search", json=body, search=True
            )
            data = response.json()
            page = data.get("results", [])
            for item in page:
                records.append(
                    CRMRecord(RecordRef(object_type, str(item["id"])), dict(item.get("properties") or {}))
                )
            seen += len(page)
            next_after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not page or next_after is None:
                return records
            if seen + _PAGE > _MAX_RESULTS:
                last_id = int(records[-1].ref.record_id)
                break  # a new query from the last id: search cannot page past 10,000 results
            after = int(next_after)
