"""`callsync schema check|export`: the tenant's mapping against its CRM's own schema, before go-live."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from callsync.cli.common import app, fail, out
from callsync.config import TenantConfig
from callsync.errors import ConfigError
from callsync.services.errors import ServiceError
from callsync.trust.schema_check import SchemaCheck

schema_app = typer.Typer(
    help="The CRM's own schema: check the mapping against it, export it to a file.", no_args_is_help=True
)
app.add_typer(schema_app, name="schema")

TenantOption = Annotated[
    Path, typer.Option("--tenant", help="Tenant configuration YAML (its crm section and mapping).")
]


def load_checked_tenant(path: Path, *, token: bool = True) -> TenantConfig:
    """The tenant file, its mapping loadable and (with `token`) its CRM token set; else one line, exit 1."""
    from callsync.config import load_tenant

    try:
        tenant = load_tenant(path)
        if token:
            tenant.crm.token()
        tenant.load_mapping()
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    return tenant


@schema_app.command("check")
def check(
    tenant: TenantOption,
    schema_file: Annotated[
        Path | None,
        typer.Option("--schema", help="Check against an exported schema file instead of reading the CRM."),
    ] = None,
    create_stamps: Annotated[
        bool,
        typer.Option(
            "--create-stamps",
            help="Create callsync's absent stamp fields where the CRM's API allows it, then check again.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of the table.")] = False,
) -> None:
    """Compare the tenant's mapping with the CRM's schema (read through its API): missing objects and
    fields, wrong types, values outside a picklist, over-long text, required fields the mapping leaves
    uncovered, absent stamp fields. Exit 1 with a table of problems; 0 when the CRM takes every write."""
    from callsync.services.schema import check_tenant_schema
    from callsync.services.schema import create_stamps as make_stamps

    config = load_checked_tenant(tenant, token=schema_file is None or create_stamps)
    try:
        result, _schema = check_tenant_schema(config, schema_file)
        if create_stamps and result.stamps_missing:
            made = make_stamps(config, result)
            for name in made.created:
                out.print(f"created stamp field {escape(name)}")
            for why in made.refused:
                out.print(f"[yellow]not created[/yellow]: {escape(why)}")
            result, _schema = check_tenant_schema(config, None)
    except (ServiceError, ConfigError) as exc:
        raise fail(str(exc)) from exc
    if as_json:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
    else:
        render_check(result)
    if not result.ok:
        raise typer.Exit(1)


def render_check(result: SchemaCheck) -> None:
    out.print(
        f"[bold]callsync schema check[/bold] · {escape(result.mapping)} against {result.crm} "
        f"({escape(result.schema_source)})"
    )
    if not result.applicable:
        out.print(f"not applicable: {result.summary()}")
        return
    if result.ok:
        out.print(f"[green]ok[/green]: {result.summary()}")
        return
    table = Table(title=f"{len(result.problems)} problem(s)", title_justify="left")
    for column in ("problem", "object", "CRM field", "mapping line", "detail"):
        table.add_column(column, overflow="fold")
    for p in result.problems:
        line = f"{Path(result.mapping).name}:{p.line}" if p.line else ""
        table.add_row(p.kind.replace("_", " "), p.object_name, escape(p.where), line, escape(p.detail))
    out.print(table)
    out.print(f"[red]FAILED[/red]: {result.summary()}")


@schema_app.command("export")
def export(
    tenant: TenantOption,
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the schema (JSON).")],
) -> None:
    """Read the CRM's schema of the objects the tenant's mapping uses and write it to a file, to seed an
    emulator (`callsync sandbox NAME --schema FILE`) or to check against later (`schema check --schema`)."""
    from callsync.services.schema import export_schema

    config = load_checked_tenant(tenant)
    try:
        schema = export_schema(config, out_file)
    except (ServiceError, ConfigError) as exc:
        raise fail(str(exc)) from exc
    fields = sum(len(o.fields) for o in schema.objects)
    out.print(
        f"wrote {out_file}: {len(schema.objects)} object(s), {fields} field(s) from {escape(schema.source)}"
    )
    if schema.missing_objects:
        out.print(f"[yellow]not in the CRM[/yellow]: {', '.join(schema.missing_objects)}")
