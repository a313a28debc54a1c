"""A Pipedrive tenant's connection: the company's API domain, how the token is sent, the daily tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from callsync.crm.settings import BudgetedConnection

DEFAULT_API_DOMAIN = "https://api.pipedrive.com"


class PipedriveSettings(BudgetedConnection):
    """Pipedrive: `api_domain` is `https://api.pipedrive.com` or the company's own
    `https://{company}.pipedrive.com` (an OAuth token response names it); `auth` says whether the token is
    an API token (`x-api-token` header) or an OAuth access token (`Authorization: Bearer`).

    `daily_tokens`: the company's daily API token budget (30,000 x plan multiplier x seats, plus top-ups),
    counted in the database from each endpoint's `x-token-cost` so every worker spends from one budget;
    None: not counted, only Pipedrive's own refusal pauses the writes. `burst_requests`: the token's
    requests per 2-second window (API token 20/40/80/100/120 by plan, OAuth 80/160/320/400/480); the
    `x-ratelimit-*` headers correct it as answers arrive. Search has its own 10 per 2 s."""

    kind: Literal["pipedrive"] = "pipedrive"
    api_domain: str = DEFAULT_API_DOMAIN
    auth: Literal["api_token", "oauth"] = "api_token"
    daily_tokens: int | None = Field(default=None, ge=1)
    burst_requests: int = Field(default=20, ge=1)
