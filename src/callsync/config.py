"""Tenant configuration: which CRM a customer's calls go to, through which mapping, with which secrets.

Secrets are never stored: a tenant file names the environment variable that holds each one. A name
ending in `_FILE` (container secrets) names a variable holding the path of a file with the value; a plain
name that is unset falls back to `<NAME>_FILE` the same way (docs/privacy.md).
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callsync.crm.registry import DEFAULT_KIND, SPECS, CRMConnection, CRMSettings, parse_settings
from callsync.errors import ConfigError
from callsync.secrets import read_secret

__all__ = [
    "EXAMPLES_DIR",
    "CRMConnection",
    "CRMSettings",
    "DeliverySettings",
    "RetentionSettings",
    "TenantConfig",
    "load_tenant",
    "load_tenants",
    "parse_duration",
    "read_secret",
    "redact_patterns_for",
]
from callsync.structure.mapping import MappingDocument, load_mapping

EXAMPLES_DIR = Path(__file__).parent / "examples"


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
    # A new person's name is looked up among the CRM's records for look-alikes (a `possible_duplicate`
    # review item; names never match). Advisory, and it spends the CRM's search budget, which on HubSpot
    # is the lane that binds (docs/scaling.md): a tenant that needs the throughput more may turn it off.
    duplicate_check: bool = True


_DURATION = re.compile(r"^\s*(\d+)\s*(d|h|m|w)\s*$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_duration(value: str) -> timedelta:
    """"90d", "12h", "30m", "2w" → a positive timedelta. ValueError names the accepted forms."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"{value!r} is not a duration: use a positive number of days, hours, minutes or weeks "
                         "(90d, 12h, 30m, 2w)")  # fmt: skip
    return int(match.group(1)) * _UNITS[match.group(2)]


class RetentionSettings(BaseModel):
    """How long a tenant's calls keep their raw payload and their transcript (none given: forever).
    Older payloads are reduced to the transcript; older transcripts lose their words, and the ledger keeps a
    keyed hash of each evidence sentence (docs/privacy.md)."""

    model_config = ConfigDict(extra="forbid")

    transcripts: timedelta | None = None
    payloads: timedelta | None = None

    def cutoffs(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """(payloads received before, transcripts received before) are due at `now`; None: kept forever."""
        return (now - self.payloads if self.payloads else None, now - self.transcripts if self.transcripts else None)

    @field_validator("transcripts", "payloads", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if value is None or isinstance(value, timedelta):
            return value
        return parse_duration(str(value))


# tenant name -> its `redact_patterns`, for every tenant configuration this process has loaded. Intake
# (pipeline/intake.py) masks them in a call's payload before the call row is committed; it is given the call,
# not the tenant's configuration.
_REDACT_PATTERNS: dict[str, tuple[str, ...]] = {}


def redact_patterns_for(tenant: str) -> tuple[str, ...]:
    """The `redact_patterns` of a tenant this process loaded (none known: only the built-in patterns)."""
    return _REDACT_PATTERNS.get(tenant, ())


# The voice platforms callsync ingests from (capture/platforms); a tenant's routing and secrets name them.
Platform = Literal["generic", "vapi", "retell", "twilio", "bland", "elevenlabs"]
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class TenantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    # Which CRM and how to reach it: the registry's model for `kind` (none given: the default kind).
    crm: CRMSettings = Field(default_factory=lambda: parse_settings({"kind": DEFAULT_KIND}))
    mapping: str = str(EXAMPLES_DIR / f"{DEFAULT_KIND}.yaml")  # the default CRM's example mapping
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
    # Privacy (docs/privacy.md): how long calls keep their payloads and transcripts, and the tenant's own
    # patterns (regular expressions) of sensitive values to mask in transcripts, besides cards and SSNs.
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    redact_patterns: list[str] = Field(default_factory=list)

    @field_validator("redact_patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"redact pattern {pattern!r} is not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _register_patterns(self) -> TenantConfig:
        _REDACT_PATTERNS[self.name] = tuple(self.redact_patterns)
        return self

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
        return read_secret(name) if name else None

    def api_key(self, platform: str) -> str | None:
        name = self.api_keys.get(platform)  # type: ignore[call-overload]
        return read_secret(name) if name else None

    def named_secrets(self) -> list[tuple[str, str]]:
        """Every secret this tenant names, as (what it is for, variable name); never the values."""
        named = [(f"{platform} webhook secret", env) for platform, env in self.secrets.items()]
        named += [(f"{platform} API key", env) for platform, env in self.api_keys.items()]
        named.append((f"{self.crm.kind} CRM token", self.crm.token_env))
        return named

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    def check_against_crm(self) -> None:
        """Load the mapping and, where the CRM declares a check of it (`CRMSpec.check_mapping`: fields
        resolved through the CRM's own field lists), run it now: a field the CRM lacks is a ConfigError
        with the mapping's file and line. Called when a tenant loads for work (worker, serve, sync)."""
        doc = self.load_mapping()
        check = SPECS[self.crm.kind].check_mapping
        if check is not None:

            async def run() -> None:
                await check(self.crm, doc)

            asyncio.run(run())

    def load_mapping(self) -> MappingDocument:
        """The tenant's mapping, which must be written for a registered CRM, and for this tenant's."""
        doc = load_mapping(self.mapping)
        check_mapping_crm(doc, self.mapping, self.crm.kind)
        return doc


def check_mapping_crm(doc: MappingDocument, source: str, tenant_kind: str | None = None) -> None:
    """Refuse a mapping written for a CRM callsync has no adapter for, or for another CRM than the tenant's."""
    if doc.crm not in SPECS:
        raise ConfigError(f"no adapter for crm {doc.crm!r}; registered: {', '.join(SPECS)}", source, 1, "crm")
    if tenant_kind is not None and doc.crm != tenant_kind:
        raise ConfigError(f"the mapping is written for {doc.crm}, but the tenant's crm.kind is {tenant_kind}", source,
                          None, "crm")  # fmt: skip
    can = SPECS[doc.crm].capabilities.actions
    for i, rule in enumerate(doc.model.actions.rules):
        if rule.do.value not in can:
            raise ConfigError(f"{SPECS[doc.crm].label or doc.crm} cannot {rule.do.value}; it can: "
                              f"{', '.join(sorted(can)) or 'no actions'}", source,
                              doc.line_of("actions", "rules", i, "do"), f"actions.rules.{rule.name}.do")  # fmt: skip


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
        line, keys = _key_line(p, first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(message, str(p), line, ".".join(keys) or None) from exc
    if not Path(tenant.mapping).is_absolute():
        tenant = tenant.model_copy(update={"mapping": str((p.parent / tenant.mapping).resolve())})
    return tenant


def _key_line(path: Path, loc: tuple[int | str, ...]) -> tuple[int | None, list[str]]:
    """The line of the deepest key of an error's location in a tenant file, and the keys found on the way.
    A location part that is no key of the file (the `crm` section's kind, which pydantic adds) is skipped."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None, [str(x) for x in loc]
    line: int | None = None
    keys: list[str] = []
    for part in loc:
        found = None
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
        if found is None:
            if str(part) not in SPECS:  # a missing key is still named; a CRM kind is pydantic's tag
                keys.append(str(part))
            continue
        line, node = found[0].start_mark.line + 1, found[1]
        keys.append(str(part))
    return line, keys


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
