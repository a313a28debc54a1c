"""A HubSpot tenant's connection: a private app token and the API host."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from callsync.crm.hubspot.wire import SEARCH_PER_SECOND
from callsync.crm.settings import CRMConnection

DEFAULT_BASE_URL = "https://api.hubapi.com"


class HubSpotSettings(CRMConnection):
    """HubSpot: a private app token (`$CALLSYNC_HUBSPOT_TOKEN` by default) and the API host."""

    kind: Literal["hubspot"] = "hubspot"
    base_url: str = DEFAULT_BASE_URL
    # The portal's search limit. HubSpot answers searches without limit headers, so callsync cannot learn
    # it as it learns the 10-second window: set it only if HubSpot has given your account another one.
    search_per_second: int = Field(default=SEARCH_PER_SECOND, ge=1)
