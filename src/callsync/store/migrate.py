"""Apply callsync's Alembic migrations and DBOS's system-table migrations to one database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from callsync.store.db import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = db.engine
    return cfg


def upgrade(db: Database) -> None:
    from dbos import run_dbos_database_migrations

    command.upgrade(alembic_config(db), "head")
    run_dbos_database_migrations(system_database_url=db.dbos_url)
