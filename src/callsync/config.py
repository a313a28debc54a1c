"""Tenant configuration: which CRM a customer's calls go to, through which mapping, with which secrets.

Secrets are never stored: a tenant file names the environment variable that holds each one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callsync.errors import ConfigError
from callsync.structure.mapping import MappingDocument, load_mapping

EXAMPLES_DIR = Path(__file__).parent / "examples"


CRMKind = Literal["hubspot", "salesforce", "zoho"]
_DEFAULT_API_VERSION: dict[str, str] = {"salesforce": "62.0", "zoho": "v8"}
# Settings that only mean something for some CRMs: setting one for another CRM is a configuration error.
_ONLY_FOR: dict[str, tuple[str, ...]] = {
    "base_url": ("hubspot",),
    "instance_url": ("salesforce",),
    "api_version": ("salesforce", "zoho"),
    "api_domain": ("zoho",),
    "daily_credits": ("zoho",),
    "credit_reserve": ("salesforce", "zoho"),
    "budget_window_s": ("salesforce", "zoho"),
    "limit_retry_s": ("salesforce", "zoho"),
}


class CRMConnection(BaseModel):
    """How to reach a tenant's CRM. HubSpot: a token. Salesforce: the org's instance URL and REST API
    version. Zoho CRM: the data centre's API domain and the org's daily API credits (docs/crms.md)."""

    model_config = ConfigDict(extra="forbid")

    kind: CRMKind = "hubspot"
    base_url: str = "https://api.hubapi.com"  # HubSpot's API host
    token_env: str = ""  # default: CALLSYNC_<KIND>_TOKEN
    timeout_s: float = 10.0
    # Salesforce: the token response's instance_url, e.g. https://acme.my.salesforce.com
    instance_url: str | None = None
    api_version: str | None = None  # Salesforce "62.0", Zoho "v8"
    # Zoho: the token response's api_domain (US https://www.zohoapis.com, EU ...zohoapis.eu, ...)
    api_domain: str = "https://www.zohoapis.com"
    # Zoho: API credits per rolling 24 h (edition + licences + add-ons), counted in the database so every
    # worker spends from one budget. None: not counted, only the CRM's own refusal pauses the writes.
    daily_credits: int | None = Field(default=None, ge=1)
    # Credits (Zoho) or API requests (Salesforce, from Sforce-Limit-Info) kept back for urgent writes:
    # new work waits when only the reserve is left; an attempt that has already written may finish.
    credit_reserve: int = Field(default=0, ge=0)
    budget_window_s: float = Field(default=86_400.0, gt=0)
    # After the CRM says the daily allowance is exhausted (no Retry-After): how long to wait before trying.
    limit_retry_s: float = Field(default=900.0, gt=0)

    @model_validator(mode="after")
    def _per_kind(self) -> Self:
        for name, kinds in _ONLY_FOR.items():
            if name in self.model_fields_set and self.kind not in kinds:
                raise ValueError(f"{name} applies to {' and '.join(kinds)} only, not to {self.kind}")
        if self.kind == "salesforce" and not self.instance_url:
            raise ValueError("a Salesforce connection needs instance_url (the org's My Domain URL)")
        if not self.token_env:
            self.token_env = f"CALLSYNC_{self.kind.upper()}_TOKEN"
        if self.api_version is None and self.kind in _DEFAULT_API_VERSION:
            self.api_version = _DEFAULT_API_VERSION[self.kind]
        return self

    def token(self) -> str:
        value = os.environ.get(self.token_env)
        if not value:
            raise ConfigError(f"environment variable {self.token_env} (the CRM token) is not set")
        return value


class DeliverySettings(BaseModel):
    """Retry schedule for one call's write. Rate-limit waits do not use up attempts."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=6, ge=1)
    base_delay_s: float = Field(default=2.0, gt=0)
    max_delay_s: float = Field(default=600.0, gt=0)
    max_rate_limit_waits: int = Field(default=200, ge=0)
    # While the CRM is down (no answer, 5xx), retries wait up to this long in all before they count as
    # attempts: an outage shorter than this never dead-letters a valid write.
    outage_horizon_s: float = Field(default=86_400.0, ge=0)


# The voice platforms callsync ingests from (capture/platforms); a tenant's routing and secrets name them.
Platform = Literal["generic", "vapi", "retell", "twilio", "bland", "elevenlabs"]
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class TenantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    crm: CRMConnection = Field(default_factory=CRMConnection)
    mapping: str = str(EXAMPLES_DIR / "hubspot.yaml")
    timezone: str = "UTC"
    default_country: str = "US"
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    # Ingest (route stage). Calls reach this tenant when they were made to or from one of its `numbers`
    # (E.164) or handled by one of its platform assistants/agents (Twilio: the account sid).
    numbers: list[str] = Field(default_factory=list)
    assistant_ids: dict[Platform, list[str]] = Field(default_factory=dict)
    # Platform -> the NAME of the environment variable holding its webhook secret (never the secret).
    secrets: dict[Platform, Annotated[str, Field(pattern=_ENV_NAME)]] = Field(default_factory=dict)
    # Platform -> the name of the environment variable holding its API key (`callsync poll`).
    api_keys: dict[Platform, Annotated[str, Field(pattern=_ENV_NAME)]] = Field(default_factory=dict)
    # Vapi lets the customer choose the credential: HMAC (x-signature over "{timestamp}.{body}"), a bearer
    # token, or the legacy X-Vapi-Secret header.
    vapi_auth: Literal["hmac", "bearer", "x-vapi-secret"] = "hmac"

    @field_validator("numbers")
    @classmethod
    def _e164(cls, value: list[str]) -> list[str]:
        for n in value:
            if not _E164.match(n):
                raise ValueError(f"{n!r} is not an E.164 number (+ and 7-15 digits)")
        return value

    def secret(self, platform: str) -> str | None:
        """The webhook secret for a platform, read from the environment now; None when not configured."""
        name = self.secrets.get(platform)  # type: ignore[call-overload]
        return os.environ.get(name) or None if name else None

    def api_key(self, platform: str) -> str | None:
        name = self.api_keys.get(platform)  # type: ignore[call-overload]
        return os.environ.get(name) or None if name else None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    def load_mapping(self) -> MappingDocument:
        return load_mapping(self.mapping)


def load_tenant(path: str | Path) -> TenantConfig:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read tenant file: {exc}", str(p)) from exc
    try:
        tenant = TenantConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(first["msg"], str(p), None, ".".join(str(x) for x in first["loc"])) from exc
    if not Path(tenant.mapping).is_absolute():
        tenant = tenant.model_copy(update={"mapping": str((p.parent / tenant.mapping).resolve())})
    return tenant


def load_tenants(directory: str | Path) -> dict[str, TenantConfig]:
    """Every tenant file (*.yaml, *.yml) in a directory. A name, number or assistant id claimed by two
    tenants is a configuration error: a call must never be given to another tenant."""
    d = Path(directory)
    if not d.is_dir():
        raise ConfigError("not a directory of tenant files", str(d))
    tenants: dict[str, TenantConfig] = {}
    owners: dict[str, str] = {}
    for path in sorted([*d.glob("*.yaml"), *d.glob("*.yml")]):
        tenant = load_tenant(path)
        if tenant.name in tenants:
            raise ConfigError(f"tenant {tenant.name!r} is defined twice", str(path), None, "name")
        claims = [f"number {n}" for n in tenant.numbers] + [
            f"{platform} assistant {a}" for platform, ids in tenant.assistant_ids.items() for a in ids
        ]
        for claim in claims:
            if claim in owners and owners[claim] != tenant.name:
                raise ConfigError(
                    f"{claim} is routed to both {owners[claim]!r} and {tenant.name!r}", str(path)
                )
            owners[claim] = tenant.name
        tenants[tenant.name] = tenant
    if not tenants:
        raise ConfigError("no tenant files (*.yaml) in this directory", str(d))
    return tenants
