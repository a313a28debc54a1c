"""A HubSpot tenant's connection: a private app token and the API host."""

from __future__ import annotations

from typing import Literal

from callsync.crm.settings import CRMConnection

DEFAULT_BASE_URL = "https://api.hubapi.com"


class HubSpotSettings(CRMConnection):
    """HubSpot: a private app token (`$CALLSYNC_HUBSPOT_TOKEN` by default) and the API host."""

    kind: Literal["hubspot"] = "hubspot"
    base_url: str = DEFAULT_BASE_URL
