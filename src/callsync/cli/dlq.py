"""`callsync dlq`: the dead-letter queue — list, show, replay one, replay all."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from callsync.cli.calls import checked_tenants
from callsync.cli.common import DbOption, TenantFileOption, app, err, fail, open_database, out
from callsync.store.db import Database

dlq_app = typer.Typer(help="Dead letters: list, show, replay ID, replay --all.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


@dlq_app.command("list")
def list_(
    db: DbOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Every state, not only open ones.")] = False,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
) -> None:
    """List dead letters (open ones by default), oldest first, with their last error."""
    from callsync.trust.dead_letters import list_dead_letters, settle_replays

    with open_database(db) as database:
        settle_replays(database)
        letters = list_dead_letters(database, status=None if all_ else "open", tenant=tenant)
    if as_json:
        for d in letters:
            sys.stdout.write(json.dumps(d.to_json()) + "\n")
        return
    table = Table(title=f"dead letters ({'all' if all_ else 'open'}): {len(letters)}")
    for col in ("id", "status", "tenant", "call", "attempts", "since", "last error"):
        table.add_column(col, overflow="fold")
    for d in letters:
        table.add_row(str(d.id), d.status, d.tenant, d.call_id, str(d.attempts),
                      f"{d.created_at:%Y-%m-%d %H:%M:%S}", escape(_short(d.last_error, 90)))  # fmt: skip
    out.print(table)
    if letters and not all_:
        out.print("replay one: callsync dlq replay ID · replay all: callsync dlq replay --all")


@dlq_app.command()
def show(
    dead_letter_id: Annotated[int, typer.Argument(help="Dead letter id (see `callsync dlq list`).")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """What the call meant to write, the errors of its last attempts, and the command that replays it."""
    from callsync.trust.dead_letters import get_dead_letter, settle_replays

    with open_database(db) as database:
        settle_replays(database)
        d = get_dead_letter(database, dead_letter_id)
    if d is None:
        raise fail(f"no dead letter {dead_letter_id}")
    if as_json:
        sys.stdout.write(json.dumps(d.to_json(full=True), default=str) + "\n")
        return
    out.print(
        f"[bold]dead letter {d.id}[/bold] · {d.status} · tenant {d.tenant} · {d.crm} · call {d.call_id}"
    )
    out.print(
        f"workflow {d.workflow_id} · {d.operation} · {d.attempts} attempt(s) · since {d.created_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    out.print(f"call state: {d.call_state or 'unknown'}")
    out.print(f"[red]last error:[/red] {escape(d.last_error)}")
    errors = d.request.get("errors") or []
    if len(errors) > 1:
        out.print("errors of the last attempts, oldest first:")
        for e in errors:
            out.print(f"  - {escape(str(e))}")
    plan = d.request.get("plan") or {}
    if plan:
        identity = plan.get("identity") or {}
        out.print(
            f"what it meant to write: {plan.get('crm_object')} for "
            + ", ".join(f"{k} {v}" for k, v in identity.items() if v)
        )
        table = Table()
        for col in ("field", "value", "policy", "confidence"):
            table.add_column(col, overflow="fold")
        for name, f in (plan.get("fields") or {}).items():
            conf = f.get("confidence")
            table.add_row(name, escape(_short(f.get("value"))), str(f.get("policy") or ""),
                          f"{conf:.2f}" if isinstance(conf, int | float) else "—")  # fmt: skip
        for name, value in (plan.get("defaults") or {}).items():
            table.add_row(name, escape(_short(value)), "default", "—")
        out.print(table)
    if d.status == "open":
        out.print(f"replay: [bold]{escape(d.replay_command())}[/bold]")
    else:
        out.print(f"replay workflow: {d.replay_workflow_id}")


@dlq_app.command("replay")
def replay_(
    dead_letter_id: Annotated[int | None, typer.Argument(help="Dead letter id; or use --all.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every open dead letter.")] = False,
    tenant: Annotated[str | None, typer.Option(help="With --all: only this tenant's.")] = None,
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
    wait: Annotated[
        bool, typer.Option(help="Run the replays here and wait (--no-wait: only queue them for a worker).")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Give up waiting after this many seconds.")] = 3600.0,
) -> None:
    """Re-run each call's sync from its first step under a fresh workflow id. Exit 1 if any fails again."""
    from callsync.pipeline.replay import replay
    from callsync.trust.dead_letters import list_dead_letters, settle_replays

    if (dead_letter_id is None) == (not all_):
        raise fail("give one dead letter id, or --all")
    tenants = checked_tenants(tenant_file) if wait else {}
    with open_database(db) as database:
        settle_replays(database)
        ids = [d.id for d in list_dead_letters(database, tenant=tenant)] if all_ else [dead_letter_id or 0]
        if not ids:
            out.print("no open dead letters")
            return
        if wait:
            _refuse_unknown_tenants(database, tenants, ids)
        replays = replay(database, ids)
        refused = [r for r in replays if not r.queued]
        for r in refused:
            err.print(f"[yellow]dead letter {r.dead_letter_id}: not replayed: {escape(r.reason)}[/yellow]")
        queued = [r for r in replays if r.queued]
        out.print(f"queued {len(queued)} replay(s)")
        if not queued:
            raise typer.Exit(1)
        if not wait:
            out.print(
                "a running `callsync sync` (or the next one) picks them up; `callsync dlq list --all` shows how they end"
            )
            return
        _run_and_wait(database, tenants, [(r.tenant, r.call_id) for r in queued], timeout)
        settled = settle_replays(database)
    failed = 0
    for s in settled:
        if s.status == "resolved":
            out.print(
                f"dead letter {s.dead_letter_id} (call {s.call_id}): [green]resolved[/green], the call is {s.call_state}"
            )
        else:
            failed += 1
            out.print(
                f"dead letter {s.dead_letter_id} (call {s.call_id}): [red]failed again[/red] → dead letter "
                f"{s.new_dead_letter}: {escape(s.error or '')}"
            )
    pending = len(queued) - len(settled)
    if pending:
        raise fail(
            f"{pending} replay(s) still running after {timeout:.0f}s; `callsync dlq list --all` shows them", 2
        )
    if failed or refused:
        raise typer.Exit(1)


def _refuse_unknown_tenants(database: Database, tenants: dict[str, Any], ids: list[int]) -> None:
    """A worker started here runs every queued call: refuse before queueing anything it cannot route."""
    from sqlalchemy import select

    from callsync.store.tables import CallRow, DeadLetterRow

    with database.session() as session:
        queued = set(session.scalars(select(CallRow.tenant).where(CallRow.sync_state == "queued")).all())
        replayed = set(session.scalars(select(DeadLetterRow.tenant).where(DeadLetterRow.id.in_(ids))).all())
    unknown = sorted((queued | replayed) - set(tenants))
    if unknown:
        raise fail(f"no configuration here for tenant(s) {', '.join(unknown)}; pass their --tenant-file")


def _run_and_wait(
    database: Database, tenants: dict[str, Any], calls: list[tuple[str, str]], timeout: float
) -> None:
    from callsync.pipeline import engine
    from callsync.pipeline.worker import running_worker
    from callsync.trust.dead_letters import call_states

    columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    deadline = time.monotonic() + timeout
    with running_worker(engine.Runtime(database, tenants)), Progress(*columns, console=err) as progress:
        task = progress.add_task("replay", total=len(calls))
        while True:
            states = call_states(database, calls)
            done = sum(1 for c in calls if states.get(c, "queued") != "queued")
            progress.update(task, completed=done)
            if done == len(calls) or time.monotonic() >= deadline:
                return
            time.sleep(0.2)
