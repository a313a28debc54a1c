"""Dashboard users: add, list, remove, change a password, and sign in (argon2id through argon2-cffi).

Roles: `viewer` (sees), `reviewer` (sees, and decides review items, replays dead letters, retries
quarantined payloads), `admin` (all of that). Each user is limited to named tenants; only an admin may be
given every tenant (`*`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from callsync.services.errors import NotFound, ServiceError
from callsync.store import users as store
from callsync.store.db import Database
from callsync.store.tables import UserRow

ROLES = ("viewer", "reviewer", "admin")
ALL_TENANTS = "*"
MIN_PASSWORD = 12
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
_hasher = PasswordHasher()
# Verified when the username does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("callsync: no such user")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    tenants: tuple[str, ...]

    @property
    def all_tenants(self) -> bool:
        return ALL_TENANTS in self.tenants

    def can_see(self, tenant: str | None) -> bool:
        """Whether this user may see (or, with the role, change) something of `tenant`. A thing with no
        tenant (a quarantined payload that could not be routed) is seen by all-tenant users only."""
        return self.all_tenants or (tenant is not None and tenant in self.tenants)

    @property
    def can_decide(self) -> bool:
        return self.role in ("reviewer", "admin")


def _view(row: UserRow) -> User:
    return User(row.id, row.username, row.role, tuple(str(t) for t in row.tenants))


def add(db: Database, username: str, password: str, role: str, tenants: list[str]) -> User:
    """Raises ServiceError for a bad name, role, tenant list, short password or a taken name."""
    if not _NAME.match(username):
        raise ServiceError("a username is 1-100 letters, digits or . _ @ -")
    if role not in ROLES:
        raise ServiceError(f"no role {role!r}; one of: {', '.join(ROLES)}")
    chosen = sorted({t.strip() for t in tenants if t.strip()})
    if not chosen:
        if role != "admin":
            raise ServiceError("name the tenants this user may see with --tenant (only an admin sees all)")
        chosen = [ALL_TENANTS]
    if ALL_TENANTS in chosen and (role != "admin" or len(chosen) > 1):
        raise ServiceError("only an admin may be given every tenant ('*'), and then no other")
    _check_password(password)
    try:
        return _view(store.add_user(db, username, _hasher.hash(password), role, chosen))
    except store.UserExists as exc:
        raise ServiceError(f"a user named {username!r} already exists") from exc


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ServiceError(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise ServiceError("a password has at most 1024 characters")


def list_(db: Database) -> list[User]:
    return [_view(r) for r in store.list_users(db)]


def get(db: Database, user_id: int) -> User | None:
    """The user of a session, or None when it was removed or disabled since."""
    row = store.get_user_by_id(db, user_id)
    return None if row is None or row.disabled_at is not None else _view(row)


def remove(db: Database, username: str) -> None:
    if not store.remove_user(db, username):
        raise NotFound(f"no user {username!r}")


def set_password(db: Database, username: str, password: str) -> None:
    _check_password(password)
    if not store.set_password_hash(db, username, _hasher.hash(password)):
        raise NotFound(f"no user {username!r}")


def authenticate(db: Database, username: str, password: str) -> User | None:
    """The user when the password is right; None otherwise (the same time either way)."""
    if len(username) > 100 or len(password) > 1024:
        return None
    row = store.get_user(db, username)
    try:
        _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        store.set_password_hash(db, username, _hasher.hash(password))
    return _view(row)
