"""Sign-in, sessions, CSRF, security headers, login rate limit, roles."""

from __future__ import annotations

import pytest

from callsync.services import users
from callsync.services.errors import ServiceError
from callsync.store.db import Database
from callsync.web.security import SESSION_COOKIE, LoginLimiter, Signer
from tests.web.helpers import PASSWORD, add_user, client, csrf_of, sign_in, signed_in, token


def test_nothing_is_seen_without_signing_in(sqlite_db: Database) -> None:
    c = client(sqlite_db)
    for path in ("/", "/review", "/calls", "/calls/t1/c-1", "/records/hubspot/1", "/dead-letters", "/quarantine"):
        answer = c.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=")
    assert c.post("/review/1/reject", data={"csrf": "x"}).status_code == 401


def test_sign_in_sets_a_hardened_cookie_and_shows_the_user(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ana", "viewer", ["t1"])
    c = client(sqlite_db)
    answer = sign_in(c, "ana")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # localhost
    page = c.get("/")
    assert page.status_code == 200 and "ana" in page.text


def test_cookie_is_secure_outside_localhost(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ana", "viewer", ["t1"])
    c = client(sqlite_db)
    c.base_url = "https://dash.example.com"  # type: ignore[assignment]
    answer = sign_in(c, "ana")
    assert "Secure" in answer.headers["set-cookie"]


def test_wrong_password_and_unknown_user_are_the_same_answer(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ana", "viewer", ["t1"])
    c = client(sqlite_db)
    wrong = sign_in(c, "ana", "not the password")
    nobody = sign_in(c, "bob", PASSWORD)
    assert wrong.status_code == nobody.status_code == 401
    assert "wrong username or password" in wrong.text and SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


def test_sign_in_is_rate_limited(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ana", "viewer", ["t1"])
    c = client(sqlite_db, login_limiter=LoginLimiter(attempts=3, window_s=60))
    for _ in range(3):
        assert sign_in(c, "ana", "wrong password!").status_code == 401
    blocked = sign_in(c, "ana")  # even the right password waits
    assert blocked.status_code == 429 and "too many" in blocked.text


def test_login_form_without_its_token_is_refused(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ana", "viewer", ["t1"])
    c = client(sqlite_db)
    c.get("/login")
    answer = c.post("/login", data={"username": "ana", "password": PASSWORD, "csrf": "forged"})
    assert answer.status_code == 403 and SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_tampered_or_foreign_session_cookie_is_signed_out(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ana", "admin", [])
    c = signed_in(sqlite_db, "ana")
    good = c.cookies[SESSION_COOKIE]
    uid, exp, nonce, mac = good.split(".")
    for bad in (f"2.{exp}.{nonce}.{mac}", f"{uid}.{int(exp) + 999}.{nonce}.{mac}", "garbage", "a.b.c.d", "x" * 5000):
        c.cookies.set(SESSION_COOKIE, bad)
        assert c.get("/review").status_code == 303, bad
    other, _ = Signer("another-secret-0123456789").issue(1)
    c.cookies.set(SESSION_COOKIE, other)
    assert c.get("/review").status_code == 303


def test_open_redirect_after_sign_in_is_refused(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ana", "viewer", ["t1"])
    c = client(sqlite_db)
    page = c.get("/login")
    answer = c.post("/login", data={"username": "ana", "password": PASSWORD, "csrf": csrf_of(page.text),
                                    "next": "//evil.example.com/"})  # fmt: skip
    assert answer.headers["location"] == "/"


def test_forged_csrf_is_refused_before_anything_happens(sqlite_db: Database) -> None:
    add_user(sqlite_db, "rita", "reviewer", ["t1"])
    c = signed_in(sqlite_db, "rita")
    for data in ({}, {"csrf": "forged"}, {"csrf": token(c) + "x"}):
        answer = c.post("/review/1/reject", data=data)
        assert answer.status_code == 403, data
        assert "security token" in answer.text


def test_security_headers_on_every_page(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ana", "viewer", ["t1"])
    c = signed_in(sqlite_db, "ana")
    for path in ("/login", "/", "/calls", "/nope"):
        headers = c.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"


def test_sign_out_ends_the_session(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ana", "viewer", ["t1"])
    c = signed_in(sqlite_db, "ana")
    assert c.post("/logout", data={"csrf": token(c)}).status_code == 303
    assert c.get("/").status_code == 303


def test_a_removed_user_is_signed_out_at_the_next_request(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ana", "viewer", ["t1"])
    c = signed_in(sqlite_db, "ana")
    users.remove(sqlite_db, "ana")
    assert c.get("/").status_code == 303


@pytest.mark.parametrize(
    ("name", "role", "tenants", "password", "message"),
    [
        ("ana", "viewer", [], PASSWORD, "name the tenants"),
        ("ana", "reviewer", ["*"], PASSWORD, "only an admin"),
        ("ana", "admin", ["*", "t1"], PASSWORD, "only an admin"),
        ("ana", "boss", ["t1"], PASSWORD, "no role"),
        ("a b", "viewer", ["t1"], PASSWORD, "username"),
        ("ana", "viewer", ["t1"], "short", "at least"),
    ],
)
def test_bad_users_are_refused(
    sqlite_db: Database, name: str, role: str, tenants: list[str], password: str, message: str
) -> None:
    with pytest.raises(ServiceError, match=message):
        users.add(sqlite_db, name, password, role, tenants)


def test_passwords_are_argon2_hashes_and_names_unique(sqlite_db: Database) -> None:
    from callsync.store.tables import UserRow

    add_user(sqlite_db, "ana", "admin", [])
    with sqlite_db.session() as s:
        (row,) = s.query(UserRow).all()
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert row.tenants == ["*"]
    with pytest.raises(ServiceError, match="already exists"):
        add_user(sqlite_db, "ana", "viewer", ["t1"])
    assert users.authenticate(sqlite_db, "ana", PASSWORD) is not None
    assert users.authenticate(sqlite_db, "ana", PASSWORD + "!") is None
