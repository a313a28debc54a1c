"""`callsync review`: the queue of values, conflicts and identities waiting for a person."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Literal

import typer
from rich.markup import escape
from rich.table import Table

from callsync.cli.calls import checked_tenants
from callsync.cli.common import DbOption, TenantFileOption, app, fail, open_database, out
from callsync.cli.render import plain, when
from callsync.services import review as service
from callsync.services.errors import ServiceError

review_app = typer.Typer(
    help="Review queue: list, show, approve, correct, reject, resolve, sample.", no_args_is_help=True
)
app.add_typer(review_app, name="review")

ItemArg = Annotated[int, typer.Argument(min=1, help="Review item id (see `callsync review list`).")]

# The choices typer checks at parse time (tests/cli keep them equal to store.review's STATUSES and KINDS).
StatusChoice = Literal["open", "approved", "corrected", "rejected", "resolved", "all"]
KindChoice = Literal[
    "held_value", "protected_field", "identity_conflict", "possible_duplicate", "no_identity",
    "missing_required", "waiting_object", "unlinked", "ambiguous_match", "action",
]  # fmt: skip


@review_app.command("list")
def list_(
    db: DbOption = None,
    status: Annotated[
        StatusChoice, typer.Option(help="Only items in this state; all: every state.")
    ] = "open",
    kind: Annotated[KindChoice | None, typer.Option(help="Only this kind.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
) -> None:
    """List review items (open ones by default)."""
    with open_database(db, read_only=True) as database:
        items = service.list_items(database, None if status == "all" else status, kind)
    if as_json:
        for i in items:
            sys.stdout.write(json.dumps(i.to_json(), default=str) + "\n")
        return
    table = Table(title=f"review items ({status})")
    for col in ("id", "kind", "call", "record", "field", "proposed", "current", "reason"):
        table.add_column(col, overflow="fold")
    for i in items:
        table.add_row(str(i.id), i.kind, escape(i.call_id), escape(i.record_id or "—"), escape(i.field or "—"),
                      escape(plain(i.proposed_value, 40)), escape(plain(i.current_value, 40)), escape(i.reason))  # fmt: skip
    out.print(table)


@review_app.command()
def show(item_id: ItemArg, db: DbOption = None) -> None:
    """Everything about one item, including its decision once made."""
    with open_database(db, read_only=True) as database:
        item = _get(lambda: service.get_item(database, item_id))
    for key, value in item.to_json().items():
        if key == "detail":
            continue
        shown = when(getattr(item, key)) if key in ("created_at", "decided_at") else plain(value)
        out.print(f"[bold]{key}[/bold]: {escape(shown)}")
    for key, value in item.detail.items():
        if key == "decision" and isinstance(value, dict):
            out.print(f"[bold]decision[/bold]: {escape(plain(value))}")
        else:
            out.print(f"[bold]{escape(key)}[/bold]: {escape(plain(value))}")


def _get(fetch: Any) -> Any:
    try:
        return fetch()
    except ServiceError as exc:
        raise fail(str(exc)) from exc


def _said(decision: service.Decision) -> str:
    after = f"; the call is {decision.call_state}" if decision.call_state else ""
    return after


@review_app.command()
def approve(
    item_id: ItemArg,
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
    record: Annotated[
        str | None, typer.Option(help="For an identity question: the record the call belongs to.")
    ] = None,
) -> None:
    """Accept the proposal: write it to the CRM (it becomes human-verified), or answer an identity question
    with --record (the same as `review resolve`)."""
    with open_database(db) as database:
        item = _get(lambda: service.get_item(database, item_id))
        tenants = checked_tenants(tenant_file) if item.kind != "possible_duplicate" else {}
        decision = _get(
            lambda: service.approve(
                database, tenants, item_id, reviewer=service.current_user(), record=record
            )
        )
    _report(decision)


@review_app.command()
def correct(
    item_id: ItemArg,
    value: Annotated[str, typer.Option(help="The right value, to write instead of the proposal.")],
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
) -> None:
    """Write the reviewer's own value instead of the proposal (it becomes human-verified)."""
    with open_database(db) as database:
        _get(lambda: service.get_item(database, item_id))
        tenants = checked_tenants(tenant_file)
        decision = _get(
            lambda: service.correct(database, tenants, item_id, value, reviewer=service.current_user())
        )
    _report(decision)


@review_app.command()
def reject(
    item_id: ItemArg, db: DbOption = None, note: Annotated[str, typer.Option(help="Why.")] = ""
) -> None:
    """Drop the proposal: nothing is written; the decision (who, why) is kept on the item. A call waiting in
    review whose last open item this was is closed."""
    with open_database(db) as database:
        decision = _get(lambda: service.reject(database, item_id, reviewer=service.current_user(), note=note))
    out.print(f"review item {item_id}: rejected{_said(decision)}")


@review_app.command()
def resolve(
    item_id: ItemArg,
    record: Annotated[str | None, typer.Option(help="The CRM record the call belongs to.")] = None,
    email: Annotated[
        str | None,
        typer.Option(help="no_identity: the caller's email, matched and written like the call's own."),
    ] = None,
    phone: Annotated[
        str | None,
        typer.Option(help="no_identity: the caller's phone, matched and written like the call's own."),
    ] = None,
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
) -> None:
    """Answer an identity question (identity_conflict, no_identity, missing_required) by naming the CRM
    record the call belongs to (--record), or, for a call with nothing to match on, by giving the caller's
    --email and/or --phone: the call is synced again with that answer."""
    if not (record or email or phone):
        raise fail("give --record, or --email and/or --phone", code=2)
    with open_database(db) as database:
        _get(lambda: service.get_item(database, item_id))
        tenants = checked_tenants(tenant_file)
        decision = _get(
            lambda: service.resolve(
                database,
                tenants,
                item_id,
                reviewer=service.current_user(),
                record=record,
                email=email,
                phone=phone,
            )
        )
    _report(decision)


def _report(decision: service.Decision) -> None:
    if decision.status in ("approved", "corrected") and decision.record_id is None:
        out.print(
            f"review item {decision.item_id}: {decision.status}; written, confirmed by read-back and recorded "
            "in the ledger"
        )
    elif decision.record_id is not None and decision.status != "corrected":
        out.print(f"review item {decision.item_id}: {decision.status}; call {escape(decision.call_id)} synced to "
                  f"record {escape(decision.record_id)}{_said(decision)}")  # fmt: skip
    else:
        out.print(f"review item {decision.item_id}: {decision.status}{_said(decision)}")


@review_app.command()
def sample(
    db: DbOption = None,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Look back this many days.")] = 7,
    n: Annotated[int, typer.Option("--n", "-n", min=1, max=10_000, help="How many writes to draw.")] = 20,
    seed: Annotated[int | None, typer.Option(help="Fix the draw (to share it).")] = None,
) -> None:
    """Draw a random sample of recent accepted writes for the weekly human spot-check."""
    with open_database(db, read_only=True) as database:
        rows = service.sample(database, days, n, seed)
    table = Table(title=f"spot-check: {len(rows)} random write(s) from the last {days} day(s)")
    for col in ("crm", "record", "field", "value", "call", "confidence", "trace"):
        table.add_column(col, overflow="fold")
    for r in rows:
        conf = f"{r.confidence:.2f}" if r.confidence is not None else "—"
        table.add_row(r.crm, r.record_id, r.field, escape(plain(r.value, 40)), r.call_id, conf,
                      f"callsync trace --crm {r.crm} --record {r.record_id} --field {r.field}")  # fmt: skip
    out.print(table)
