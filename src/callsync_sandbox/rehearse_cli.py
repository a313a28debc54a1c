"""`callsync rehearse`: the go-live rehearsal's command (it needs the emulators, so it lives here and
reaches `callsync` through the `callsync.commands` entry point, with `demo` and `sandbox`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from callsync.cli.common import DbOption, app, err, fail, open_database, out
from callsync.cli.schema import TenantOption, load_checked_tenant
from callsync.config import TenantConfig
from callsync.crm.schema import CRMSchema, load_schema
from callsync.errors import ConfigError, InputError
from callsync.services.contract import rehearsal_path
from callsync.services.errors import ServiceError
from callsync.trust.contract import RehearsalResult
from callsync_sandbox.rehearse import RecentCall


@app.command()
def rehearse(
    tenant: TenantOption,
    calls: Annotated[
        Path | None,
        typer.Option("--calls", help="Generic call JSON / JSON Lines to replay (default: the sample calls)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Replay the tenant's own calls received since then (7d, ISO date) from --db, at most 200, "
            "instead of the sample calls (its database is only read).",
        ),
    ] = None,
    db: DbOption = None,
    schema_file: Annotated[
        Path | None,
        typer.Option(
            "--schema", help="Seed the emulator from this exported schema instead of the tenant's CRM."
        ),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="Where to write the result for `callsync contract check` (default: "
            "$CALLSYNC_EVIDENCE_DIR or ./callsync-evidence, then <tenant>/rehearsal.json).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of the report.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also print callsync's log lines (stderr).")
    ] = False,
) -> None:
    """Stand up the tenant's CRM emulator seeded with its schema, replay sample (or given) calls through
    the real pipeline under a fault plan (a response dropped after commit, a 429 storm, a short outage),
    then run reconcile. Prints what was created, what waited for review, and whether anything was lost or
    doubled; exit 1 if anything was."""
    from callsync_sandbox.cli import _quiet_logs
    from callsync_sandbox.rehearse import rehearse as run

    config = load_checked_tenant(tenant, token=False)
    if since is not None and calls is not None:
        raise fail("give --calls FILE or --since (the tenant's recent calls), not both", 2)
    recent = _recent(config, since, db) if since is not None else None
    schema, source = _schema(config, schema_file)
    _quiet_logs(verbose)
    try:
        result = run(config, calls=calls, recent=recent, schema=schema, schema_source=source)
    except InputError as exc:
        raise fail(str(exc)) from exc
    target = record or rehearsal_path(config.name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise fail(f"{target}: cannot write the rehearsal record: {exc.strerror}") from exc
    if as_json:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
    else:
        render_rehearsal(result)
        out.print(f"recorded in {target} (read by `callsync contract check`)")
    if not result.ok:
        raise typer.Exit(1)


def _recent(config: TenantConfig, since: str, db: str | None) -> list[RecentCall]:
    from callsync.services.reconcile import parse_since
    from callsync_sandbox.rehearse import recent_calls

    try:
        moment = parse_since(since)
    except ValueError as exc:
        raise fail(str(exc), 2) from exc
    with open_database(db, read_only=True) as database:
        found = recent_calls(database, config, moment)
    if not found:
        raise fail(f"tenant {config.name} received no calls since {moment:%Y-%m-%d %H:%M} in that database")
    return found


def _schema(config: TenantConfig, schema_file: Path | None) -> tuple[CRMSchema | None, str]:
    """The schema to seed with: the file, else the tenant's CRM read now; else the emulator's defaults."""
    from callsync.services.schema import read_tenant_schema

    if schema_file is not None:
        try:
            return load_schema(schema_file), str(schema_file)
        except ConfigError as exc:
            raise fail(str(exc)) from exc
    try:
        config.crm.token()
        schema = read_tenant_schema(config)
    except (ServiceError, ConfigError) as exc:
        err.print(f"[yellow]the emulator keeps its default schema[/yellow]: {escape(str(exc))}")
        return None, ""
    return schema, schema.source


def render_rehearsal(r: RehearsalResult) -> None:
    out.print(f"[bold]callsync rehearse[/bold] · tenant {r.tenant} · {r.crm} emulator seeded from "
              f"{escape(r.schema_source or 'no schema of the tenant (its own defaults)')}")  # fmt: skip
    faults = ", ".join(f"{n}× {name}" for name, n in sorted(r.faults.items()) if n) or "none fired"
    out.print(f"faults: {faults}")
    table = Table(title="created in the emulator", title_justify="left")
    table.add_column("CRM object")
    table.add_column("records", justify="right")
    for name, n in r.created.items():
        table.add_row(name, str(n))
    out.print(table)
    delivered = f", delivered (not readable back) {r.delivered}" if r.delivered else ""
    out.print(
        f"calls {r.calls}: confirmed {r.confirmed}{delivered}, waiting for review {r.review}, "
        f"dead-lettered {r.dead_letter}, still queued {r.queued}"
    )
    out.print(f"reconcile: {r.reconcile_summary}")
    colour = "green" if r.ok else "red"
    verdict = "nothing lost, nothing doubled" if r.ok else f"{r.lost} lost, {r.doubled} doubled"
    out.print(f"[{colour}]{verdict}[/{colour}]")
