"""`callsync migrate` and `callsync version`."""

from __future__ import annotations

from callsync import __version__
from callsync.cli.common import DbOption, app, open_database, out


@app.command()
def migrate(db: DbOption = None) -> None:
    """Create or upgrade the database schema (every other command also does this on start)."""
    from callsync.pipeline.queue import ensure_queue_tables

    with open_database(db) as database:
        ensure_queue_tables(database)
        out.print(f"database {database.url} is at the latest schema")


@app.command()
def version() -> None:
    """Print callsync's version."""
    out.print(__version__)
