"""Tenant configuration: which CRM a customer's calls go to, through which mapping, with which secrets.

Secrets are never stored: a tenant file names the environment variable that holds each one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callsync.errors import ConfigError
from callsync.structure.mapping import MappingDocument, load_mapping

EXAMPLES_DIR = Path(__file__).parent / "examples"


class CRMConnection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["hubspot"] = "hubspot"
    base_url: str = "https://api.hubapi.com"
    token_env: str = "CALLSYNC_HUBSPOT_TOKEN"
    timeout_s: float = 10.0

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


class TenantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    crm: CRMConnection = Field(default_factory=CRMConnection)
    mapping: str = str(EXAMPLES_DIR / "hubspot.yaml")
    timezone: str = "UTC"
    default_country: str = "US"
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)

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
