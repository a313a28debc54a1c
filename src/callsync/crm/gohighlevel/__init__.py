"""GoHighLevel (LeadConnector API v2): contacts, opportunities and notes in one location per tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callsync.crm.gohighlevel.schema import read_schema
from callsync.crm.gohighlevel.settings import GoHighLevelSettings
from callsync.crm.spec import AdapterContext, Capabilities, CRMSpec

if TYPE_CHECKING:
    from callsync.crm.protocol import CRMAdapter


def _build(settings: GoHighLevelSettings, context: AdapterContext) -> CRMAdapter:
    from callsync.crm.gohighlevel.adapter import GoHighLevelAdapter

    return GoHighLevelAdapter.from_settings(settings, context)


SPEC = CRMSpec(
    kind="gohighlevel",
    label="GoHighLevel",
    settings=GoHighLevelSettings,
    capabilities=Capabilities(
        batch_write=False,
        max_batch_size=1,
        group_commit=False,
        # POST /contacts/upsert matches on the location's email/phone, not on the stamp.
        native_upsert=False,
        read_back=True,
        bulk_scan=False,
        daily_credit_budget=False,
        lead_conversion=False,
        name_search=False,
        creates_fields=True,
        stamp_listing=True,
        # appointments, a contact's tasks, a note as the call log, opportunity stage; no tickets
        # (crm/gohighlevel/actions.py)
        actions=frozenset({"book_meeting", "create_task", "advance_stage", "handoff", "log_call"}),
    ),
    factory=_build,
    schema_reader=read_schema,
)
