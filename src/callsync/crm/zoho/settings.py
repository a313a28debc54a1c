"""A Zoho CRM tenant's connection: the data centre's API domain, the API version, the daily credits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from callsync.crm.settings import BudgetedConnection

DEFAULT_API_DOMAIN = "https://www.zohoapis.com"
DEFAULT_API_VERSION = "v8"


class ZohoSettings(BudgetedConnection):
    """Zoho CRM: the token response's `api_domain` (US https://www.zohoapis.com, EU ...zohoapis.eu, ...)
    and the org's API credits per rolling 24 h (edition + licences + add-ons), counted in the database so
    every worker spends from one budget. `daily_credits` None: not counted, only Zoho's own refusal
    pauses the writes."""

    kind: Literal["zoho"] = "zoho"
    api_domain: str = DEFAULT_API_DOMAIN
    api_version: str = DEFAULT_API_VERSION
    daily_credits: int | None = Field(default=None, ge=1)
