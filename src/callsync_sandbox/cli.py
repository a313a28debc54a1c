"""`callsync demo` and `callsync sandbox`: commands that need the emulators.

They live with the emulators, not in the product: `callsync` finds them through the
`callsync.commands` entry point, so the product never imports this package."""

from __future__ import annotations

import tempfile
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from callsync import __version__
from callsync.cli.common import app, err, fail, out
from callsync.cli.status import render_trace, status_counts
from callsync.store.db import Database

# -- demo / sandbox / version -------------------------------------------------------------------------


@app.command()
def demo(
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL. Default: a fresh SQLite file in a temp folder.")
    ] = None,
    crm: Annotated[
        str, typer.Option("--crm", help="Which CRM emulator: hubspot, salesforce or zoho.")
    ] = "hubspot",
) -> None:
    """Ingest the bundled sample calls, sync them to a local CRM sandbox, print what landed and a trace."""
    from functools import partial

    from callsync.store.tables import LedgerRow
    from callsync.trust.trace import field_history
    from callsync_sandbox.demo import run_demo
    from callsync_sandbox.demo_crms import COMPANY_FIELD

    if crm not in COMPANY_FIELD:
        raise fail(f"no demo for {crm!r}; choose hubspot, salesforce or zoho")
    company = COMPANY_FIELD[crm]
    run = partial(run_demo, crm=crm)

    with tempfile.TemporaryDirectory(prefix="callsync-demo-") as tmp:
        database = Database(db or f"sqlite:///{tmp}/demo.db")
        try:
            out.print(f"callsync {__version__} demo · database {database.url}")
            result = _drain_demo(database, run)
            _render_demo(result, crm)
            with database.session() as session:
                last = session.scalars(
                    select(LedgerRow)
                    .where(LedgerRow.field == company, LedgerRow.policy != "default")
                    .order_by(LedgerRow.id.desc())
                ).first()
                ledger_rows = session.scalar(select(func.count()).select_from(LedgerRow))
            out.print(f"\naudit ledger: {ledger_rows} field write(s), each confirmed by read-back")
            if last is not None:
                out.print(f"\n[bold]trace[/bold] (callsync trace --crm {crm} --record "
                          f"{last.record_id} --field {company}):")  # fmt: skip
                render_trace(
                    crm,
                    last.record_id,
                    company,
                    field_history(database, crm, last.record_id, company),
                )
            counts = status_counts(database)
            out.print("\nstatus: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        finally:
            database.dispose()
    if result.duplicates:
        raise typer.Exit(1)


def _drain_demo(database: Database, run_demo: Any) -> Any:
    columns = (TextColumn("syncing demo calls"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("demo", total=None)
        return run_demo(database, lambda s: progress.update(task, total=s.total, completed=s.done))


def _render_demo(result: Any, crm: str = "hubspot") -> None:
    names = {"hubspot": "HubSpot", "salesforce": "Salesforce", "zoho": "Zoho CRM"}
    table = Table(title=f"What landed in the {names.get(crm, crm)} sandbox")
    for col in ("id", "name", "email", "phone", "company", "created by call", "last call"):
        table.add_column(col)
    for c in result.contacts:
        p = c["properties"]
        table.add_row(
            c["id"],
            f"{p.get('firstname') or ''} {p.get('lastname') or ''}".strip(),
            p.get("email") or "",
            p.get("phone") or "",
            p.get("company") or "",
            p.get("callsync_origin_call_id") or "",
            p.get("callsync_last_call_id") or "",
        )
    out.print(table)
    b = result.backlog
    faults = ", ".join(f"{n}× HTTP {s}" for s, n in sorted(result.status_counts.items()))
    out.print(
        f"calls {b.total}: confirmed {b.confirmed}, in review {b.review}, dead letters {b.dead_letter}, "
        f"queued {b.queued}"
    )
    out.print(f"CRM requests {result.requests} ({faults}); one create's response was dropped after commit")
    colour = "green" if result.duplicates == 0 else "red"
    out.print(f"[{colour}]duplicates: {result.duplicates}[/{colour}]")


@app.command()
def sandbox(
    crm: Annotated[str, typer.Argument(help="Which emulator: hubspot.")] = "hubspot",
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    token: Annotated[str, typer.Option(help="The bearer token the emulator accepts.")] = "sandbox-token",
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults",
            envvar="CALLSYNC_FAULT_PLAN",
            help="Fault plan: a YAML/JSON file, or inline YAML/JSON (docs/runbook.md).",
        ),
    ] = None,
) -> None:
    """Serve a CRM emulator on 127.0.0.1 until interrupted (for trying `ingest` + `sync` by hand)."""
    import time

    from pydantic import ValidationError

    from callsync_sandbox.faults import load_fault_plan
    from callsync_sandbox.hubspot import HubSpotSandbox
    from callsync_sandbox.server import SandboxServer

    if crm != "hubspot":
        raise fail(f"no sandbox for {crm!r} yet; available: hubspot")
    try:
        plan = load_fault_plan(faults) if faults else None
    except (OSError, ValueError, ValidationError) as exc:
        raise fail(f"fault plan: {exc}") from exc
    rules = f", fault plan with {len(plan.all_rules())} rule(s), seed {plan.seed}" if plan else ""
    out.print(f"HubSpot sandbox on http://127.0.0.1:{port} (token {token!r}{rules}); Ctrl-C to stop")
    with SandboxServer(HubSpotSandbox(token=token, faults=plan).app(), port=port):
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
