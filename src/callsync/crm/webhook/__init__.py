"""An outbound webhook target: the whole call as one signed JSON document (Standard Webhooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callsync.actions.rules import ActionKind
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
        # Every action a mapping's rules may plan travels in the document (`actions`) for the receiver to
        # carry out; callsync itself runs none against a webhook (the engine runs actions on confirmed
        # records only).
        actions=frozenset(kind.value for kind in ActionKind),
    ),
    factory=_build,
)
