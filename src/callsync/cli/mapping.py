"""`callsync mapping doc`: the written field-mapping document of a tenant's mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callsync.cli.common import app, fail, out
from callsync.cli.schema import TenantOption, load_checked_tenant
from callsync.structure.mapping_doc import DocFormat

mapping_app = typer.Typer(help="The mapping document, written out for people.", no_args_is_help=True)
app.add_typer(mapping_app, name="mapping")


@mapping_app.command("doc")
def doc(
    tenant: TenantOption,
    fmt: Annotated[DocFormat, typer.Option("--format", help="Markdown or a standalone HTML page.")] = "md",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write it to this file (default: print).")
    ] = None,
) -> None:
    """Print the field-mapping document: for every spoken thing its CRM object and field, type and
    coercion, required-field handling, conflict policy in one sentence and source of truth; the objects,
    their lookups, links and stamps; the workflow actions; the integration version ledger rows carry."""
    import sys

    from callsync.structure.mapping_doc import render

    config = load_checked_tenant(tenant, token=False)
    text = render(config.load_mapping(), fmt, title=f"Field mapping: {config.name} → {config.crm.kind}")
    if out_file is None:
        sys.stdout.write(text)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"{out_file}: cannot write: {exc.strerror}") from exc
    out.print(f"wrote {out_file}")
