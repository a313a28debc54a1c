"""Alembic environment: the engine is handed in by callsync.store.migrate (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from callsync.store.tables import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
