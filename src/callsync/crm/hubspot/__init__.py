"""HubSpot: contacts, companies and deals through the v3 object APIs; batches with group commit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callsync.crm.hubspot.schema import read_schema
from callsync.crm.hubspot.settings import HubSpotSettings
from callsync.crm.spec import AdapterContext, Capabilities, CRMSpec

if TYPE_CHECKING:
    from callsync.crm.protocol import CRMAdapter


def _build(settings: HubSpotSettings, context: AdapterContext) -> CRMAdapter:
    from callsync.crm.hubspot.adapter import HubSpotAdapter

    return HubSpotAdapter(
        settings.token(),
        settings.base_url,
        timeout_s=settings.timeout_s,
        transport=context.transport,
        batching=context.batching,
        search_per_second=settings.search_per_second,
    )


SPEC = CRMSpec(
    kind="hubspot",
    label="HubSpot",
    settings=HubSpotSettings,
    capabilities=Capabilities(
        batch_write=True,
        max_batch_size=100,
        group_commit=True,
        native_upsert=False,  # create, then a 409 on the unique stamp names the record
        read_back=True,
        bulk_scan=True,
        daily_credit_budget=False,
        lead_conversion=False,
        name_search=True,
        creates_fields=True,
        # meetings, tasks, tickets, calls and dealstage (crm/hubspot/actions.py)
        actions=frozenset(
            {"book_meeting", "create_task", "open_ticket", "advance_stage", "handoff", "log_call"}
        ),
    ),
    factory=_build,
    schema_reader=read_schema,
)
