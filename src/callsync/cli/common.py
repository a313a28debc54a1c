"""Shared pieces of the `callsync` command: the app, consoles, common options, database opening."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from callsync.store.db import Database

app = typer.Typer(
    help="Turn every AI-handled phone call into a correct, traceable CRM record.",
    no_args_is_help=True,
    add_completion=False,
)
# Piped output (CI logs, `| less`) gets a wide fixed width instead of 80 columns of wrapped tables.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (sqlite:///path or postgresql://...). Default: $CALLSYNC_DB_URL, "
                 "then sqlite:///./callsync.db"),
]  # fmt: skip
TenantFileOption = Annotated[
    list[Path] | None,
    typer.Option("--tenant-file", help="Tenant configuration YAML (repeatable). Default: the built-in `demo` "
                 "tenant writing to the HubSpot sandbox at $CALLSYNC_HUBSPOT_URL (http://127.0.0.1:8765)."),
]  # fmt: skip
BatchWindowOption = Annotated[
    float,
    typer.Option("--batch-window", min=0.01, help="Seconds the queue gathers calls before starting them "
                 "together, so their CRM lookups and writes share batch requests: longer means fewer CRM "
                 "requests per call and that much more latency."),
]  # fmt: skip


@contextmanager
def open_database(url: str | None) -> Iterator[Database]:
    db = Database(url)
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)
