"""`callsync dlq`: the dead-letter queue — list, show, replay one or all, discard."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from callsync.cli.calls import checked_tenants
from callsync.cli.common import DbOption, TenantFileOption, TimeoutOption, app, err, fail, open_database, out
from callsync.cli.render import plain, when
from callsync.services import dead_letters as service
from callsync.services.errors import ServiceError
from callsync.services.review import current_user

dlq_app = typer.Typer(
    help="Dead letters: list, show, replay ID, replay --all, discard ID --reason.", no_args_is_help=True
)
app.add_typer(dlq_app, name="dlq")

IdArg = Annotated[int, typer.Argument(min=1, help="Dead letter id (see `callsync dlq list`).")]


def _call(run: Any) -> Any:
    try:
        return run()
    except ServiceError as exc:
        raise fail(str(exc)) from exc


@dlq_app.command("list")
def list_(
    db: DbOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Every state, not only open ones.")] = False,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
) -> None:
    """List dead letters (open ones by default), oldest first, with their last error in full and the
    command that replays each."""
    with open_database(db, read_only=True) as database:
        letters = _call(lambda: service.list_(database, status=None if all_ else "open", tenant=tenant))
    if as_json:
        for d in letters:
            sys.stdout.write(json.dumps(d.to_json()) + "\n")
        return
    table = Table(title=f"dead letters ({'all' if all_ else 'open'}): {len(letters)}")
    for col in ("id", "status", "tenant", "call", "attempts", "since", "last error", "replay"):
        table.add_column(col, overflow="fold")
    for d in letters:
        replay = d.replay_command() if d.status == "open" else "—"
        table.add_row(str(d.id), d.status, d.tenant, escape(d.call_id), str(d.attempts), when(d.created_at),
                      escape(d.last_error), escape(replay))  # fmt: skip
    out.print(table)
    if any(d.status == "open" for d in letters):
        out.print("replay every open one: callsync dlq replay --all · give one up: callsync dlq discard "
                  f"{letters[0].id} --reason \"...\"")  # fmt: skip


@dlq_app.command()
def show(
    dead_letter_id: IdArg,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """What the call meant to write, the errors of its last attempts, and the command that replays it."""
    with open_database(db, read_only=True) as database:
        d = _call(lambda: service.get(database, dead_letter_id))
    if as_json:
        sys.stdout.write(json.dumps(d.to_json(full=True), default=str) + "\n")
        return
    out.print(
        f"[bold]dead letter {d.id}[/bold] · {d.status} · tenant {d.tenant} · {d.crm} · call {escape(d.call_id)}"
    )
    out.print(
        f"workflow {d.workflow_id} · {d.operation} · {d.attempts} attempt(s) · since {when(d.created_at)}"
    )
    out.print(f"call state: {d.call_state or 'unknown'}")
    out.print(f"[red]last error:[/red] {escape(d.last_error)}")
    errors = d.request.get("errors") or []
    if len(errors) > 1:
        out.print("errors of the last attempts, oldest first:")
        for e in errors:
            out.print(f"  - {escape(plain(e))}")
    plan = d.request.get("plan") or {}
    if plan:
        identity = plan.get("identity") or {}
        out.print(
            f"what it meant to write: {plain(plan.get('crm_object'))} for "
            + (", ".join(f"{k} {plain(v)}" for k, v in identity.items() if v) or "—")
        )
        table = Table()
        for col in ("field", "value", "policy", "confidence"):
            table.add_column(col, overflow="fold")
        for name, f in (plan.get("fields") or {}).items():
            conf = f.get("confidence")
            table.add_row(name, escape(plain(f.get("value"), 60)), plain(f.get("policy")),
                          f"{conf:.2f}" if isinstance(conf, int | float) else "—")  # fmt: skip
        for name, value in (plan.get("defaults") or {}).items():
            table.add_row(name, escape(plain(value, 60)), "default", "—")
        out.print(table)
    if d.discarded:
        info = d.discarded
        out.print(f"discarded by {escape(plain(info.get('by')))} at {escape(plain(info.get('at')))}: "
                  f"{escape(plain(info.get('reason')))}")  # fmt: skip
    if d.status == "open":
        out.print(f"replay: [bold]{escape(d.replay_command())}[/bold]")
    elif d.status in ("replaying", "replayed", "resolved"):
        out.print(f"replay workflow: {d.replay_workflow_id}")


@dlq_app.command("replay")
def replay_(
    dead_letter_id: Annotated[int | None, typer.Argument(min=1, help="Dead letter id; or use --all.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every open dead letter.")] = False,
    tenant: Annotated[str | None, typer.Option(help="With --all: only this tenant's.")] = None,
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
    wait: Annotated[
        bool, typer.Option(help="Run the replays here and wait (--no-wait: only queue them for a worker).")
    ] = True,
    timeout: TimeoutOption = 3600.0,
) -> None:
    """Re-run each call's sync from its first step under a fresh workflow id. Exit 1 if any fails again."""
    if (dead_letter_id is None) == (not all_):
        raise fail("give one dead letter id, or --all", 2)
    tenants = checked_tenants(tenant_file) if wait else None
    with open_database(db) as database:
        ids = None if all_ else [dead_letter_id or 0]
        replays = _call(lambda: service.queue_replays(database, ids, tenant=tenant, runnable_tenants=tenants))
        if not replays:
            out.print("no open dead letters")
            return
        refused = [r for r in replays if not r.queued]
        for r in refused:
            err.print(f"[yellow]dead letter {r.dead_letter_id}: not replayed: {escape(r.reason)}[/yellow]")
        queued = [r for r in replays if r.queued]
        out.print(f"queued {len(queued)} replay(s)")
        if not queued:
            raise typer.Exit(1)
        if tenants is None:
            out.print(
                "a running `callsync sync` (or the next one) picks them up; `callsync dlq list --all` shows how they end"
            )
            return
        columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err) as progress:
            task = progress.add_task("replay", total=len(queued))
            run = service.run_replays(
                database, tenants, queued, timeout, lambda done, total: progress.update(task, completed=done)
            )
    failed = 0
    for s in run.settled:
        if s.status == "resolved":
            out.print(
                f"dead letter {s.dead_letter_id} (call {escape(s.call_id)}): [green]resolved[/green], the call is {s.call_state}"
            )
        else:
            failed += 1
            out.print(
                f"dead letter {s.dead_letter_id} (call {escape(s.call_id)}): [red]failed again[/red] → dead letter "
                f"{plain(s.new_dead_letter)}: {escape(s.error or '—')}"
            )
    if run.pending:
        raise fail(
            f"{run.pending} replay(s) still running after {timeout:.0f}s; `callsync dlq list --all` shows them",
            2,
        )
    if failed or refused:
        raise typer.Exit(1)


@dlq_app.command()
def discard(
    dead_letter_id: IdArg,
    reason: Annotated[
        str, typer.Option(help="Why nothing more is to be written (kept with the dead letter).")
    ],
    db: DbOption = None,
) -> None:
    """Give up on an open dead letter: it stays, as `discarded`, with who, when and why; its call is closed
    if nothing else of it is open."""
    with open_database(db) as database:
        d = _call(lambda: service.discard(database, dead_letter_id, reason=reason, by=current_user()))
    out.print(f"dead letter {d.id}: discarded (call {escape(d.call_id)} is {d.call_state or 'unknown'})")
