"""`callsync quarantine list|show|retry|discard`: payloads that were received but could not become calls."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from callsync.cli.common import DbOption, app, err, fail, open_database, out
from callsync.cli.render import plain, when
from callsync.cli.serve import TenantsDirOption, ingest_tenants
from callsync.services import quarantine as service
from callsync.services.errors import ServiceError
from callsync.services.review import current_user

quarantine_app = typer.Typer(
    help="Payloads kept whole because they could not become calls (unroutable, invalid): list, show, retry, "
    "discard.",
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")

IdArg = Annotated[int, typer.Argument(min=1, help="The quarantine row id.")]


def _call(run: Any) -> Any:
    try:
        return run()
    except ServiceError as exc:
        raise fail(str(exc)) from exc


@quarantine_app.command("list")
def list_(
    db: DbOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Also rows already retried or discarded.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
) -> None:
    """Open quarantined payloads: id, when, platform, tenant, source and the reason."""
    with open_database(db, read_only=True) as database:
        rows = _call(lambda: service.list_(database, None if all_ else "open"))
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row.to_json()) + "\n")
        return
    table = Table(title=f"quarantine ({len(rows)} {'rows' if all_ else 'open'})")
    for col in ("id", "received", "platform", "tenant", "status", "reason"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(str(row.id), when(row.received_at), row.platform, row.tenant or "—", row.status,
                      escape(row.reason))  # fmt: skip
    out.print(table)


@quarantine_app.command()
def show(
    quarantine_id: IdArg,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """One quarantined payload in full: the reason and the body exactly as received."""
    with open_database(db, read_only=True) as database:
        row = _call(lambda: service.get(database, quarantine_id))
    if as_json:
        sys.stdout.write(json.dumps(row.to_json(payload=True)) + "\n")
        return
    for key, value in row.to_json().items():
        shown = when(row.received_at) if key == "received_at" else plain(value)
        out.print(f"{key:>12}: {escape(shown)}")
    out.print("     payload:")
    sys.stdout.write(row.payload + ("\n" if not row.payload.endswith("\n") else ""))


@quarantine_app.command()
def retry(
    ids: Annotated[list[int], typer.Argument(min=1, help="Quarantine row ids.")],
    db: DbOption = None,
    tenants: TenantsDirOption = None,
    tenant: Annotated[
        str | None, typer.Option(help="Store under this tenant instead of routing (an operator's decision).")
    ] = None,
) -> None:
    """Run quarantined payloads through ingest again, with the current tenant files (after fixing a route or
    a tenant). Stored ones are marked retried; the others stay open with the new reason. Exit 1 if any did."""
    configs = ingest_tenants(tenants)
    with open_database(db) as database:
        results = service.retry(database, configs, ids, tenant)
    failed = 0
    for r in results:
        if r.ok:
            out.print(f"{r.id}: {r.message} as call {escape(r.call_id or '—')} of tenant {r.tenant}")
        elif r.message in ("no such row",) or r.message.startswith("already "):
            err.print(f"[yellow]{r.id}:[/yellow] {escape(r.message)}")
            failed += r.message == "no such row"
        else:
            err.print(f"[red]{r.id}:[/red] {escape(r.message)}")
            failed += 1
    if failed:
        raise typer.Exit(1)


@quarantine_app.command()
def discard(
    quarantine_id: IdArg,
    reason: Annotated[str, typer.Option(help="Why the payload is given up (kept with it).")],
    db: DbOption = None,
) -> None:
    """Give up on an open quarantined payload: it stays whole, as `discarded`, with who and why."""
    with open_database(db) as database:
        row = _call(lambda: service.discard(database, quarantine_id, reason=reason, by=current_user()))
    out.print(f"quarantined payload {row.id}: discarded")
