"""Dashboard test helpers: users, a signed-in TestClient, the CSRF token of a page."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from callsync.config import TenantConfig
from callsync.services import users
from callsync.store.db import Database
from callsync.web.app import create_dashboard

PASSWORD = "correct horse battery"
SECRET = "test-secret-0123456789abcdef"


def add_user(db: Database, name: str, role: str, tenants: list[str]) -> users.User:
    return users.add(db, name, PASSWORD, role, tenants)


def client(db: Database, tenants: dict[str, TenantConfig] | None = None, **kw: Any) -> TestClient:
    return TestClient(
        create_dashboard(db, tenants or {}, secret=SECRET, **kw), base_url="http://127.0.0.1",
        follow_redirects=False,
    )  # fmt: skip


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(c: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = c.get("/login")
    return c.post("/login", data={"username": name, "password": password, "csrf": csrf_of(page.text)})


def signed_in(db: Database, name: str, tenants: dict[str, TenantConfig] | None = None) -> TestClient:
    c = client(db, tenants)
    answer = sign_in(c, name)
    assert answer.status_code == 303, answer.text
    return c


def token(c: TestClient, path: str = "/calls") -> str:
    return csrf_of(c.get(path).text)
