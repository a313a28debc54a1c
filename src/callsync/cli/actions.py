"""`callsync actions explain`: the workflow action rules of a mapping, one sentence each (docs/actions.md);
and how `callsync trace --call` and `callsync plan` print a call's actions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from callsync.cli.common import app, fail, out
from callsync.cli.render import plain

actions_app = typer.Typer(
    help="Workflow actions: what a call decided, done in the CRM.", no_args_is_help=True
)
app.add_typer(actions_app, name="actions")


@actions_app.command("explain")
def explain(
    mapping: Annotated[Path, typer.Option(help="Mapping document with an `actions:` block.")],
) -> None:
    """Print one sentence per action rule of the mapping: when it fires, what it does in the CRM, for whom,
    and what holds it back. Refuses (file:line) a rule the mapping's CRM cannot do."""
    from callsync.actions.rules import explain_rule
    from callsync.config import check_mapping_crm
    from callsync.errors import InputError
    from callsync.structure.mapping import load_mapping

    try:
        doc = load_mapping(mapping)
        check_mapping_crm(doc, str(mapping))
    except InputError as exc:
        raise fail(str(exc)) from exc
    block = doc.model.actions
    if not block.rules:
        out.print(f"{escape(str(mapping))} declares no action rules: calls update records only.")
        return
    for rule in block.rules:
        out.print(escape(explain_rule(block, rule)), soft_wrap=True)


def render_planned(actions: list[dict[str, Any]]) -> None:
    """`callsync plan`'s lines for the actions a call would trigger."""
    for a in actions:
        state = "[yellow]waits for review[/yellow]" if a["state"] == "review" else "would run"
        extra = ", ".join(
            f"{k} {plain(a[k])}" for k in ("at", "owner", "priority", "queue", "stage") if k in a
        )
        out.print(f"  action {escape(a['rule'])}: {escape(a['action'])} {escape(repr(a['title']))}"
                  f"{' (' + escape(extra) + ')' if extra else ''} — {state}")  # fmt: skip
        if a.get("question"):
            out.print(f"    asks: {escape(a['question'])}")


def render_call_trace(found: Any) -> None:
    """`callsync trace --call ID`: the fields a call wrote and the actions it produced."""
    out.print(f"[bold]call {escape(found.call_id)}[/bold] — {len(found.writes)} field write(s), "
              f"{len(found.actions)} action(s)")  # fmt: skip
    for w in found.writes:
        state = "confirmed" if w.confirmed_at else "not confirmed"
        out.print(f"  {escape(w.crm)} {escape(w.object_type)} {escape(w.record_id)} · {escape(w.field)} = "
                  f"{escape(plain(w.value))}  [{escape(w.policy)}, {state}]")  # fmt: skip
    for a in found.actions:
        where = f" → {a.object_type} {a.record_id}" if a.record_id else ""
        result = f" ({a.result})" if a.result else ""
        out.print(f"  action {escape(a.rule)}: {escape(a.action)} {escape(repr(a.title))} — "
                  f"{escape(a.status)}{escape(result)}{escape(where)}")  # fmt: skip
        if a.detail:
            out.print(f"    {escape(a.detail)}")
        if a.status == "review" and a.question:
            out.print(f"    waits for a person (review item {a.review_item_id}): {escape(a.question)}")
        if a.reviewer:
            out.print(f"    decided by {escape(a.reviewer)} (review item {a.review_item_id})")
        if a.error:
            out.print(f"    [red]error[/red]: {escape(a.error)}")


def render_action_summary(database: Any) -> None:
    """One line per action type a run produced (`callsync demo`): how many, and how they ended."""
    from collections import Counter

    from sqlalchemy import select

    from callsync.store.tables import ActionRunRow

    with database.session() as session:
        rows = session.execute(select(ActionRunRow.action, ActionRunRow.status, ActionRunRow.result)).all()
    if not rows:
        return
    out.print(f"\nworkflow actions: {len(rows)} (callsync trace --call ID shows a call's)")
    by_action: dict[str, Counter[str]] = {}
    for action, status, result in rows:
        by_action.setdefault(action, Counter())[result if status == "confirmed" and result else status] += 1
    for action, ends in sorted(by_action.items()):
        out.print(
            f"  {escape(action)}: " + ", ".join(f"{n} {escape(end)}" for end, n in sorted(ends.items()))
        )
