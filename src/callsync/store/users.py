"""Dashboard users: rows in `users` (hashing and the rules are services/users.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from callsync.store.db import Database
from callsync.store.tables import UserRow


class UserExists(ValueError):
    """A user of that name already exists."""


def add_user(db: Database, username: str, password_hash: str, role: str, tenants: list[str]) -> UserRow:
    try:
        with db.session() as session:
            row = UserRow(username=username, password_hash=password_hash, role=role, tenants=tenants)
            session.add(row)
            session.flush()
            return row
    except IntegrityError as exc:
        raise UserExists(username) from exc


def get_user(db: Database, username: str) -> UserRow | None:
    with db.session() as session:
        return session.scalars(select(UserRow).where(UserRow.username == username)).first()


def get_user_by_id(db: Database, user_id: int) -> UserRow | None:
    with db.session() as session:
        return session.get(UserRow, user_id)


def list_users(db: Database) -> list[UserRow]:
    with db.session() as session:
        return list(session.scalars(select(UserRow).order_by(UserRow.username)).all())


def set_password_hash(db: Database, username: str, password_hash: str) -> bool:
    with db.session() as session:
        row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            return False
        row.password_hash = password_hash
        return True


def remove_user(db: Database, username: str) -> bool:
    with db.session() as session:
        row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            return False
        session.delete(row)
        return True
