"""`callsync retention apply`, `callsync forget`, `callsync doctor`: caller data protection (docs/privacy.md)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer

from callsync.cli.common import (
    ConcurrencyOption,
    DbConnectionsOption,
    DbOption,
    app,
    fail,
    open_database,
    out,
)
from callsync.cli.serve import TenantsDirOption, ingest_tenants
from callsync.redaction import install_log_redaction
from callsync.services import privacy as service
from callsync.services.errors import ServiceError
from callsync.services.review import current_user

# Every `callsync` process masks emails, phone numbers and transcript text in its log lines (docs/privacy.md).
install_log_redaction()

retention_app = typer.Typer(
    help="Apply each tenant's retention limits (docs/privacy.md).", no_args_is_help=True
)
app.add_typer(retention_app, name="retention")

DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Count what would be removed; change nothing.")]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")]


def _call(run: Any) -> Any:
    try:
        return run()
    except ServiceError as exc:
        raise fail(str(exc)) from exc


@retention_app.command("apply")
def retention_apply(
    db: DbOption = None,
    tenants: TenantsDirOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Reduce raw payloads older than a tenant's `retention.payloads` to the transcript, and remove the words of
    transcripts older than `retention.transcripts` (the ledger keeps a keyed hash of each evidence sentence).
    The workers run this every hour too."""
    configs = ingest_tenants(tenants)
    with open_database(db) as database:
        results = _call(lambda: service.apply_retention(database, configs.values(), dry_run=dry_run,
                                                        actor=current_user()))  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps({"dry_run": dry_run, "tenants": [
            {"tenant": r.tenant, **asdict(r.counts)} for r in results]}) + "\n")  # fmt: skip
        return
    if not results:
        out.print("no tenant has retention limits (`retention:` in its file): nothing removed")
        return
    verb = "would remove" if dry_run else "removed"
    for r in results:
        c = r.counts
        out.print(f"{r.tenant}: {verb} {c.payloads} raw payloads ({c.events} later events), {c.transcripts} "
                  f"transcripts ({c.ledger_rows} ledger sentences kept as keyed hashes), {c.quarantine} "
                  f"quarantined payloads, {c.sync_records} sync records")  # fmt: skip


@app.command()
def forget(
    email: Annotated[str | None, typer.Option(help="The person's email address.")] = None,
    phone: Annotated[
        str | None, typer.Option(help="The person's phone number (E.164, e.g. +14155550123).")
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(help="The tenant (may be left out when the database holds one tenant's calls)."),
    ] = None,
    db: DbOption = None,
    dry_run: DryRunOption = False,
    region: Annotated[
        str, typer.Option(help="Country of a phone number given without +country code.")
    ] = "US",
    as_json: JsonOption = False,
) -> None:
    """Erase one person from callsync's store: their calls, transcripts, extracted values, review items,
    identity links, dead letters and quarantined payloads; the ledger keeps its rows with keyed hashes. An
    erasure record (who, when, counts; no personal data) is kept. CRM records are never deleted: the ones
    callsync wrote for this person are listed for their owner."""
    with open_database(db) as database:
        result = _call(lambda: service.forget(database, email=email, phone=phone, tenant=tenant, dry_run=dry_run,
                                              actor=current_user(), region=region))  # fmt: skip
    records = [asdict(r) for r in result.crm_records]
    if as_json:
        sys.stdout.write(json.dumps({"dry_run": dry_run, "tenant": result.tenant, "calls": result.call_ids,
                                     "removed": asdict(result.counts), "crm_records": records}) + "\n")  # fmt: skip
        return
    c = result.counts
    verb = "would remove" if dry_run else "removed"
    out.print(f"{result.tenant}: {verb} {c.calls} calls ({', '.join(result.call_ids) or 'none'}), {c.events} later "
              f"events, {c.field_values} extracted values, {c.review_items} review items, {c.identity_links} "
              f"identity links, {c.dead_letters} dead letters, {c.quarantine} quarantined payloads, "
              f"{c.sync_records} sync workflows; {c.ledger_rows} ledger rows kept with keyed hashes"
              + ("" if dry_run else f", {c.other_mentions} other mentions replaced"))  # fmt: skip
    if records:
        out.print("CRM records callsync wrote for this person (not deleted: the CRM owner decides):")
        for r in result.crm_records:
            out.print(f"  {r.crm} {r.object_type} {r.record_id}")
    else:
        out.print("no CRM records were written for this person")


@app.command()
def doctor(
    tenants: TenantsDirOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
    concurrency: ConcurrencyOption = None,
    db_connections: DbConnectionsOption = None,
) -> None:
    """Check that every secret the tenant files name (webhook secrets, API keys, CRM tokens; `X_FILE`: a file)
    is present, without printing any value; with `--db` (or $CALLSYNC_DB_URL), also show the database
    connection budget of a worker started with the same `--concurrency` and `--db-connections`, and whether
    the server has room for it (docs/scaling.md). Exit 1 naming what is missing or does not fit."""
    import os

    from callsync.store.db import ENV_DB_URL

    configs = ingest_tenants(tenants)
    checks = service.check_secrets(configs.values())
    missing = [c for c in checks if not c.present]
    budget: dict[str, Any] | None = None
    if db or os.environ.get(ENV_DB_URL):
        # The worker's own check, run without starting one (pipeline/worker.py).
        from callsync.pipeline.worker import ConnectionBudgetError, check_connection_budget

        with open_database(db, read_only=True, connections=db_connections) as database:
            try:
                budget = {"fits": True, "summary": check_connection_budget(database, concurrency)}
            except ConnectionBudgetError as exc:
                budget = {"fits": False, "summary": str(exc)}
    if as_json:
        sys.stdout.write(json.dumps({"secrets": [asdict(c) for c in checks], "connections": budget}) + "\n")
    else:
        for c in checks:
            out.print(f"{'ok     ' if c.present else 'MISSING'} {c.tenant}: {c.purpose} (${c.name})")
        if budget is not None:
            out.print(
                f"{'ok     ' if budget['fits'] else 'TOO MANY'} database connections: {budget['summary']}"
            )
    if missing:
        names = ", ".join(sorted({f"${c.name}" for c in missing}))
        raise fail(f"{len(missing)} secret(s) missing: {names}")
    if budget is not None and not budget["fits"]:
        raise fail(f"database connections: {budget['summary']}")
