"""A Salesforce tenant's connection: the org's instance URL, the REST API version, the request budget."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import model_validator

from callsync.crm.settings import BudgetedConnection

DEFAULT_API_VERSION = "62.0"


class SalesforceSettings(BudgetedConnection):
    """Salesforce: the token response's `instance_url` (the org's My Domain URL, e.g.
    https://acme.my.salesforce.com) and the REST API version. `credit_reserve` counts API requests
    (read from `Sforce-Limit-Info`) kept for urgent writes."""

    kind: Literal["salesforce"] = "salesforce"
    instance_url: str | None = None
    api_version: str = DEFAULT_API_VERSION

    @model_validator(mode="after")
    def _needs_instance(self) -> Self:
        if not self.instance_url:
            raise ValueError("a Salesforce connection needs instance_url (the org's My Domain URL)")
        return self
