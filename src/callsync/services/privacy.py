"""Privacy operations shared by the CLI and the web app: retention, erasure (`forget`), secret checks.

Typed results, no printing. docs/privacy.md describes what each removes and what the audit trail keeps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from callsync.config import TenantConfig, read_secret
from callsync.reconcile.identity import normalize_email, normalize_phone
from callsync.services.errors import ServiceError
from callsync.store import privacy as store
from callsync.store.db import Database
from callsync.store.privacy import ErasureCounts, ErasureResult, RetentionCounts, WrittenRecord

__all__ = [
    "ErasureCounts",
    "ErasureResult",
    "RetentionCounts",
    "SecretCheck",
    "TenantRetention",
    "WrittenRecord",
    "apply_retention",
    "check_secrets",
    "forget",
]


@dataclass(frozen=True)
class TenantRetention:
    tenant: str
    payloads_before: datetime | None
    transcripts_before: datetime | None
    counts: RetentionCounts


def apply_retention(
    db: Database,
    tenants: Iterable[TenantConfig],
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    actor: str = "retention",
) -> list[TenantRetention]:
    """Apply each tenant's `retention` limits (a tenant without limits keeps everything)."""
    moment = now or datetime.now(UTC)
    results = []
    for tenant in tenants:
        limits = tenant.retention
        if limits.payloads is None and limits.transcripts is None:
            continue
        payloads_before, transcripts_before = limits.cutoffs(moment)
        counts = store.apply_retention(db, tenant.name, payloads_before=payloads_before,
                                       transcripts_before=transcripts_before, dry_run=dry_run, actor=actor)  # fmt: skip
        results.append(TenantRetention(tenant.name, payloads_before, transcripts_before, counts))
    return results


def _subject(email: str | None, phone: str | None, region: str) -> tuple[str, list[str], list[str]]:
    """(subject kind, the forms to look for, the identity keys) of a person named by email or phone."""
    if (email is None) == (phone is None):
        raise ServiceError("name the person by exactly one of --email or --phone")
    if email is not None:
        normalized = normalize_email(email)
        if not normalized:
            raise ServiceError(f"{email!r} is not an email address")
        return "email", sorted({normalized, email.strip()}), [f"email:{normalized}"]
    assert phone is not None
    e164 = normalize_phone(phone, region)
    if not e164:
        raise ServiceError(f"{phone!r} is not a phone number (use E.164, e.g. +14155550123)")
    return "phone", sorted({e164, phone.strip()}), [f"phone:{e164}"]


def forget(
    db: Database,
    *,
    email: str | None = None,
    phone: str | None = None,
    tenant: str | None = None,
    dry_run: bool = False,
    actor: str = "operator",
    region: str = "US",
) -> ErasureResult:
    """Erase one person from callsync's store (never from the CRM: the records callsync wrote for them are
    listed for their owner). `tenant` may be left out when the database holds one tenant's calls."""
    kind, needles, keys = _subject(email, phone, region)
    if tenant is None:
        held = store.tenants_in(db)
        if len(held) > 1:
            raise ServiceError(f"the database holds calls of several tenants ({', '.join(held)}): name one "
                               "with --tenant")  # fmt: skip
        if not held:
            raise ServiceError("the database holds no calls: name the tenant with --tenant")
        tenant = held[0]
    try:
        return store.erase_person(db, tenant, needles=needles, keys=keys, subject=kind, actor=actor,
                                  dry_run=dry_run)  # fmt: skip
    except store.ErasureRefused as exc:
        raise ServiceError(str(exc)) from exc


@dataclass(frozen=True)
class SecretCheck:
    """One secret a tenant names: what it is for, the variable's name, and whether it has a value now.
    Never the value."""

    tenant: str
    purpose: str
    name: str
    present: bool


def check_secrets(tenants: Iterable[TenantConfig]) -> list[SecretCheck]:
    return [
        SecretCheck(t.name, purpose, name, read_secret(name) is not None)
        for t in tenants
        for purpose, name in t.named_secrets()
    ]
