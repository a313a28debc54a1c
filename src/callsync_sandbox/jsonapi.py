"""The small ASGI layer under the Salesforce and Zoho emulators: raw JSON requests in, replies out.

Each emulator decides everything about a request (authentication, limits, faults, the answer) in one
`respond` coroutine and may ask for the reply to be dropped after the work is done (the fault plan's
`drop_response_after_commit`). A plain dispatcher instead of a web framework keeps the vendor's exact
paths, status codes and error bodies in the emulator's hands, and lets composite requests call the same
code for their sub-requests.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from callsync_sandbox.faults import drop_response


class BadJson(ValueError):
    """The request body is not JSON."""


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadJson(str(exc)) from exc


@dataclass
class ApiReply:
    status: int
    body: Any = None  # None: no body (204)
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()


Respond = Callable[[ApiRequest], Awaitable[tuple[ApiReply, bool]]]


class JsonApp:
    """ASGI app: reads the whole request, asks `respond`, sends the reply (or cuts the connection)."""

    def __init__(self, respond: Respond, log: Callable[[str, str, int], None]) -> None:
        self._respond = respond
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        request = ApiRequest(scope["method"].upper(), scope["path"], query, headers, b"".join(chunks))
        reply, drop = await self._respond(request)
        self._log(request.method, request.path, reply.status)
        if drop:
            await drop_response(send)
        body = reply.encoded()
        head = [(b"content-type", b"application/json;charset=UTF-8")] if reply.body is not None else []
        head += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()]
        head.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": head})
        await send({"type": "http.response.body", "body": body})


class RequestLog:
    """(method, path, status) per request, readable from the test's thread."""

    def __init__(self) -> None:
        import threading

        self._entries: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._entries.append((method, path, status))

    @property
    def entries(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self._entries)

    def count(self, method: str | None = None, path: str | None = None, status: int | None = None) -> int:
        import re

        pattern = re.compile(path) if path is not None else None
        return sum(
            1
            for m, p, s in self.entries
            if (method is None or m == method.upper())
            and (pattern is None or pattern.fullmatch(p))
            and (status is None or s == status)
        )
