"""`callsync plan --mapping NEW --since 7d`: a mapping change previewed over the calls already synced."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from callsync.cli.calls import tenants_from_files
from callsync.cli.common import fail, open_database, out
from callsync.cli.render import plain
from callsync.errors import InputError


def preview(
    mapping: Path, since: str, db: str | None, tenant_files: list[Path] | None, as_json: bool
) -> None:
    """Print what `mapping` would write differently from each tenant's current mapping; exit 0 (a preview
    is information, not a verdict)."""
    from callsync.config import check_mapping_crm
    from callsync.services.mapping_preview import preview_mapping
    from callsync.services.reconcile import parse_since
    from callsync.structure.mapping import load_mapping

    try:
        moment = parse_since(since)
        new = load_mapping(mapping)
        check_mapping_crm(new, str(mapping))
    except (ValueError, InputError) as exc:
        raise fail(str(exc), 2) from exc
    try:  # the preview reads no CRM: the tenants' tokens are not needed, their mappings are
        tenants = {n: t for n, t in tenants_from_files(tenant_files).items() if t.crm.kind == new.crm}
        for t in tenants.values():
            t.load_mapping()
    except InputError as exc:
        raise fail(str(exc)) from exc
    if not tenants:
        raise fail(f"no tenant writes to {new.crm}: give the tenant's file with --tenant-file", 2)
    with open_database(db, read_only=True) as database:
        for tenant in tenants.values():
            result = preview_mapping(database, tenant, new, moment)
            if as_json:
                sys.stdout.write(json.dumps(result.to_json(), default=str) + "\n")
            else:
                _render(result)


_KINDS = {
    "added": "newly written",
    "removed": "no longer written",
    "value": "different value",
    "policy": "different policy",
    "held": "now held for review",
    "object": "record created or not",
    "action": "workflow action",
}


def _render(result: Any) -> None:
    out.print(
        f"[bold]mapping change preview[/bold] · tenant {result.tenant} · {result.calls} call(s) synced since "
        f"{result.since:%Y-%m-%d %H:%M} · {result.current_version} → {result.new_version}"
    )
    if not result.changes:
        out.print("[green]the new mapping writes exactly what the current one wrote for these calls[/green]")
        return
    table = Table(title=f"{result.changed_calls} call(s) would be written differently", title_justify="left")
    for column in ("call", "CRM field", "change", "current mapping", "new mapping"):
        table.add_column(column, overflow="fold")
    for c in result.changes:
        where = (
            f"{c.crm_object}.{c.field}" if c.crm_object and c.field else (c.crm_object or f"rule {c.field}")
        )
        table.add_row(
            escape(c.call_id), escape(where), _KINDS[c.kind], escape(plain(c.before)), escape(plain(c.after))
        )
    out.print(table)
    if result.limited:
        out.print("[yellow]only the newest 5000 calls of the window were compared[/yellow]")


__all__ = ["preview"]
