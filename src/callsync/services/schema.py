"""The tenant's CRM schema: read it through the CRM's own API, check the mapping against it, export it,
create callsync's stamp fields (`callsync schema check|export`, and the contract check)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from callsync.config import TenantConfig
from callsync.crm.errors import CRMError
from callsync.crm.protocol import CRMAdapter
from callsync.crm.registry import capabilities_for, spec_for
from callsync.crm.schema import CRMSchema, load_schema
from callsync.crm.spec import AdapterContext
from callsync.errors import ConfigError
from callsync.services.errors import ServiceError
from callsync.structure.mapping import MappingDocument
from callsync.trust.schema_check import SchemaCheck, check_schema, mapping_lines

__all__ = [
    "StampResult",
    "check_tenant_schema",
    "create_stamps",
    "export_schema",
    "mapped_objects",
    "read_tenant_schema",
]


def mapped_objects(doc: MappingDocument) -> list[str]:
    """Every CRM object the mapping writes to or looks callers up in, in the document's order."""
    names: dict[str, None] = {}
    for obj in doc.model.objects.values():
        names[obj.crm_object] = None
        names.update(dict.fromkeys(obj.match_objects))
    return list(names)


def _adapter(tenant: TenantConfig) -> CRMAdapter:
    return spec_for(tenant.crm.kind).factory(tenant.crm, AdapterContext(tenant=tenant.name))


def _where(tenant: TenantConfig) -> str:
    settings = tenant.crm.model_dump()
    for key in ("base_url", "instance_url", "api_domain", "api_url", "url"):
        value = settings.get(key)
        if isinstance(value, str) and value:
            return value
    return tenant.crm.kind


async def _read(tenant: TenantConfig, objects: list[str]) -> CRMSchema:
    spec = spec_for(tenant.crm.kind)
    if spec.schema_reader is None:
        raise ServiceError(f"callsync cannot read {spec.label or spec.kind}'s schema (no schema reader)")
    adapter = _adapter(tenant)
    try:
        found = await spec.schema_reader(adapter, objects)
    finally:
        await adapter.aclose()
    names = {o.name for o in found}
    return CRMSchema(
        crm=tenant.crm.kind,
        objects=found,
        read_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=_where(tenant),
        missing_objects=tuple(o for o in objects if o not in names),
    )


def read_tenant_schema(tenant: TenantConfig, doc: MappingDocument | None = None) -> CRMSchema:
    """The schema of the objects the tenant's mapping uses, read now from its CRM. A CRM that cannot be
    read (down, a bad token) is a ServiceError naming why."""
    doc = doc or tenant.load_mapping()
    try:
        return asyncio.run(_read(tenant, mapped_objects(doc)))
    except CRMError as exc:
        raise ServiceError(f"cannot read the {tenant.crm.kind} schema at {_where(tenant)}: {exc}") from exc


def check_tenant_schema(
    tenant: TenantConfig, schema_file: Path | None = None, doc: MappingDocument | None = None
) -> tuple[SchemaCheck, CRMSchema]:
    """The tenant's mapping against its CRM's schema (read now, or from an exported file)."""
    doc = doc or tenant.load_mapping()
    spec = spec_for(tenant.crm.kind)
    if schema_file is None and spec.schema_reader is None:
        # A target with no schema of its own (a webhook): nothing can be refused, nothing is checked.
        none = CRMSchema(crm=tenant.crm.kind, objects=(), source=_where(tenant))
        return SchemaCheck(tenant.crm.kind, doc.source, none.source, 0, (), applicable=False), none
    schema = load_schema(schema_file) if schema_file else read_tenant_schema(tenant, doc)
    if schema.crm != doc.crm:
        raise ServiceError(f"the schema is {schema.crm}'s but the mapping is written for {doc.crm}")
    try:
        text = Path(doc.source).read_text(encoding="utf-8")
    except OSError:
        text = ""
    return check_schema(doc, schema, mapping_lines(text)), schema


def export_schema(tenant: TenantConfig, out: Path) -> CRMSchema:
    """Write the tenant's CRM schema (the objects its mapping uses) to a JSON file."""
    schema = read_tenant_schema(tenant)
    try:
        out.write_text(json.dumps(schema.to_json(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the schema: {exc.strerror}", str(out)) from exc
    return schema


@dataclass(frozen=True, slots=True)
class StampResult:
    created: tuple[str, ...]  # "object.field" made now
    refused: tuple[str, ...]  # why the CRM or callsync could not create the others (one line each)


async def _create(tenant: TenantConfig, check: SchemaCheck) -> StampResult:
    wanted: dict[str, list[str]] = {}
    for problem in check.stamps_missing:
        wanted.setdefault(problem.crm_object, []).append(problem.field)
    stamps = {o.stamp_field for o in tenant.load_mapping().model.objects.values()}
    adapter = _adapter(tenant)
    created: list[str] = []
    refused: list[str] = []
    try:
        for crm_object, fields in wanted.items():
            # ensure_schema takes the origin stamp first (it is made unique); keep that order.
            stamp = next((f for f in fields if f in stamps), None)
            ordered = ([stamp] if stamp else []) + [f for f in fields if f != stamp]
            try:
                await adapter.ensure_schema(crm_object, ordered)
                created += [f"{crm_object}.{f}" for f in ordered]
            except CRMError as exc:
                refused.append(f"{crm_object}: {exc}")
    finally:
        await adapter.aclose()
    return StampResult(tuple(created), tuple(refused))


def create_stamps(tenant: TenantConfig, check: SchemaCheck) -> StampResult:
    """Create the stamp fields the check found absent, where the CRM's API lets callsync (the
    `creates_fields` capability); elsewhere say what an admin must create."""
    if not check.stamps_missing:
        return StampResult((), ())
    if not capabilities_for(tenant.crm.kind).creates_fields:
        return StampResult(
            (),
            tuple(
                f"{p.where}: {spec_for(tenant.crm.kind).label or tenant.crm.kind}'s API cannot create fields; "
                "an admin creates it (docs/crms.md)"
                for p in check.stamps_missing
            ),
        )
    return asyncio.run(_create(tenant, check))
