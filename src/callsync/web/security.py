"""Sessions, CSRF tokens, security headers and the sign-in rate limit of the dashboard.

A session is a signed cookie (HMAC-SHA256 over `user id . expiry . nonce`); nothing is kept server-side, so
several processes serve the same sessions when they share the secret (CALLSYNC_SESSION_SECRET). A removed
user's session stops working at the next request (the user is looked up on each). The CSRF token is an HMAC
of the session's nonce: a form posted without it, or with another session's, is refused (403)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

SESSION_COOKIE = "callsync_session"
SESSION_TTL_S = 12 * 3600
SECRET_ENV = "CALLSYNC_SESSION_SECRET"

# No inline script, no remote anything: every asset comes from this server.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Session:
    user_id: int
    expires: int
    nonce: str


class Signer:
    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ValueError("the session secret must have at least 16 bytes")
        self._key = key

    def _mac(self, purpose: str, text: str) -> str:
        digest = hmac.new(self._key, f"{purpose}:{text}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, user_id: int, now: float | None = None) -> tuple[str, Session]:
        session = Session(user_id, int((now or time.time()) + SESSION_TTL_S), secrets.token_urlsafe(18))
        body = f"{session.user_id}.{session.expires}.{session.nonce}"
        return f"{body}.{self._mac('session', body)}", session

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session of a cookie, or None when it is missing, malformed, tampered with or expired."""
        if not cookie or len(cookie) > 300:
            return None
        parts = cookie.split(".")
        if len(parts) != 4:
            return None
        body, mac = ".".join(parts[:3]), parts[3]
        if not hmac.compare_digest(mac, self._mac("session", body)):
            return None
        try:
            user_id, expires = int(parts[0]), int(parts[1])
        except ValueError:
            return None
        if expires < (now or time.time()):
            return None
        return Session(user_id, expires, parts[2])

    def csrf(self, session: Session) -> str:
        return self._mac("csrf", session.nonce)

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return self.same(self.csrf(session), token)

    @staticmethod
    def same(expected: str, given: str | None) -> bool:
        return bool(given) and len(str(given)) < 200 and hmac.compare_digest(str(given), expected)


class LoginLimiter:
    """At most `attempts` failed sign-ins per `window_s`, per username and per client address."""

    def __init__(self, attempts: int = 5, window_s: float = 300.0) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        found = self._failures.setdefault(key, deque())
        while found and found[0] <= now - self.window_s:
            found.popleft()
        return found

    def blocked(self, keys: list[str], now: float | None = None) -> bool:
        moment = now or time.monotonic()
        with self._lock:
            return any(len(self._recent(k, moment)) >= self.attempts for k in keys)

    def failed(self, keys: list[str], now: float | None = None) -> None:
        moment = now or time.monotonic()
        with self._lock:
            if len(self._failures) > 10_000:  # bounded memory under a spray of names
                self._failures.clear()
            for k in keys:
                self._recent(k, moment).append(moment)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username}", None)
