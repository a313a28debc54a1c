"""`callsync demo` and `callsync sandbox`: commands that need the emulators.

They live with the emulators, not in the product: `callsync` finds them through the
`callsync.commands` entry point, so the product never imports this package."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from callsync import __version__
from callsync.cli.actions import render_action_summary
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
        str,
        typer.Option(
            "--crm",
            help="Which CRM emulator: hubspot, salesforce, zoho, gohighlevel or pipedrive; or webhook (the "
            "signature-verifying receiver).",
        ),
    ] = "hubspot",
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also print callsync's log lines (to stderr) while it syncs.")
    ] = False,
) -> None:
    """Ingest the bundled sample calls, sync them to a local CRM sandbox, print what landed and a trace."""
    from callsync.store.tables import LedgerRow
    from callsync.trust.trace import field_history
    from callsync_sandbox.demo import run_demo
    from callsync_sandbox.demo_crms import COMPANY_FIELD, run_lead_crm_demo

    if crm not in COMPANY_FIELD:
        raise fail(f"no demo for {crm!r}; choose one of: {', '.join(COMPANY_FIELD)}", 2)
    _quiet_logs(verbose)
    company = COMPANY_FIELD[crm]

    def run(database: Database, on_progress: Any) -> Any:
        if crm == "hubspot":
            return run_demo(database, on_progress)
        return run_lead_crm_demo(database, crm, on_progress)

    with tempfile.TemporaryDirectory(prefix="callsync-demo-") as tmp:
        database = Database(db or f"sqlite:///{tmp}/demo.db")
        try:
            out.print(f"callsync {__version__} demo · database {database.url}")
            result = _drain_demo(database, run)
            _render_demo(result, crm)
            with database.session() as session:
                # The record whose company changed most often (the repeat caller's), whatever order the
                # calls were synced in.
                rows = session.scalars(
                    select(LedgerRow)
                    .where(LedgerRow.field == company, LedgerRow.policy != "default")
                    .order_by(LedgerRow.id.desc())
                ).all()
                writes = Counter(row.record_id for row in rows)
                last = max(rows, key=lambda row: writes[row.record_id], default=None)
                ledger_rows = session.scalar(select(func.count()).select_from(LedgerRow))
            read_back = result.backlog.delivered == 0  # delivered: a 2xx from a target with no read-back
            what = (
                "each confirmed by read-back" if read_back else "each delivered (2xx), none can be read back"
            )
            out.print(f"\naudit ledger: {ledger_rows} field write(s), {what}")
            render_action_summary(database)
            if last is not None:
                out.print(f"\n[bold]trace[/bold] (callsync trace --crm {crm} --record "
                          f"{last.record_id} --field {company}):")  # fmt: skip
                render_trace(
                    crm,
                    last.record_id,
                    company,
                    field_history(database, crm, last.record_id, company),
                )
            out.print("\nstatus:")
            for line in _status_lines(status_counts(database)):
                out.print(f"  {line}")
        finally:
            database.dispose()
    if result.duplicates:
        raise typer.Exit(1)


# What each of `status_counts`'s numbers counts: calls (by their sync state) or open items of a queue.
_CALL_COUNTS: dict[str, str] = {
    "calls": "received",
    "queued": "queued",
    "confirmed": "confirmed",
    "delivered": "delivered (2xx, not read back)",
    "calls_in_review": "waiting for review",
    "closed": "closed by a reviewer",
    "waiting_for_crm_budget": "waiting for CRM budget",
}
_ITEM_COUNTS: dict[str, str] = {
    "review": "review items (values to check)",
    "dead_letters": "dead letters",
    "quarantined": "quarantined payloads",
}


def _status_lines(counts: dict[str, int]) -> list[str]:
    """Two labelled lines: calls by state, then open items; so "1 call waiting for review" and "3 review
    items" are never confused."""
    # "delivered" only where some call was (a target that cannot be read back): elsewhere it is noise.
    calls = [
        f"{label} {counts[key]}"
        for key, label in _CALL_COUNTS.items()
        if key in counts and (key != "delivered" or counts[key])
    ]
    items = [f"{label} {counts[key]}" for key, label in _ITEM_COUNTS.items() if key in counts]
    other = [
        f"{key.replace('_', ' ')} {n}"
        for key, n in counts.items()
        if key not in (*_CALL_COUNTS, *_ITEM_COUNTS)
    ]
    lines = [f"calls: {', '.join(calls)}", f"open items: {', '.join(items + other)}"]
    return [line for line in lines if not line.endswith(": ")]


def _quiet_logs(verbose: bool) -> None:
    """Log lines go to stderr, and only with --verbose: nothing lands in the middle of the demo's table."""
    import structlog

    level = logging.DEBUG if verbose else logging.WARNING
    structlog.configure(
        logger_factory=lambda *_args: _StderrLogger(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
    )


class _StderrLogger:
    """Writes to whatever `sys.stderr` is at the time of the write: a stream captured when logging was
    configured may be closed since (a test runner's), and a log call must never fail the work it reports."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _drain_demo(database: Database, run_demo: Any) -> Any:
    columns = (TextColumn("syncing demo calls"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("demo", total=None)
        return run_demo(database, lambda s: progress.update(task, total=s.total, completed=s.done))


def _render_demo(result: Any, crm: str = "hubspot") -> None:
    names = {
        "hubspot": "HubSpot",
        "salesforce": "Salesforce",
        "zoho": "Zoho CRM",
        "gohighlevel": "GoHighLevel",
        "pipedrive": "Pipedrive",
        "webhook": "webhook receiver",
    }
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
        f"calls {b.total}: confirmed {b.confirmed}, "
        + (f"delivered (2xx, not read back) {b.delivered}, " if b.delivered else "")
        + f"waiting for review {b.review}, "
        f"dead-lettered {b.dead_letter}, queued {b.queued}"
    )
    out.print(f"CRM requests {result.requests} ({faults}); one create's response was dropped after commit")
    colour = "green" if result.duplicates == 0 else "red"
    out.print(f"[{colour}]duplicates: {result.duplicates}[/{colour}]")


@app.command()
def sandbox(
    crm: Annotated[
        str,
        typer.Argument(
            help="Which emulator: hubspot, salesforce, zoho, pipedrive, gohighlevel, or webhook (a receiver "
            "that verifies Standard Webhooks signatures; --token is its whsec_ secret; a fault plan such as "
            "'rules: [{path: \".*\", fault: status, status: 500, times: 2}]' answers 500 twice first).",
            show_default=True,
        ),
    ] = "hubspot",
    port: Annotated[
        int,
        typer.Option(
            "--port",
            min=0,
            max=65535,
            help="Port on 127.0.0.1: where to serve (0: any free port, printed), or with --list where the "
            "sandbox already runs.",
        ),
    ] = 8765,
    token: Annotated[
        str,
        typer.Option("--token", help="The access token the emulator accepts (with --list: the one to send)."),
    ] = "sandbox-token",
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults",
            envvar="CALLSYNC_FAULT_PLAN",
            help="Fault plan for the served emulator: a YAML/JSON file or inline YAML/JSON "
            "(docs/sandbox.md, docs/runbook.md).",
        ),
    ] = None,
    list_records: Annotated[
        bool,
        typer.Option(
            "--list",
            help="Print the records of the sandbox already running on --port (through the vendor's own list "
            "endpoint) instead of serving one.",
        ),
    ] = False,
    schema_file: Annotated[
        Path | None,
        typer.Option(
            "--schema",
            help="Seed the served emulator with a customer's exported schema (`callsync schema export`).",
        ),
    ] = None,
    object_type: Annotated[
        str | None,
        typer.Option(
            "--object",
            help="With --list: the object type to list (default: contacts for HubSpot, Lead for Salesforce, "
            "Leads for Zoho).",
        ),
    ] = None,
) -> None:
    """Serve a CRM emulator on 127.0.0.1 until interrupted (for trying `ingest` + `sync` by hand), or list
    the records of a running one (--list). docs/sandbox.md says what each emulator reproduces."""
    from callsync_sandbox.listing import CHOICES, EMULATORS, ListError
    from callsync_sandbox.listing import list_records as fetch_records

    if crm not in EMULATORS:
        raise fail(f"unknown CRM {crm!r}; choose one of: {', '.join(CHOICES)}", 2)
    if crm == "webhook" and token == "sandbox-token":
        from callsync_sandbox.webhook import SANDBOX_SECRET

        token = SANDBOX_SECRET  # a receiver's secret is a signing key: whsec_ + base64
    if list_records:
        if faults is not None and "CALLSYNC_FAULT_PLAN" not in os.environ:
            raise fail("--faults applies to a sandbox being served, not to --list", 2)
        if schema_file is not None:
            raise fail("--schema applies to a sandbox being served, not to --list", 2)
        if port == 0:
            raise fail("--list needs the port the sandbox runs on, not 0", 2)
        try:
            listing = fetch_records(crm, port, token, object_type)
        except ListError as exc:
            raise fail(str(exc)) from exc
        _render_listing(EMULATORS[crm].name, port, listing)
        return
    if object_type is not None:
        raise fail("--object goes with --list", 2)
    _serve(crm, port, token, faults, schema_file)


def _serve(crm: str, port: int, token: str, faults: str | None, schema_file: Path | None = None) -> None:
    import time

    from pydantic import ValidationError

    from callsync_sandbox.faults import load_fault_plan
    from callsync_sandbox.listing import EMULATORS, TOKEN_ENVS
    from callsync_sandbox.server import SandboxServer

    emulator = EMULATORS[crm]
    try:
        plan = load_fault_plan(faults) if faults else None
    except (OSError, ValueError, ValidationError) as exc:
        raise fail(f"fault plan: {exc}") from exc
    try:
        asgi = emulator.build(token, plan) if schema_file is None else _seeded(crm, token, plan, schema_file)
        server = SandboxServer(asgi, port=port)
        server.start()
    except OSError as exc:  # the port is taken (or not ours to bind): say so, and nothing else
        reason = str(exc.strerror or exc).split(" (while attempting")[0]
        raise fail(f"cannot listen on 127.0.0.1:{port}: {reason}") from exc
    port = server.port  # the one bound, when asked for any free one
    url = f"http://127.0.0.1:{port}"
    rules = f"; fault plan: {len(plan.all_rules())} rule(s), seed {plan.seed}" if plan else ""
    out.print(f"{emulator.name} sandbox on {url}{rules}; Ctrl-C to stop")
    out.print(f"  API base:     {url}{emulator.api}")
    out.print(f"  token:        {token}  (header {emulator.auth.format(token=token)})")
    env = TOKEN_ENVS[crm]
    out.print(f"  tenant crm:   {emulator.connection.format(url=url, token_env=env)}  (and {env}={token})")
    listing = emulator.list_hint.format(url=url, object=emulator.default_object)
    out.print(f"  list records: callsync sandbox {crm} --list --port {port}   or   {listing}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _seeded(crm: str, token: str, plan: Any, schema_file: Path) -> Any:
    from callsync.crm.schema import load_schema
    from callsync.errors import ConfigError
    from callsync_sandbox.seed import seeded_app

    try:
        return seeded_app(crm, token, plan, load_schema(schema_file))
    except (ConfigError, ValueError) as exc:
        raise fail(f"schema: {exc}") from exc


def _render_listing(name: str, port: int, listing: Any) -> None:
    table = Table(
        title=f"{name} sandbox on 127.0.0.1:{port} · {listing.object_type}: {len(listing.rows)} record(s)"
    )
    for column in listing.columns:
        table.add_column(column)
    for row in listing.rows:
        table.add_row(*row)
    out.print(table)
