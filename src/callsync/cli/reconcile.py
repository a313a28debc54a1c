"""`callsync reconcile`: compare the ledger with the CRM's current state (docs/reconcile.md)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from callsync.cli.calls import checked_tenants
from callsync.cli.common import DbOption, TenantFileOption, app, fail, open_database, out
from callsync.cli.render import plain, when
from callsync.services.errors import ServiceError
from callsync.services.reconcile import parse_since

__all__ = ["parse_since", "reconcile"]


@app.command()
def reconcile(
    since: Annotated[
        str | None,
        typer.Option(
            help="Only calls received since then: ISO date/time, or a duration (6h, 7d). Default: all."
        ),
    ] = None,
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of the report.")] = False,
) -> None:
    """Calls received vs confirmed; missing writes, double writes, drifted fields. Exit 1 if anything is
    lost or doubled, 2 for bad usage or when the CRM cannot be read. Only reads: drift is reported, never
    "fixed"."""
    from callsync.services.reconcile import reconcile as run

    try:
        moment = parse_since(since) if since else None
    except ValueError as exc:
        raise fail(str(exc), 2) from exc
    tenants = checked_tenants(tenant_file)
    with open_database(db, read_only=True) as database:
        try:
            report = run(database, tenants, since=moment)
        except ServiceError as exc:
            raise fail(str(exc), 2) from exc
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), default=str) + "\n")
    else:
        render_report(report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def render_report(report: Any) -> None:
    window = f"since {when(report.since)}" if report.since else "all calls"
    out.print(f"[bold]callsync reconcile[/bold] · {window} · {report.records_checked} CRM record(s) checked")
    closed = report.closed
    out.print(
        f"calls received {report.received}: confirmed {report.confirmed}, waiting in review {report.review}, "
        f"dead letters {report.dead_letter}, closed by a person {closed}, still queued {report.queued}"
        + (f", delivered (not readable) {report.delivered}" if report.delivered else "")
    )
    for name in report.unreadable_tenants:
        out.print(f"tenant {name}: not checked: its target cannot be read back (calls are delivered, not confirmed)")
    for name in report.skipped_tenants:
        out.print(f"[yellow]tenant {name}: not checked (no --tenant-file for it)[/yellow]")
    _section(
        "missing writes (lost)",
        report.missing_writes,
        ("tenant", "call_id", "object_type", "record_id", "reason"),
    )
    _section(
        "double writes", report.double_writes, ("tenant", "kind", "key", "object_type", "record_ids", "calls")
    )
    _section(
        "drifted fields (changed in the CRM since callsync wrote them; reported, not changed)",
        report.drifted_fields,
        ("object_type", "record_id", "field", "written", "current", "call_id", "written_at"),
    )
    _section(
        "unacknowledged writes (landed while the call is not confirmed; a replay finds them)",
        report.unacknowledged_writes,
        ("call_id", "call_state", "object_type", "record_id"),
    )
    _section(
        "misrouted writes (a record stamped by another tenant's call in this tenant's account)",
        report.misrouted_writes,
        ("tenant", "object_type", "record_id", "call_id", "belongs_to"),
    )
    verdict = "[green]clean: nothing lost, nothing doubled[/green]" if report.clean else (
        f"[red]NOT clean: {report.lost} call(s) lost, {report.doubled} double write(s), "
        f"{len(report.misrouted_writes)} misrouted[/red]"
    )  # fmt: skip
    out.print(f"{verdict} · {len(report.drifted_fields)} drifted field(s)")


def _section(title: str, rows: list[Any], columns: tuple[str, ...]) -> None:
    if not rows:
        out.print(f"{title}: none")
        return
    table = Table(title=f"{title}: {len(rows)}", title_justify="left")
    for col in columns:
        table.add_column(col.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(escape(plain(getattr(row, col))) for col in columns))
    out.print(table)
