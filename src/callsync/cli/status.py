"""Commands that show state: status, trace."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from callsync.cli.common import DbOption, app, fail, open_database, out
from callsync.cli.render import plain, when
from callsync.services.errors import NotFound

# Row labels of the status table: what each number counts.
_LABELS = {
    "calls": "calls received",
    "queued": "calls queued for sync",
    "confirmed": "calls confirmed in the CRM",
    "delivered": "calls delivered (2xx from a target that cannot be read back: not confirmed)",
    "calls_in_review": "calls waiting in review",
    "closed": "calls closed by a person (nothing written)",
    "dead_letters": "dead letters open",
    "quarantined": "quarantined payloads open",
    "review": "review items open",
    "waiting_for_crm_budget": "queued calls waiting for a CRM allowance",
    "oldest_queued_s": "oldest queued call, seconds",
    "waiting_retry": "syncs waiting to retry",
    "waiting_rate_limit": "syncs waiting out a rate limit",
}


@app.command()
def status(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of a table.")] = False,
) -> None:
    """Calls received, queued, confirmed, in review, closed; open dead letters, quarantined payloads and review
    items; the backlog; whether a worker is moving the queue."""
    from callsync.services.status import status as get_status

    with open_database(db, read_only=True) as database:
        report = get_status(database)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
        return
    table = Table(title="callsync status")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in {**report.counts, **report.backlog.status_keys()}.items():
        table.add_row(_LABELS.get(key, key.replace("_", " ")), str(value))
    out.print(table)
    if report.delivery is not None:
        hop = report.delivery
        out.print(
            f"delivery hop, call end → 2xx, newest {hop.calls} delivered call(s): p50 {hop.p50_s:.2f}s, "
            f"p95 {hop.p95_s:.2f}s, max {hop.max_s:.2f}s (delivered: the receiver answered 2xx; it cannot be "
            "read back, so nothing there is confirmed)"
        )
    for wait in report.budget_waits:
        out.print(f"waiting until {wait.until:%Y-%m-%d %H:%M:%S} UTC for {escape(wait.reason)}")
    render_backlog(report.backlog, stalled=report.workers.verdict == "stalled")
    render_workers(report.workers)


def render_workers(workers: Any) -> None:
    verdict = workers.verdict
    if verdict == "idle":
        out.print("workers: nothing pending (whether a worker runs shows once work is queued)")
    elif verdict == "active":
        progress = (
            f"last progress {workers.last_progress_s}s ago" if workers.last_progress_s is not None else ""
        )
        asleep = f"{workers.asleep} waiting to retry" if workers.asleep else ""
        out.print("workers: alive (" + "; ".join(p for p in (progress, asleep) if p) + ")")
    else:
        out.print(
            f"[red]workers: none alive[/red]: {workers.pending} sync(s) pending and nothing moved for "
            f"{workers.last_progress_s}s; start `callsync worker` (or `callsync serve`)"
        )


def render_backlog(backlog: Any, *, stalled: bool = False) -> None:
    if not backlog.queued:
        return
    # Started syncs are only "syncing" while a worker runs them; otherwise they wait for one to resume them.
    running = (
        f"{backlog.running} started and waiting for a worker" if stalled else f"{backlog.running} syncing"
    )
    out.print(
        f"backlog: {backlog.queued} call(s) queued, the oldest for {backlog.oldest_queued_s}s; "
        f"{running}, {backlog.waiting_retry} waiting to retry "
        f"({backlog.waiting_outage} because the CRM is not answering), "
        f"{backlog.waiting_rate_limit} waiting out a rate limit"
    )
    if backlog.next_retry_s is not None:
        out.print(f"next retry in {backlog.next_retry_s}s; last error: {escape(backlog.last_error or '—')}")


@app.command()
def trace(
    crm: Annotated[str | None, typer.Option(help="CRM name, e.g. hubspot.")] = None,
    record: Annotated[str | None, typer.Option(help="The CRM record id.")] = None,
    field: Annotated[str | None, typer.Option(help="The CRM field (property) name.")] = None,
    call: Annotated[str | None, typer.Option("--call", help="A call id: the fields and actions it produced.")] = None,
    db: DbOption = None,
) -> None:
    """Print a field's history (--crm, --record, --field): each value, the call it came from and the exact
    sentence spoken, who approved it, and when it was sent, acknowledged and confirmed by read-back. Or, with
    --call, every field that call wrote and every workflow action it produced."""
    from callsync.services.trace import call_trace, field_trace

    if call is not None:
        from callsync.cli.actions import render_call_trace

        with open_database(db, read_only=True) as database:
            try:
                render_call_trace(call_trace(database, call))
            except NotFound as exc:
                raise fail(str(exc)) from exc
        return
    if not (crm and record and field):
        raise fail("give --crm, --record and --field (a field's history), or --call ID (what a call produced)")
    with open_database(db, read_only=True) as database:
        try:
            found = field_trace(database, crm, record, field)
        except NotFound as exc:
            raise fail(str(exc)) from exc
    render_field_trace(found)


def status_counts(database: Any) -> dict[str, int]:
    """The status counts (for `callsync demo`, which prints them on one line)."""
    from callsync.services.status import counts

    return counts(database)


def crm_budget_waits(database: Any) -> list[tuple[datetime, str]]:
    """(until, why) for each CRM account whose new writes wait for its daily API allowance."""
    from callsync.services.status import budget_waits

    return [(w.until, w.reason) for w in budget_waits(database)]


def render_trace(crm: str, record: str, field: str, entries: list[Any]) -> None:
    """A field's history as `callsync trace` prints it (entries from trust.trace.field_history)."""
    from callsync.services.trace import FieldTrace

    render_field_trace(FieldTrace(crm, record, field, tuple(entries)))


def _moment(at: datetime) -> str:
    return when(at)


_SOURCES = {
    "caller_id": "from the caller ID: the line the call came from, not something said",
    "platform": "a fact the voice platform reported about the call",
}


def _timeline(found: list[Any]) -> str:
    """`sent 2026-11-20 15:28:10, acknowledged 15:28:11, ...`: the date once, then times while it holds."""
    parts: list[str] = []
    day = None
    for m in found:
        stamp = when(m.at).removesuffix(" UTC")
        date, _, clock = stamp.partition(" ")
        parts.append(f"{m.what} {clock if date == day else stamp}")
        day = date
    return ", ".join(parts)


def render_field_trace(found: Any) -> None:
    from callsync.services.trace import moments

    entries = found.entries
    out.print(f"[bold]{escape(found.crm)} record {escape(found.record_id)} · field {escape(found.field)}[/bold] — "
              f"{len(entries)} write(s)")  # fmt: skip
    for n, e in enumerate(entries, start=1):
        conf = f"{e.confidence:.2f}" if e.confidence is not None else "—"
        out.print(
            f"  {n}. {escape(plain(e.old_value))} → [bold]{escape(plain(e.value))}[/bold]   call {escape(e.call_id)}, "
            f"policy {escape(e.policy or '—')} ({escape(e.decision)}), confidence {conf}"
        )
        if e.review is not None:
            by = e.review.reviewer or "a reviewer (name not recorded)"
            at = f" at {_moment(e.review.reviewed_at)}" if e.review.reviewed_at else ""
            item = f" (review item {e.review.item_id})" if e.review.item_id is not None else ""
            out.print(f"     approved by {escape(by)}{at}{item}")
        out.print(f"     {_timeline(moments(e))} UTC")
        if e.delivered_only:
            out.print("     delivered, not confirmed: the target answered 2xx but cannot be read back")
        request = f"request {escape(e.crm_request_id)}" if e.crm_request_id else "request id —"
        out.print(f"     {request}; {escape(e.integration_version)}")
        for q in e.quotes:
            said = (
                escape(q.sentence[: q.start])
                + "[reverse]"
                + escape(q.sentence[q.start : q.end])
                + "[/reverse]"
                + escape(q.sentence[q.end :])
            )
            out.print(f'     turn {q.turn} ({q.speaker}): "{said}"')
        for source in e.other_sources:
            out.print(f"     ({_SOURCES.get(source, 'from ' + source)})")
        if not e.quotes and not e.other_sources:
            out.print(
                "     (not from the transcript: the reviewer's own value)"
                if e.review is not None
                else "     (not from the transcript: a call fact or a mapping default)"
            )
