"""Pipedrive: persons, organizations and deals through API v2 (v1 where v2 has nothing); token budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callsync.crm.pipedrive.schema import read_schema
from callsync.crm.pipedrive.settings import PipedriveSettings
from callsync.crm.spec import AdapterContext, Capabilities, CRMSpec

if TYPE_CHECKING:
    from callsync.crm.protocol import CRMAdapter
    from callsync.structure.mapping import MappingDocument


def _build(settings: PipedriveSettings, context: AdapterContext) -> CRMAdapter:
    from callsync.crm.pipedrive.adapter import PipedriveAdapter

    return PipedriveAdapter.from_settings(settings, context)


async def _check_mapping(settings: PipedriveSettings, document: MappingDocument) -> None:
    """Resolve every mapped field through personFields/organizationFields/dealFields once, at load: Pipedrive
    drops a field it does not know without a word. A company that cannot be asked now (down, throttled)
    is not a configuration error: its fields are checked on the next load."""
    import structlog

    from callsync.crm.errors import CRMError
    from callsync.crm.pipedrive.adapter import PipedriveAdapter
    from callsync.crm.pipedrive.mapping import check_mapping_fields

    adapter = PipedriveAdapter.from_settings(settings, AdapterContext())
    try:
        await check_mapping_fields(adapter, document)
    except CRMError as exc:
        structlog.get_logger("callsync.crm").warning("mapping not checked against Pipedrive", error=str(exc))
    finally:
        await adapter.aclose()


SPEC = CRMSpec(
    kind="pipedrive",
    label="Pipedrive",
    settings=PipedriveSettings,
    capabilities=Capabilities(
        batch_write=False,  # Pipedrive has no bulk create or update: write_batch loops over write
        max_batch_size=1,
        group_commit=False,
        native_upsert=False,  # no upsert: search the stamp, then create
        read_back=True,
        bulk_scan=False,
        daily_credit_budget=True,  # the company's daily API tokens, counted from x-token-cost
        lead_conversion=False,
        name_search=True,
        creates_fields=True,  # POST /v1/personFields (and organization, deal) creates the stamps
        # activities (meeting, task, call) and deal stage_id; no tickets (crm/pipedrive/actions.py)
        actions=frozenset({"book_meeting", "create_task", "advance_stage", "handoff", "log_call"}),
    ),
    factory=_build,
    schema_reader=read_schema,
    check_mapping=_check_mapping,
)
