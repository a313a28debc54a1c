"""Commands that show state: status, trace."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from callsync.cli.common import DbOption, app, fail, open_database, out
from callsync.store.db import Database

# -- status / trace -----------------------------------------------------------------------------------


def status_counts(database: Database) -> dict[str, int]:
    from callsync.crm.http.budget import calls_waiting_for_budget
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
            # queued calls whose CRM's daily API allowance is used up (or down to its reserve): they wait
            "waiting_for_crm_budget": calls_waiting_for_budget(session),
        }


def crm_budget_waits(database: Database) -> list[tuple[Any, str]]:
    """(until, why) for each CRM account whose new writes wait for its daily API allowance."""
    from callsync.crm.http.budget import waiting_budgets

    with database.session() as session:
        return [(row.blocked_until, row.blocked_reason or row.label) for row in waiting_budgets(session)]


@app.command()
def status(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of a table.")] = False,
) -> None:
    """Calls received, queued, confirmed; open dead letters, quarantined payloads and review items."""
    from callsync.pipeline.backlog import backlog_view

    with open_database(db) as database:
        counts = status_counts(database)
        budget_waits = crm_budget_waits(database)
        backlog = backlog_view(database)
    counts |= backlog.status_keys()  # the outage / backlog view (docs/runbook.md)
    if as_json:
        sys.stdout.write(json.dumps(counts) + "\n")
        return
    table = Table(title="callsync status")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        table.add_row(key.replace("_", " "), str(value))
    out.print(table)
    for until, reason in budget_waits:
        out.print(f"waiting until {until:%Y-%m-%d %H:%M:%S} UTC for {escape(reason)}")
    render_backlog(backlog)


def render_backlog(backlog: Any) -> None:
    if not backlog.queued:
        return
    out.print(
        f"backlog: {backlog.queued} call(s) queued, the oldest for {backlog.oldest_queued_s}s; "
        f"{backlog.running} syncing, {backlog.waiting_retry} waiting to retry "
        f"({backlog.waiting_outage} because the CRM is not answering), "
        f"{backlog.waiting_rate_limit} waiting out a rate limit"
    )
    if backlog.next_retry_s is not None:
        out.print(f"next retry in {backlog.next_retry_s}s; last error: {escape(backlog.last_error or '—')}")


@app.command()
def trace(
    crm: Annotated[str, typer.Option(help="CRM name, e.g. hubspot.")],
    record: Annotated[str, typer.Option(help="The CRM record id.")],
    field: Annotated[str, typer.Option(help="The CRM field (property) name.")],
    db: DbOption = None,
) -> None:
    """Print a field's history: each value, the call it came from and the exact sentence spoken."""
    from callsync.trust.trace import field_history

    with open_database(db) as database:
        entries = field_history(database, crm, record, field)
    if not entries:
        raise fail(f"callsync has no record of writing {crm} {record} {field}")
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
