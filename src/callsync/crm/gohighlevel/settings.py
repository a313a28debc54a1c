"""A GoHighLevel tenant's connection: the one location (sub-account) its calls are written to."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import model_validator

from callsync.crm.settings import CRMConnection

DEFAULT_BASE_URL = "https://services.leadconnectorhq.com"
API_VERSION = "2021-07-28"


class GoHighLevelSettings(CRMConnection):
    """GoHighLevel (LeadConnector API v2). `location_id` is required: every call of the tenant is written
    to that sub-account and no other. The token (`token_env`) is a location (sub-account) token, or, with
    `company_id`, an agency token that callsync exchanges for the location's token
    (`POST /oauth/locationToken`). `pipeline_id` / `pipeline_stage_id`: where opportunities are created
    (default: the location's first pipeline and its first stage)."""

    kind: Literal["gohighlevel"] = "gohighlevel"
    location_id: str | None = None
    company_id: str | None = None
    # The API host (the vendor's, or an emulator on 127.0.0.1).
    api_url: str = DEFAULT_BASE_URL
    pipeline_id: str | None = None
    pipeline_stage_id: str | None = None

    @model_validator(mode="after")
    def _needs_location(self) -> Self:
        if not self.location_id or not self.location_id.strip():
            raise ValueError(
                "a GoHighLevel connection needs location_id (the sub-account every call of this tenant "
                "is written to)"
            )
        return self
