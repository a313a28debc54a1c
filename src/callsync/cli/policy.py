"""`callsync policy explain`: who wins on each mapped field, one sentence per field."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from callsync.cli.common import app, fail, out
from callsync.errors import ConfigError

policy_app = typer.Typer(help="Conflict policies declared in mapping documents.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@policy_app.command("explain")
def explain(
    mapping: Annotated[Path, typer.Option("--mapping", help="The mapping document (YAML).")],
    field: Annotated[str | None, typer.Option(help="Only this CRM field or canonical field.")] = None,
) -> None:
    """Print, for every mapped field, the one-sentence rule of who wins."""
    from callsync.config import check_mapping_crm
    from callsync.structure.explain import explain_mapping, explain_required
    from callsync.structure.mapping import load_mapping

    try:
        doc = load_mapping(mapping)
        check_mapping_crm(doc, str(mapping))
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    rules = [r for r in explain_mapping(doc) if field in (None, r.crm_field, r.source)]
    if not rules:
        raise fail(f"{mapping} maps no field named {field!r}")
    table = Table(title=f"Who wins — {mapping} ({doc.crm})", show_lines=True)
    for col in ("CRM field", "from call", "policy", "rule"):
        table.add_column(col, overflow="fold")
    for r in rules:
        table.add_row(f"{r.crm_object}.{r.crm_field}", r.source, r.policy, r.sentence)
    out.print(table)
    for line in explain_required(doc):
        out.print(line)
