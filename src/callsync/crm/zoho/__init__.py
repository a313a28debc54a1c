"""Zoho CRM: Leads and Contacts (with Accounts) through API v8; upsert on a unique field; credits; batches
with group commit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callsync.crm.spec import AdapterContext, Capabilities, CRMSpec
from callsync.crm.zoho.schema import read_schema
from callsync.crm.zoho.settings import ZohoSettings

if TYPE_CHECKING:
    from callsync.crm.protocol import CRMAdapter


def _build(settings: ZohoSettings, context: AdapterContext) -> CRMAdapter:
    from callsync.crm.zoho.adapter import ZohoAdapter

    return ZohoAdapter.from_settings(settings, context)


SPEC = CRMSpec(
    kind="zoho",
    label="Zoho CRM",
    settings=ZohoSettings,
    capabilities=Capabilities(
        batch_write=True,
        max_batch_size=100,
        # Concurrent attempts share multi-record requests (crm/zoho/batches.py): 100-record upserts on the
        # origin stamp, updates, reads by ids, one criteria search for many callers' keys.
        group_commit=True,
        native_upsert=True,
        read_back=True,
        bulk_scan=False,
        daily_credit_budget=True,
        lead_conversion=True,
        name_search=True,
        creates_fields=False,
        # Events, Tasks, Calls, Cases and deal Stage (crm/zoho/actions.py)
        actions=frozenset(
            {"book_meeting", "create_task", "open_ticket", "advance_stage", "handoff", "log_call"}
        ),
    ),
    factory=_build,
    schema_reader=read_schema,
)
