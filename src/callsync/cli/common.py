"""Shared pieces of the `callsync` command: the app, consoles, common options, database opening, and the
one place where an error becomes one line for the user (a traceback only with `--debug`)."""

from __future__ import annotations

import os
import sys
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer import _click as click
from typer.core import TyperGroup

from callsync.store.db import ConnectionBudget, Database, DatabaseURLError

DEBUG_ENV = "CALLSYNC_DEBUG"
_DEBUG_KEY = "callsync.debug"


_TYPE_NAMES = {str: "TEXT", int: "INTEGER", float: "FLOAT", Path: "PATH"}


def _plain_type(param: Any) -> str | None:
    """The type column of `--help` as plain help shows it: nothing for a flag, the choices of a choice, else
    TEXT / INTEGER / FLOAT / PATH. (typer 0.29 prints its own `<bool>`, `<str>` for every parameter.)"""
    if getattr(param, "is_flag", False):
        return None
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return None
    if desc.is_choice and desc.choices:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices) + "]"
    annotation = desc.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is list and args:
        return _TYPE_NAMES.get(args[0], "TEXT") + "..."
    if args:
        annotation = args[0]
    return _TYPE_NAMES.get(annotation, "TEXT")


def _plain_help(command: Any) -> None:
    for param in command.params:
        # an instance attribute shadows typer's method for this one parameter
        param.display_type_rich = lambda ctx=None, p=param: _plain_type(p)
    help_option = command.get_help_option

    def plain_help_option(ctx: Any, _made: Any = help_option) -> Any:
        option = _made(ctx)
        if option is not None:
            option.display_type_rich = lambda ctx=None: None
        return option

    command.get_help_option = plain_help_option
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


class CallsyncGroup(TyperGroup):
    """The top-level command group. An exception no command handled becomes `error: ...` and exit 1 (a
    bad --db: exit 2); `callsync --debug ...` (or CALLSYNC_DEBUG=1) lets the traceback through."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_help(self)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except DatabaseURLError as exc:
            if _debugging(ctx):
                raise
            err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from exc
        except Exception as exc:
            if _debugging(ctx):
                raise
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            err.print(
                f"[red]error:[/red] {escape(type(exc).__name__)}"
                + (f": {escape(message)}" if message else "")
            )
            err.print("run with --debug for details")
            raise typer.Exit(1) from exc


def _debugging(ctx: click.Context) -> bool:
    return bool(ctx.meta.get(_DEBUG_KEY)) or os.environ.get(DEBUG_ENV, "") not in ("", "0")


app = typer.Typer(
    cls=CallsyncGroup,
    help="Turn every AI-handled phone call into a correct, traceable CRM record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option("--debug", help=f"Show the full traceback of an unexpected error (or ${DEBUG_ENV}=1)."),
    ] = False,
) -> None:
    ctx.meta[_DEBUG_KEY] = debug


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
    typer.Option("--batch-window", min=0.01, max=60.0, help="Seconds the queue gathers calls before starting "
                 "them together, so their CRM lookups and writes share batch requests: longer means fewer CRM "
                 "requests per call and that much more latency."),
]  # fmt: skip
DbConnectionsOption = Annotated[
    int | None,
    typer.Option("--db-connections", min=8, max=10_000, help="PostgreSQL connections this process may hold "
                 "(callsync's pool and the queue's together; default $CALLSYNC_DB_CONNECTIONS, then 48). A "
                 "worker refuses to start when the server cannot give it that many (docs/scaling.md)."),
]  # fmt: skip
ConcurrencyOption = Annotated[
    int | None,
    typer.Option(min=1, max=1000, help="Calls synced at once (one at a time per caller); default 32 on SQLite, "
                 "128 on PostgreSQL, where a sync in flight holds no connection of its own."),
]  # fmt: skip
TimeoutOption = Annotated[float, typer.Option(min=0.1, help="Give up waiting after this many seconds.")]


@contextmanager
def open_database(
    url: str | None, *, read_only: bool = False, connections: int | None = None
) -> Iterator[Database]:
    """The database of `--db`, reachable and at the latest schema. `read_only` commands (status, trace,
    list/show) refuse a SQLite file that does not exist instead of creating an empty one. A bad URL or a
    server that does not answer raises DatabaseURLError (one line, exit 2)."""
    db = Database(url, create=not read_only, connections=ConnectionBudget.from_env(connections))
    try:
        db.check_connection()
        db.migrate()
        yield db
    finally:
        db.dispose()


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)  # one line, however long
    return typer.Exit(code)
