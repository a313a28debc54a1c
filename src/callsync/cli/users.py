"""`callsync users`: the dashboard's local users (add, list, remove, set a password)."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from callsync.cli.common import DbOption, app, fail, open_database, out
from callsync.services import users as service
from callsync.services.errors import ServiceError

users_app = typer.Typer(help="Dashboard users: add, list, remove, passwd.", no_args_is_help=True)
app.add_typer(users_app, name="users")

RoleChoice = Literal["viewer", "reviewer", "admin"]
NameArg = Annotated[str, typer.Argument(help="The name the user signs in with.")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise fail("the two passwords differ")
    return str(first)


@users_app.command()
def add(
    name: NameArg,
    role: Annotated[RoleChoice, typer.Option(help="viewer: sees; reviewer: also decides; admin: all.")],
    tenant: Annotated[
        list[str] | None,
        typer.Option("--tenant", help="A tenant the user may see (repeat). An admin with none sees all."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Add a user who can sign in to the dashboard."""
    password = _password(password_stdin)
    with open_database(db) as database:
        try:
            user = service.add(database, name, password, role, tenant or [])
        except ServiceError as exc:
            raise fail(str(exc)) from exc
    out.print(f"user {escape(user.username)} ({user.role}) added; tenants: {escape(', '.join(user.tenants))}")


@users_app.command("list")
def list_(db: DbOption = None) -> None:
    """List the dashboard's users (never their password hashes)."""
    with open_database(db, read_only=True) as database:
        found = service.list_(database)
    table = Table(title="users")
    for col in ("name", "role", "tenants"):
        table.add_column(col)
    for u in found:
        table.add_row(escape(u.username), u.role, escape(", ".join(u.tenants)))
    out.print(table)


@users_app.command()
def remove(name: NameArg, db: DbOption = None) -> None:
    """Remove a user; their sessions stop working at the next request."""
    with open_database(db) as database:
        try:
            service.remove(database, name)
        except ServiceError as exc:
            raise fail(str(exc)) from exc
    out.print(f"user {escape(name)} removed")


@users_app.command()
def passwd(
    name: NameArg,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Set a user's password."""
    password = _password(password_stdin)
    with open_database(db) as database:
        try:
            service.set_password(database, name, password)
        except ServiceError as exc:
            raise fail(str(exc)) from exc
    out.print(f"password of {escape(name)} changed")
