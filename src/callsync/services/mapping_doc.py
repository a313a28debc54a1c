"""The field-mapping document of the tenants a user may see (the dashboard's Mapping page; the CLI's
`callsync mapping doc` renders the same `MappingDoc`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from callsync.config import TenantConfig
from callsync.errors import ConfigError
from callsync.services.errors import NotFound, ServiceError
from callsync.structure.mapping_doc import MappingDoc, build_mapping_doc

__all__ = ["mapped_tenants", "mapping_doc"]


def mapped_tenants(tenants: Mapping[str, TenantConfig], scope: Sequence[str] | None) -> list[str]:
    """The configured tenants within `scope` (None: all), by name."""
    return sorted(n for n in tenants if scope is None or n in scope)


def mapping_doc(tenants: Mapping[str, TenantConfig], name: str, scope: Sequence[str] | None) -> MappingDoc:
    """One tenant's mapping document; NotFound for a tenant out of scope or not configured, ServiceError
    for a mapping that does not load (with its file, line and reason)."""
    if name not in mapped_tenants(tenants, scope):
        raise NotFound(f"no tenant {name}")
    tenant = tenants[name]
    try:
        doc = tenant.load_mapping()
    except ConfigError as exc:
        raise ServiceError(str(exc)) from exc
    return build_mapping_doc(doc, f"Field mapping: {name} → {tenant.crm.kind}")
