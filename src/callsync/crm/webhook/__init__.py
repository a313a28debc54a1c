"""An outbound webhook target: the whole call as one signed JSON document (Standard Webhooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callsync.crm.spec import AdapterContext, Capabilities, CRMSpec
from callsync.crm.webhook.settings import WebhookSettings

if TYPE_CHECKING:
    from callsync.crm.protocol import CRMAdapter


def _build(settings: WebhookSettings, context: AdapterContext) -> CRMAdapter:
    from callsync.crm.webhook.adapter import WebhookAdapter

    return WebhookAdapter.from_settings(settings, context)


SPEC = CRMSpec(
    kind="webhook",
    label="webhook",
    settings=WebhookSettings,
    capabilities=Capabilities(
        batch_write=False,
        max_batch_size=1,
        group_commit=False,
        native_upsert=False,
        # A receiver keeps nothing callsync can read or search: a 2xx is "delivered", never "confirmed".
        read_back=False,
        search=False,
        bulk_scan=False,
        daily_credit_budget=False,
        lead_conversion=False,
        name_search=False,
        creates_fields=False,
    ),
    factory=_build,
)
