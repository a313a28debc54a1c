"""`callsync quarantine list|show|retry`: payloads that were received but could not become calls."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from callsync.cli.common import DbOption, app, err, fail, open_database, out
from callsync.cli.serve import TenantsDirOption, ingest_tenants

quarantine_app = typer.Typer(
    help="Payloads kept whole because they could not become calls (unroutable, invalid): list, show, retry.",
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")


def _row_json(row: Any, payload: bool = False) -> dict[str, Any]:
    out_: dict[str, Any] = {
        "id": row.id,
        "received_at": row.received_at.isoformat(),
        "status": row.status,
        "platform": row.platform or "generic",
        "tenant": row.tenant,
        "source": row.source,
        "reason": row.reason,
        "call_id": row.call_id,
    }
    if payload:
        out_["payload"] = row.payload
    return out_


@quarantine_app.command("list")
def list_(
    db: DbOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Also rows already retried.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
) -> None:
    """Open quarantined payloads: id, when, platform, tenant, source and the reason."""
    from callsync.store.events import list_quarantine

    with open_database(db) as database:
        rows = list_quarantine(database, None if all_ else "open")
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(_row_json(row)) + "\n")
        return
    table = Table(title=f"quarantine ({len(rows)} {'rows' if all_ else 'open'})")
    for col in ("id", "received", "platform", "tenant", "status", "reason"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            str(row.id), f"{row.received_at:%Y-%m-%d %H:%M:%S}", row.platform or "generic", row.tenant or "—",
            row.status, escape(row.reason),
        )  # fmt: skip
    out.print(table)


@quarantine_app.command()
def show(
    quarantine_id: Annotated[int, typer.Argument(help="The quarantine row id.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """One quarantined payload in full: the reason and the body exactly as received."""
    from callsync.store.events import get_quarantined

    with open_database(db) as database:
        row = get_quarantined(database, quarantine_id)
    if row is None:
        raise fail(f"no quarantined payload {quarantine_id}")
    if as_json:
        sys.stdout.write(json.dumps(_row_json(row, payload=True)) + "\n")
        return
    for key, value in _row_json(row).items():
        out.print(f"{key:>12}: {escape(str(value)) if value is not None else '—'}")
    out.print("     payload:")
    sys.stdout.write(row.payload + ("\n" if not row.payload.endswith("\n") else ""))


@quarantine_app.command()
def retry(
    ids: Annotated[list[int], typer.Argument(help="Quarantine row ids.")],
    db: DbOption = None,
    tenants: TenantsDirOption = None,
    tenant: Annotated[
        str | None, typer.Option(help="Store under this tenant instead of routing (an operator's decision).")
    ] = None,
) -> None:
    """Run quarantined payloads through ingest again, with the current tenant files (after fixing a route or
    a tenant). Stored ones are marked retried; the others stay open with the new reason. Exit 1 if any did."""
    from callsync.route.ingest import Refused, ingest_payload
    from callsync.store.events import get_quarantined, requarantine, resolve_quarantined

    configs = ingest_tenants(tenants)
    failed = 0
    with open_database(db) as database:
        for qid in ids:
            row = get_quarantined(database, qid)
            if row is None or row.status != "open":
                err.print(
                    f"[yellow]{qid}:[/yellow] " + ("no such row" if row is None else f"already {row.status}")
                )
                failed += row is None
                continue
            forced = tenant or row.tenant
            try:
                outcome = ingest_payload(
                    database, configs, row.platform or "generic", row.payload, candidates=list(configs),
                    source=row.source, tenant=forced, keep=False,
                )  # fmt: skip
            except Refused as exc:
                requarantine(database, qid, exc.detail)
                err.print(f"[red]{qid}:[/red] still refused: {escape(exc.detail)}")
                failed += 1
                continue
            if outcome.status == "quarantined" or outcome.call_id is None or outcome.tenant is None:
                requarantine(database, qid, outcome.reason or outcome.status)
                err.print(f"[red]{qid}:[/red] still {outcome.status}: {escape(outcome.reason or '')}")
                failed += 1
                continue
            resolve_quarantined(database, qid, outcome.tenant, outcome.call_id)
            out.print(f"{qid}: {outcome.status} as call {escape(outcome.call_id)} of tenant {outcome.tenant}")
    if failed:
        raise typer.Exit(1)
