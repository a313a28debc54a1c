"""Commands that move calls: extract, ingest, sync."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from callsync.cli.common import (
    BatchWindowOption,
    DbOption,
    TenantFileOption,
    app,
    err,
    fail,
    open_database,
    out,
)
from callsync.crm.http.coalesce import DEFAULT_BATCH_WINDOW_S, DEFAULT_CONCURRENCY
from callsync.errors import ConfigError, InputError
from callsync.store.db import Database

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
        raise fail(f"{failures} call(s) could not be read (see above)")


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
    from callsync.pipeline.intake import receive_call
    from callsync.store.calls import quarantine

    counts = {"queued": 0, "duplicate": 0, "refused": 0}
    with open_database(db) as database:
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


def tenants_from_files(files: list[Path] | None) -> dict[str, Any]:
    import os

    from callsync.config import CRMConnection, TenantConfig, load_tenant

    if files:
        loaded = [load_tenant(f) for f in files]
    else:
        base_url = os.environ.get("CALLSYNC_HUBSPOT_URL", "http://127.0.0.1:8765")
        loaded = [TenantConfig(name="demo", crm=CRMConnection(base_url=base_url))]
    return {t.name: t for t in loaded}


def checked_tenants(files: list[Path] | None) -> dict[str, Any]:
    """Tenants whose token and mapping are usable now: refuse before any work starts, not mid-sync."""
    try:
        tenants = tenants_from_files(files)
        for t in tenants.values():
            t.crm.token()
            t.load_mapping()
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    return tenants


@app.command()
def sync(
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
    timeout: Annotated[float, typer.Option(help="Give up waiting after this many seconds.")] = 3600.0,
    concurrency: Annotated[
        int, typer.Option(help="Calls synced at once (one at a time per caller).")
    ] = DEFAULT_CONCURRENCY,
    batch_window: BatchWindowOption = DEFAULT_BATCH_WINDOW_S,
) -> None:
    """Run the pending sync work to completion, with a progress bar. Interrupted syncs resume."""
    from callsync.pipeline import engine
    from callsync.pipeline.worker import drain, running_worker
    from callsync.store.tables import CallRow

    tenants = checked_tenants(tenant_file)
    with open_database(db) as database:
        with database.session() as session:
            pending = set(session.scalars(select(CallRow.tenant).where(CallRow.sync_state == "queued")).all())
        unknown = sorted(pending - set(tenants))
        if unknown:
            raise fail(f"queued calls belong to tenant(s) with no configuration here: {', '.join(unknown)}; "
                        "pass their --tenant-file")  # fmt: skip
        with running_worker(engine.Runtime(database, tenants), concurrency=concurrency, poll_s=batch_window):
            state = _drain_with_progress(database, drain, timeout)
    out.print(
        f"confirmed {state.confirmed}, in review {state.review}, dead letters {state.dead_letter}, "
        f"still queued {state.queued}"
    )
    if state.queued:
        raise fail(f"{state.queued} call(s) still queued after {timeout:.0f}s; run `callsync sync` again", 2)


def _drain_with_progress(database: Database, drain: Any, timeout: float) -> Any:
    columns = (TextColumn("syncing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("sync", total=None)

        def update(state: Any) -> None:
            progress.update(task, total=state.total, completed=state.done)

        return drain(database, timeout_s=timeout, on_progress=update)
