"""Commands that move calls: extract, ingest, sync."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from callsync.cli.common import (
    BatchWindowOption,
    ConcurrencyOption,
    DbOption,
    TenantFileOption,
    TimeoutOption,
    app,
    err,
    fail,
    open_database,
    out,
)
from callsync.crm.http.coalesce import DEFAULT_BATCH_WINDOW_S
from callsync.errors import ConfigError, InputError
from callsync.services.errors import ServiceError

# -- extract ------------------------------------------------------------------------------------------


@app.command()
def extract(
    files: Annotated[
        list[Path], typer.Argument(help="Generic call JSON: one object, a JSON list, or JSON Lines.")
    ],
    region: Annotated[str, typer.Option(help="Default country for phone numbers.")] = "US",
    timezone: Annotated[
        str,
        typer.Option(
            help="IANA time zone for relative dates of calls that carry no timezone of their own "
            "(the tenant's zone).",
        ),
    ] = "UTC",
    today: Annotated[
        str | None,
        typer.Option(
            help="Reference date (YYYY-MM-DD) for calls with no started_at: 'tomorrow', 'Friday' resolve "
            "against it, as if the call started at noon that day in the call's zone.",
            metavar="DATE",
        ),
    ] = None,
) -> None:
    """Print the extraction JSON (fields with confidence, status and evidence) for each call."""
    from callsync.capture.extract import extract_call
    from callsync.capture.platforms.generic import parse_generic_call
    from callsync.capture.reader import read_call_file
    from callsync.capture.reference_time import ReferenceTimeError, with_reference_date

    try:
        with_reference_date(None, today, timezone)  # checks both options before reading any file
    except ReferenceTimeError as exc:
        raise fail(str(exc), code=2) from None
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
                err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
                continue
            call = with_reference_date(call, today, timezone) or call
            result = extract_call(call, default_region=region, default_timezone=timezone).to_json()
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
    calls in the file are still stored. A file that cannot be read at all (a directory, an empty file, not
    UTF-8) is reported as not read: there is nothing to keep. Exits 1 if any call was refused or not read."""
    from callsync.capture.platforms.generic import parse_generic_call
    from callsync.capture.reader import read_calls
    from callsync.pipeline.intake import receive_call
    from callsync.store.calls import quarantine

    counts = {"queued": 0, "duplicate": 0, "refused": 0, "not_read": 0}
    with open_database(db) as database:
        for path in files:
            for raw in read_calls(path):
                try:
                    if raw.error:
                        raise raw.error
                    call = parse_generic_call(raw.payload, tenant=tenant, source=raw.source, line=raw.line)
                except InputError as exc:
                    if not raw.text.strip():
                        counts["not_read"] += 1
                        err.print(f"[red]not read:[/red] {escape(str(exc))}")
                        continue
                    counts["refused"] += 1
                    err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
                    quarantine(database, f"{raw.source}:{raw.line}", str(exc), raw.text, tenant)
                    continue
                received = receive_call(database, call, raw.text, f"{raw.source}:{raw.line}")
                counts[received.status] += 1
    summary = (
        f"queued {counts['queued']} call(s), {counts['duplicate']} already stored, "
        f"{counts['refused']} refused (quarantined)"
    )
    if counts["not_read"]:
        summary += f", {counts['not_read']} file(s) not read"
    out.print(summary)
    if counts["refused"] or counts["not_read"]:
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
            t.check_against_crm()  # the mapping, and its fields where the CRM can be asked (Pipedrive)
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    return tenants


@app.command()
def sync(
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
    timeout: TimeoutOption = 3600.0,
    concurrency: ConcurrencyOption = None,
    batch_window: BatchWindowOption = DEFAULT_BATCH_WINDOW_S,
) -> None:
    """Run the pending sync work to completion, with a progress bar. Interrupted syncs resume. With nothing
    queued it says so and returns at once."""
    from callsync.services.sync import pending, run_sync

    tenants = checked_tenants(tenant_file)
    with open_database(db) as database:
        before = pending(database)
        if before.queued == 0:
            out.print("nothing to sync: no call is queued")
            return
        columns = (TextColumn("syncing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=False) as progress:
            task = progress.add_task("sync", total=None)
            try:
                state = run_sync(
                    database, tenants, timeout_s=timeout, concurrency=concurrency, batch_window_s=batch_window,
                    on_progress=lambda s: progress.update(task, total=s.total, completed=s.done),
                )  # fmt: skip
            except ServiceError as exc:
                raise fail(str(exc)) from exc
    out.print(
        f"confirmed {state.confirmed}, in review {state.review}, dead letters {state.dead_letter}, "
        f"still queued {state.queued}"
    )
    if state.queued:
        raise fail(f"{state.queued} call(s) still queued after {timeout:.0f}s; run `callsync sync` again", 2)
    if state.dead_letter > before.dead_letter:
        # Something was not written: say so in the exit status, not only in the table.
        raise fail(
            f"{state.dead_letter - before.dead_letter} call(s) dead-lettered in this run: see `callsync dlq list`"
        )
