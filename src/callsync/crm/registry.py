"""Every CRM callsync can write to: kind -> settings model, declared capabilities, adapter factory.

Adding a CRM is one folder (`crm/<kind>/`: settings.py, adapter, wire mapping, and a `SPEC` in its
`__init__.py`) and one line in each of the two lists below. Nothing else in callsync names a CRM: the
tenant file's `crm` section validates through `CRMSettings`, the pool builds adapters through `spec_for`,
and the pipeline and trust read `capabilities_for`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, TypeAdapter

from callsync.crm.gohighlevel import SPEC as GOHIGHLEVEL
from callsync.crm.gohighlevel.settings import GoHighLevelSettings
from callsync.crm.hubspot import SPEC as HUBSPOT
from callsync.crm.hubspot.settings import HubSpotSettings
from callsync.crm.pipedrive import SPEC as PIPEDRIVE
from callsync.crm.pipedrive.settings import PipedriveSettings
from callsync.crm.salesforce import SPEC as SALESFORCE
from callsync.crm.salesforce.settings import SalesforceSettings
from callsync.crm.settings import CRMConnection, set_default_kind, settings_input
from callsync.crm.spec import AdapterContext, Capabilities, CRMSpec
from callsync.crm.webhook import SPEC as WEBHOOK
from callsync.crm.webhook.settings import WebhookSettings
from callsync.crm.zoho import SPEC as ZOHO
from callsync.crm.zoho.settings import ZohoSettings

__all__ = [
    "DEFAULT_KIND",
    "SPECS",
    "AdapterContext",
    "AnySettings",
    "CRMConnection",
    "CRMSettings",
    "CRMSpec",
    "Capabilities",
    "capabilities_for",
    "parse_settings",
    "settings_input",
    "spec_for",
]

SPECS: dict[str, CRMSpec[Any]] = {
    spec.kind: spec for spec in (HUBSPOT, SALESFORCE, ZOHO, GOHIGHLEVEL, PIPEDRIVE, WEBHOOK)
}

# A tenant's `crm` section: one model per kind, chosen by `kind`.
AnySettings = (
    HubSpotSettings | SalesforceSettings | ZohoSettings | GoHighLevelSettings | PipedriveSettings | WebhookSettings
)
# A mapping without `kind` means DEFAULT_KIND; another CRM's setting is named as such (settings_input).
CRMSettings = Annotated[
    AnySettings, Field(discriminator="kind"), BeforeValidator(lambda v: settings_input(v))
]

# What a `crm` section without `kind` means (tenant files written before there was a choice).
DEFAULT_KIND = "hubspot"
set_default_kind(DEFAULT_KIND)

_ADAPTER: TypeAdapter[AnySettings] = TypeAdapter(CRMSettings)


def spec_for(kind: str) -> CRMSpec[Any]:
    try:
        return SPECS[kind]
    except KeyError:
        raise ValueError(f"unknown CRM kind {kind!r} (one of: {', '.join(SPECS)})") from None


def capabilities_for(kind: str) -> Capabilities:
    return spec_for(kind).capabilities


def parse_settings(data: Mapping[str, Any]) -> AnySettings:
    """Validate a `crm` section (a mapping) into its kind's settings model."""
    return _ADAPTER.validate_python(data)
