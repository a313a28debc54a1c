"""Salesforce: Leads and Contacts (with Accounts) through the REST API; upsert on an External ID; group
commit through SOQL IN lookups and sObject Collections."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callsync.crm.salesforce.schema import read_schema
from callsync.crm.salesforce.settings import SalesforceSettings
from callsync.crm.spec import AdapterContext, Capabilities, CRMSpec

if TYPE_CHECKING:
    from callsync.crm.protocol import CRMAdapter


def _build(settings: SalesforceSettings, context: AdapterContext) -> CRMAdapter:
    from callsync.crm.salesforce.adapter import SalesforceAdapter

    return SalesforceAdapter.from_settings(settings, context)


SPEC = CRMSpec(
    kind="salesforce",
    label="Salesforce",
    settings=SalesforceSettings,
    capabilities=Capabilities(
        batch_write=True,
        max_batch_size=200,
        # Concurrent attempts share SOQL lookups and sObject Collections (crm/salesforce/batches.py).
        group_commit=True,
        native_upsert=True,
        read_back=True,
        bulk_scan=False,
        daily_credit_budget=True,
        lead_conversion=True,
        name_search=True,
        creates_fields=False,
        # Event, Task (to-dos, handoffs, logged calls), Case and Opportunity StageName (crm/salesforce/actions.py)
        actions=frozenset(
            {"book_meeting", "create_task", "open_ticket", "advance_stage", "handoff", "log_call"}
        ),
    ),
    factory=_build,
    schema_reader=read_schema,
)
