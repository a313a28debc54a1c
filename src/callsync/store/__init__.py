"""Storage: SQLAlchemy tables, Alembic migrations and the queries the stages run (SQLite and PostgreSQL)."""
