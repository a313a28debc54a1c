"""`callsync review`: the queue of values, conflicts and identities waiting for a person."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from callsync.cli.calls import checked_tenants
from callsync.cli.common import DbOption, TenantFileOption, app, fail, open_database, out
from callsync.store.db import Database

review_app = typer.Typer(
    help="Review queue: list, show, approve, correct, reject, sample.", no_args_is_help=True
)
app.add_typer(review_app, name="review")

ItemArg = Annotated[int, typer.Argument(help="Review item id (see `callsync review list`).")]


def _item(database: Database, item_id: int) -> Any:
    from callsync.store.review import get_item

    item = get_item(database, item_id)
    if item is None:
        raise fail(f"no review item {item_id}")
    if item.status != "open":
        raise fail(f"review item {item_id} is already {item.status}")
    return item


@review_app.command("list")
def list_(
    db: DbOption = None,
    status: Annotated[str, typer.Option(help="open, approved, corrected, rejected, or all.")] = "open",
    kind: Annotated[
        str | None, typer.Option(help="Only this kind (held_value, protected_field, ...).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
) -> None:
    """List review items (open ones by default)."""
    from callsync.store.review import list_items

    with open_database(db) as database:
        items = list_items(database, None if status == "all" else status, kind)
    if as_json:
        for i in items:
            sys.stdout.write(json.dumps(_as_dict(i), default=str) + "\n")
        return
    table = Table(title=f"review items ({status})")
    for col in ("id", "kind", "call", "record", "field", "proposed", "current", "reason"):
        table.add_column(col, overflow="fold")
    for i in items:
        table.add_row(str(i.id), i.kind, i.call_id, i.record_id or "", i.field or "",
                      _short(i.proposed_value), _short(i.current_value), i.reason)  # fmt: skip
    out.print(table)


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _as_dict(item: Any) -> dict[str, Any]:
    keys = ("id", "tenant", "call_id", "crm", "object_type", "record_id", "field", "kind", "reason",
            "proposed_value", "current_value", "detail", "status", "created_at", "decided_at")  # fmt: skip
    return {k: getattr(item, k) for k in keys}


@review_app.command()
def show(item_id: ItemArg, db: DbOption = None) -> None:
    """Everything about one item, including its decision once made."""
    from callsync.store.review import get_item

    with open_database(db) as database:
        item = get_item(database, item_id)
    if item is None:
        raise fail(f"no review item {item_id}")
    for key, value in _as_dict(item).items():
        out.print(
            f"[bold]{key}[/bold]: {json.dumps(value, default=str) if isinstance(value, dict | list) else value}"
        )


def _apply(db: str | None, tenant_file: Any, item_id: int, value: Any, decision: str) -> str:
    from callsync.pipeline.commands import WorkflowTimeout, apply_review_decision
    from callsync.store.review import attempts_made

    tenants = checked_tenants(tenant_file)
    with open_database(db) as database:
        item = _item(database, item_id)
        if item.tenant not in tenants:
            raise fail(f"item {item_id} belongs to tenant {item.tenant!r}: pass its --tenant-file")
        try:
            return apply_review_decision(
                database, tenants, item_id, f"review:{item.record_id or item.call_id}", value, decision,
                attempts_made(database, item_id),
            )  # fmt: skip
        except WorkflowTimeout as exc:
            raise fail(str(exc)) from exc


@review_app.command()
def approve(
    item_id: ItemArg,
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
    record: Annotated[
        str | None, typer.Option(help="For an identity conflict: the record the call belongs to.")
    ] = None,
) -> None:
    """Accept the proposal: write it to the CRM (it becomes human-verified), or resolve an identity."""
    with open_database(db) as database:
        item = _item(database, item_id)
        kind, proposed, candidates = item.kind, item.proposed_value, (item.detail or {}).get("candidates", [])
    if kind == "identity_conflict":
        _resolve_identity(db, tenant_file, item_id, record, candidates)
        return
    if kind == "possible_duplicate":
        _close(db, item_id, "approved", {"action": "approve", "note": "different people: keep both records"})
        return
    _report(_apply(db, tenant_file, item_id, proposed, "approve"), item_id)


@review_app.command()
def correct(
    item_id: ItemArg,
    value: Annotated[str, typer.Option(help="The right value, to write instead of the proposal.")],
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
) -> None:
    """Write the reviewer's own value instead of the proposal (it becomes human-verified)."""
    _report(_apply(db, tenant_file, item_id, value, "correct"), item_id)


@review_app.command()
def reject(
    item_id: ItemArg, db: DbOption = None, note: Annotated[str, typer.Option(help="Why.")] = ""
) -> None:
    """Drop the proposal: nothing is written; the decision is kept on the item."""
    _close(db, item_id, "rejected", {"action": "reject", "note": note})


def _close(db: str | None, item_id: int, status: str, decision: dict[str, Any]) -> None:
    from callsync.store.review import decide

    with open_database(db) as database:
        _item(database, item_id)
        decide(database, item_id, status, decision)
    out.print(f"review item {item_id}: {status}")


def _report(result: str, item_id: int) -> None:
    if result in ("approved", "corrected"):
        out.print(
            f"review item {item_id}: {result}; written, confirmed by read-back and recorded in the ledger"
        )
        return
    raise fail(f"review item {item_id} stays open: {result}")


def _resolve_identity(
    db: str | None, tenant_file: Any, item_id: int, record: str | None, candidates: list[str]
) -> None:
    from callsync.pipeline.commands import WorkflowTimeout, sync_to_record
    from callsync.store.review import decide

    if record not in candidates:
        raise fail(f"choose the record with --record, one of: {', '.join(candidates)}")
    tenants = checked_tenants(tenant_file)
    with open_database(db) as database:
        item = _item(database, item_id)
        try:
            state = sync_to_record(database, tenants, item.tenant, item.call_id, item_id, record)
        except WorkflowTimeout as exc:
            raise fail(str(exc)) from exc
        if state != "confirmed":
            raise fail(f"the call's sync against record {record} ended as {state}; item {item_id} stays open")
        decide(database, item_id, "approved", {"action": "approve", "record": record})
    out.print(f"review item {item_id}: call {item.call_id} synced to record {record}")


@review_app.command()
def sample(
    db: DbOption = None,
    days: Annotated[int, typer.Option(help="Look back this many days.")] = 7,
    n: Annotated[int, typer.Option(help="How many writes to draw.")] = 20,
    seed: Annotated[int | None, typer.Option(help="Fix the draw (to share it).")] = None,
) -> None:
    """Draw a random sample of recent accepted writes for the weekly human spot-check."""
    from callsync.store.review import sample_writes

    with open_database(db) as database:
        rows = sample_writes(database, days, n, seed)
    table = Table(title=f"spot-check: {len(rows)} random write(s) from the last {days} day(s)")
    for col in ("crm", "record", "field", "value", "call", "confidence", "trace"):
        table.add_column(col, overflow="fold")
    for r in rows:
        conf = f"{r.confidence:.2f}" if r.confidence is not None else "—"
        table.add_row(r.crm, r.record_id, r.field, _short(r.new_value), r.call_id, conf,
                      f"callsync trace --crm {r.crm} --record {r.record_id} --field {r.field}")  # fmt: skip
    out.print(table)
