"""`callsync plan FILE`: what a call would create and link, computed without writing anything."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from callsync.cli.common import DbOption, TenantFileOption, app, err, fail, out
from callsync.cli.render import plain
from callsync.config import EXAMPLES_DIR
from callsync.errors import InputError


@app.command()
def plan(
    file: Annotated[
        Path | None, typer.Argument(help="Generic call JSON (one object, a JSON list, or JSON Lines).")
    ] = None,
    mapping: Annotated[Path, typer.Option(help="Mapping document.")] = EXAMPLES_DIR / "hubspot.yaml",
    region: Annotated[str, typer.Option(help="Default country for phone numbers.")] = "US",
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per call instead of text.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            help="Preview --mapping over the calls synced since then (7d, ISO date): what it would write "
            "differently from the tenant's current mapping, field by field (no FILE)."
        ),
    ] = None,
    db: DbOption = None,
    tenant_file: TenantFileOption = None,
) -> None:
    """Print, for each call, the records it would create or update, their fields and policies, the links
    between them, the workflow actions it would trigger, and what would wait in review — without touching
    a CRM or the database."""
    from rich.markup import escape

    from callsync.actions.plan import describe, plan_actions
    from callsync.capture.extract import extract_call
    from callsync.capture.platforms.generic import parse_generic_call
    from callsync.capture.reader import read_call_file
    from callsync.cli.actions import render_planned
    from callsync.config import check_mapping_crm
    from callsync.structure.mapping import load_mapping
    from callsync.structure.plan import plan_call

    if since is not None:
        from callsync.cli.preview import preview

        return preview(mapping, since, db, tenant_file, as_json)
    if file is None:
        raise fail("give a call FILE, or --mapping NEW --since 7d to preview a mapping change", 2)
    try:
        doc = load_mapping(mapping)
        check_mapping_crm(doc, str(mapping))
    except InputError as exc:
        raise fail(str(exc)) from exc
    failures = 0
    for raw in read_call_file(file).items:
        try:
            if raw.error:
                raise raw.error
            call = parse_generic_call(raw.payload, source=raw.source, line=raw.line)
        except InputError as exc:
            failures += 1
            err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            continue
        extraction = extract_call(call, default_region=region)
        result = plan_call(doc, call, extraction, region).to_json()
        called_at = call.ended_at or call.started_at or datetime.now(UTC)
        planned = plan_actions(extraction, doc.model.actions, called_at=called_at)
        result["actions"] = [describe(a) for a in planned]
        if as_json:
            sys.stdout.write(json.dumps(result) + "\n")
            continue
        out.print(f"[bold]call {escape(call.call_id)}[/bold]")
        for name, obj in result["objects"].items():
            out.print(f"  {name} → {obj['crm_object']}  (match on {escape(plain(obj['match']))})")
            for field, v in obj["fields"].items():
                note = f"[{v['policy']}, from {v['from']}, confidence {v['confidence']:.2f}]"
                out.print(f"    {field} = {escape(plain(v['value']))}  {escape(note)}")
            for field, value in obj["defaults"].items():
                out.print(f"    {field} = {escape(plain(value))}  {escape('[default for a required field]')}")
            for held in obj["held"]:
                out.print(
                    f"    {held['field']}: held for review ({held['reason']}): {escape(plain(held['value']))}"
                )
        for a, b in result["links"]:
            out.print(f"  link {a} ↔ {b}")
        for w in result["waiting"]:
            out.print(f"  [yellow]waits in review[/yellow]: {w['object']} — {escape(w['reason'])}")
        for name, why in result["skipped"].items():
            out.print(f"  not created: {name} — {escape(why)}")
        render_planned(result["actions"])
    if failures:
        raise typer.Exit(1)
