"""The `callsync` command. Every command takes `--db URL` (default CALLSYNC_DB_URL, then ./callsync.db)."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from callsync import __version__
from callsync.errors import ConfigError, InputError
from callsync.store.db import Database

app = typer.Typer(
    help="Turn every AI-handled phone call into a correct, traceable CRM record.",
    no_args_is_help=True,
    add_completion=False,
)
# Piped output (CI logs, `| less`) gets a wide fixed width instead of 80 columns of wrapped tables.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (sqlite:///path or postgresql://...). Default: $CALLSYNC_DB_URL, "
                 "then sqlite:///./callsync.db"),
]  # fmt: skip
TenantFileOption = Annotated[
    list[Path] | None,
    typer.Option("--tenant-file", help="Tenant configuration YAML (repeatable). Default: the built-in `demo` "
                 "tenant writing to the HubSpot sandbox at $CALLSYNC_HUBSPOT_URL (http://127.0.0.1:8765)."),
]  # fmt: skip


@contextmanager
def _database(url: str | None) -> Iterator[Database]:
    db = Database(url)
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


# -- extract ------------------------------------------------------------------------------------------


@app.command()
def extract(
    files: Annotated[
        list[Path], typer.Argument(help="Generic call JSON: one object, a JSON list, or JSON Lines.")
    ],
    region: Annotated[str, typer.Option(help="Default country for phone numbers.")] = "US",
) -> None:
    """Print the extraction JSON (fields with confidence, status and evidence) for each call."""
    from callsync.capture.extract import extract_call
    from callsync.capture.platforms.generic import parse_generic_call
    from callsync.capture.reader import read_call_file

    failures = 0
    for path in files:
        call_file = read_call_file(path)
        results: list[dict[str, Any]] = []
        for raw in call_file.items:
            try:
                if raw.error:
                    raise raw.error
                call = parse_generic_call(raw.payload, source=raw.source, line=raw.line)
            except InputError as exc:
                failures += 1
                err.print(f"[red]error:[/red] {escape(str(exc))}")
                continue
            result = extract_call(call, default_region=region).to_json()
            if call_file.shape == "lines":
                sys.stdout.write(json.dumps(result) + "\n")
            else:
                results.append(result)
        if call_file.shape == "list":
            sys.stdout.write(json.dumps(results, indent=2) + "\n")
        elif call_file.shape == "object" and results:
            sys.stdout.write(json.dumps(results[0], indent=2) + "\n")
    if failures:
        raise _fail(f"{failures} call(s) could not be read (see above)")


# -- ingest / sync ------------------------------------------------------------------------------------


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Call files: one object, a JSON list, or JSON Lines.")],
    db: DbOption = None,
    tenant: Annotated[str, typer.Option(help="Tenant the calls belong to.")] = "demo",
) -> None:
    """Store calls verbatim and queue their sync (each call and its sync job in one transaction).

    A malformed call is reported with file, line and field, and kept whole in quarantine; the other
    calls in the file are still stored. Exits 1 if any call was refused."""
    from callsync.capture.platforms.generic import parse_generic_call
    from callsync.capture.reader import read_calls
    from callsync.store.calls import quarantine, receive_call

    counts = {"queued": 0, "duplicate": 0, "refused": 0}
    with _database(db) as database:
        for path in files:
            for raw in read_calls(path):
                try:
                    if raw.error:
                        raise raw.error
                    call = parse_generic_call(raw.payload, tenant=tenant, source=raw.source, line=raw.line)
                except InputError as exc:
                    counts["refused"] += 1
                    err.print(f"[red]error:[/red] {escape(str(exc))}")
                    if raw.text:
                        quarantine(database, f"{raw.source}:{raw.line}", str(exc), raw.text, tenant)
                    continue
                received = receive_call(database, call, raw.text, f"{raw.source}:{raw.line}")
                counts[received.status] += 1
    out.print(
        f"queued {counts['queued']} call(s), {counts['duplicate']} already stored, "
        f"{counts['refused']} refused (quarantined)"
    )
    if counts["refused"]:
        raise typer.Exit(1)


def _tenants(files: list[Path] | None) -> dict[str, Any]:
    import os

    from callsync.tenants import CRMConnection, TenantConfig, load_tenant

    if files:
        loaded = [load_tenant(f) for f in files]
    else:
        base_url = os.environ.get("CALLSYNC_HUBSPOT_URL", "http://127.0.0.1:8765")
        loaded = [TenantConfig(name="demo", crm=CRMConnection(base_url=base_url))]
    return {t.name: t for t in loaded}


@app.command()
def sync(
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
    timeout: Annotated[float, typer.Option(help="Give up waiting after this many seconds.")] = 3600.0,
    concurrency: Annotated[int, typer.Option(help="Calls synced at once (one at a time per caller).")] = 8,
) -> None:
    """Run the pending sync work to completion, with a progress bar. Interrupted syncs resume."""
    from callsync.store.tables import CallRow
    from callsync.write import engine
    from callsync.write.worker import drain, running_worker

    try:
        tenants = _tenants(tenant_file)
        for t in tenants.values():
            t.crm.token()
            t.load_mapping()
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    with _database(db) as database:
        with database.session() as session:
            pending = set(session.scalars(select(CallRow.tenant).where(CallRow.sync_state == "queued")).all())
        unknown = sorted(pending - set(tenants))
        if unknown:
            raise _fail(f"queued calls belong to tenant(s) with no configuration here: {', '.join(unknown)}; "
                        "pass their --tenant-file")  # fmt: skip
        with running_worker(engine.Runtime(database, tenants), concurrency=concurrency):
            state = _drain_with_progress(database, drain, timeout)
    out.print(
        f"confirmed {state.confirmed}, in review {state.review}, dead letters {state.dead_letter}, "
        f"still queued {state.queued}"
    )
    if state.queued:
        raise _fail(f"{state.queued} call(s) still queued after {timeout:.0f}s; run `callsync sync` again", 2)


def _drain_with_progress(database: Database, drain: Any, timeout: float) -> Any:
    columns = (TextColumn("syncing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("sync", total=None)

        def update(state: Any) -> None:
            progress.update(task, total=state.total, completed=state.done)

        return drain(database, timeout_s=timeout, on_progress=update)


# -- status / trace -----------------------------------------------------------------------------------


def status_counts(database: Database) -> dict[str, int]:
    from callsync.store.tables import CallRow, DeadLetterRow, QuarantineRow, ReviewItemRow

    with database.session() as session:

        def count(model: Any, *where: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        return {
            "calls": count(CallRow),
            "queued": count(CallRow, CallRow.sync_state == "queued"),
            "confirmed": count(CallRow, CallRow.sync_state == "confirmed"),
            "dead_letters": count(DeadLetterRow, DeadLetterRow.status == "open"),
            "quarantined": count(QuarantineRow, QuarantineRow.status == "open"),
            "review": count(ReviewItemRow, ReviewItemRow.status == "open"),
        }


@app.command()
def status(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of a table.")] = False,
) -> None:
    """Calls received, queued, confirmed; open dead letters, quarantined payloads and review items."""
    with _database(db) as database:
        counts = status_counts(database)
    if as_json:
        sys.stdout.write(json.dumps(counts) + "\n")
        return
    table = Table(title="callsync status")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        table.add_row(key.replace("_", " "), str(value))
    out.print(table)


@app.command()
def trace(
    crm: Annotated[str, typer.Option(help="CRM name, e.g. hubspot.")],
    record: Annotated[str, typer.Option(help="The CRM record id.")],
    field: Annotated[str, typer.Option(help="The CRM field (property) name.")],
    db: DbOption = None,
) -> None:
    """Print a field's history: each value, the call it came from and the exact sentence spoken."""
    from callsync.trust.trace import field_history

    with _database(db) as database:
        entries = field_history(database, crm, record, field)
    if not entries:
        raise _fail(f"callsync has no record of writing {crm} {record} {field}")
    render_trace(crm, record, field, entries)


def render_trace(crm: str, record: str, field: str, entries: list[Any]) -> None:
    out.print(f"[bold]{crm} record {record} · field {field}[/bold] — {len(entries)} write(s)")
    for n, e in enumerate(entries, start=1):
        conf = f"{e.confidence:.2f}" if e.confidence is not None else "—"
        out.print(
            f"  {n}. {escape(repr(e.old_value))} → [bold]{escape(repr(e.value))}[/bold]   call {escape(e.call_id)}, "
            f"policy {e.policy or '—'} ({escape(e.decision)}), confidence {conf}"
        )
        out.print(
            f"     written {e.written_at:%Y-%m-%d %H:%M:%S}, confirmed "
            f"{e.confirmed_at:%Y-%m-%d %H:%M:%S} by read-back, request {e.crm_request_id}, {e.integration_version}"
            if e.confirmed_at
            else f"     written {e.written_at:%Y-%m-%d %H:%M:%S}, {e.integration_version}"
        )
        for q in e.quotes:
            said = (
                escape(q.sentence[: q.start])
                + "[reverse]"
                + escape(q.sentence[q.start : q.end])
                + "[/reverse]"
                + escape(q.sentence[q.end :])
            )
            out.print(f'     turn {q.turn} ({q.speaker}): "{said}"')
        if not e.quotes:
            out.print("     (not from the transcript: a call fact or a mapping default)")


# -- demo / sandbox / version -------------------------------------------------------------------------


@app.command()
def demo(
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL. Default: a fresh SQLite file in a temp folder.")
    ] = None,
) -> None:
    """Ingest the bundled sample calls, sync them to a local HubSpot sandbox, print what landed and a trace."""
    from callsync.demo import run_demo
    from callsync.store.tables import LedgerRow
    from callsync.trust.trace import field_history

    with tempfile.TemporaryDirectory(prefix="callsync-demo-") as tmp:
        database = Database(db or f"sqlite:///{tmp}/demo.db")
        try:
            out.print(f"callsync {__version__} demo · database {database.url}")
            result = _drain_demo(database, run_demo)
            _render_demo(result)
            with database.session() as session:
                last = session.scalars(
                    select(LedgerRow).where(LedgerRow.field == "company").order_by(LedgerRow.id.desc())
                ).first()
                ledger_rows = session.scalar(select(func.count()).select_from(LedgerRow))
            out.print(f"\naudit ledger: {ledger_rows} field write(s), each confirmed by read-back")
            if last is not None:
                out.print("\n[bold]trace[/bold] (callsync trace --crm hubspot --record "
                          f"{last.record_id} --field company):")  # fmt: skip
                render_trace(
                    "hubspot",
                    last.record_id,
                    "company",
                    field_history(database, "hubspot", last.record_id, "company"),
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


def _render_demo(result: Any) -> None:
    table = Table(title="What landed in the HubSpot sandbox")
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
) -> None:
    """Serve a CRM emulator on 127.0.0.1 until interrupted (for trying `ingest` + `sync` by hand)."""
    import uvicorn

    from callsync.sandbox.hubspot import HubSpotSandbox

    if crm != "hubspot":
        raise _fail(f"no sandbox for {crm!r} yet; available: hubspot")
    out.print(f"HubSpot sandbox on http://127.0.0.1:{port} (token {token!r}); Ctrl-C to stop")
    uvicorn.run(HubSpotSandbox(token=token).app(), host="127.0.0.1", port=port, log_level="warning")


@app.command()
def migrate(db: DbOption = None) -> None:
    """Create or upgrade the database schema (every other command also does this on start)."""
    with _database(db) as database:
        out.print(f"database {database.url} is at the latest schema")


@app.command()
def version() -> None:
    """Print callsync's version."""
    out.print(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
