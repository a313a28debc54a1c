"""`callsync reconcile`: compare the ledger with the CRM's current state (docs/reconcile.md)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from callsync.cli.calls import checked_tenants
from callsync.cli.common import DbOption, TenantFileOption, app, fail, open_database, out

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 moment (UTC when it names no zone), or a duration back from now: 90s, 30m, 6h, 7d."""
    match = _RELATIVE.match(text.strip())
    if match:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"--since {text!r}: not an ISO date/time nor a duration like 6h or 7d") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    lost or doubled. Only reads: drift is reported, never "fixed"."""
    from callsync.trust.reconcile import reconcile as run

    try:
        moment = parse_since(since) if since else None
    except ValueError as exc:
        raise fail(str(exc)) from exc
    tenants = checked_tenants(tenant_file)
    with open_database(db) as database:
        try:
            report = asyncio.run(run(database, tenants, since=moment))
        except Exception as exc:  # the CRM unreachable, a bad token: no verdict, say why
            raise fail(f"reconcile could not read the CRM: {exc}", 2) from exc
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), default=str) + "\n")
    else:
        render_report(report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def render_report(report: Any) -> None:
    window = f"since {report.since:%Y-%m-%d %H:%M:%S} UTC" if report.since else "all calls"
    out.print(f"[bold]callsync reconcile[/bold] · {window} · {report.records_checked} CRM record(s) checked")
    out.print(
        f"calls received {report.received}: confirmed {report.confirmed}, in review {report.review}, "
        f"dead letters {report.dead_letter}, still queued {report.queued}"
    )
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
    verdict = "[green]clean: nothing lost, nothing doubled[/green]" if report.clean else (
        f"[red]NOT clean: {report.lost} call(s) lost, {report.doubled} double write(s)[/red]"
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
        cells = [getattr(row, col) for col in columns]
        table.add_row(*(escape(", ".join(map(str, c)) if isinstance(c, list) else str(c)) for c in cells))
    out.print(table)
