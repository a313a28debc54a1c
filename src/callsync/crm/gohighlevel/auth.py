"""Every GoHighLevel request carries the location's token and the `Version` header.

A location (sub-account) token is used as it is. An agency (company) token is exchanged once for the
location's token (`POST /oauth/locationToken`, form body `companyId`, `locationId`), kept until shortly
before it expires, and exchanged again after a 401. The exchange is an httpx transport under the shared
`CRMTransport`, so the adapter's requests, limiter and breaker are the same for both kinds of token.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from callsync.crm.errors import AuthenticationError, PermanentError, TransientError
from callsync.crm.gohighlevel.settings import API_VERSION
from callsync.crm.gohighlevel.wire import messages

EXCHANGE_PATH = "/oauth/locationToken"
EARLY_S = 60.0  # exchange again this long before the location token expires


class LocationAuth(httpx.AsyncBaseTransport):
    """Sets `Authorization: Bearer <location token>` and `Version` on every request."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        base_url: str,
        token: str,
        location_id: str,
        company_id: str | None = None,
    ) -> None:
        self.inner = inner
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.location_id = location_id
        self.company_id = company_id
        self._location_token: tuple[str, float] | None = None  # (token, monotonic expiry)
        self._lock: asyncio.Lock | None = None
        self.exchanges = 0

    async def location_token(self) -> str:
        if self.company_id is None:
            return self.token
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            held = self._location_token
            if held is not None and time.monotonic() < held[1]:
                return held[0]
            token, expires_in = await self._exchange()
            self._location_token = (token, time.monotonic() + max(0.0, expires_in - EARLY_S))
            return token

    async def _exchange(self) -> tuple[str, float]:
        request = httpx.Request(
            "POST",
            self.base_url + EXCHANGE_PATH,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Version": API_VERSION,
                "Accept": "application/json",
            },
            data={"companyId": str(self.company_id), "locationId": self.location_id},
        )
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        except httpx.TransportError as exc:
            raise TransientError(f"POST {EXCHANGE_PATH}: no answer ({type(exc).__name__})") from exc
        self.exchanges += 1
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = None
        what = f"POST {EXCHANGE_PATH} (agency token -> location {self.location_id})"
        if response.status_code == 401:
            raise AuthenticationError(
                f"{what}: HTTP 401: {'; '.join(messages(body))} (the agency token expired or was revoked)",
                status=401,
            )
        if response.status_code >= 500:
            raise TransientError(f"{what}: HTTP {response.status_code}", status=response.status_code)
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code >= 400 or not token:
            raise PermanentError(
                f"{what}: HTTP {response.status_code}: {'; '.join(messages(body)) or 'no access_token'}"
                " (is the app installed in this location, with the agency's company_id?)",
                status=response.status_code,
            )
        granted = body.get("locationId")
        if granted and granted != self.location_id:
            raise PermanentError(
                f"{what}: the token granted is for location {granted}, not {self.location_id}"
            )
        expires = body.get("expires_in")
        return str(token), float(expires) if isinstance(expires, int | float) else 86_399.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Authorization"] = f"Bearer {await self.location_token()}"
        request.headers["Version"] = API_VERSION
        request.headers.setdefault("Accept", "application/json")
        response = await self.inner.handle_async_request(request)
        if response.status_code == 401 and self.company_id is not None:
            self._location_token = None  # expired or revoked: the next request exchanges again
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
