"""HubSpot's edge as pure ASGI: correlation ids, authentication, injected faults, rate limits."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callsync_sandbox.faults import FaultAction, FaultInjector, FaultRule, drop_response
from callsync_sandbox.hubspot.errors import HubSpotError, validation_error
from callsync_sandbox.hubspot.limits import POLICY_MESSAGES, RateLimiter
from callsync_sandbox.hubspot.objects import CORRELATION_KEY

_AUTH_MESSAGE: Final = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_FAULT_CATEGORIES: Final = {401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES", 404: "OBJECT_NOT_FOUND"}
_SEARCH_PATH = re.compile(r"/crm/v3/objects/[^/]+/search")


class _Status:
    """The status of the response an app produced, for the request log."""

    def __init__(self) -> None:
        self.value = 500


def _observing(send: Send, status: _Status | None, headers: Mapping[str, str]) -> Send:
    """Wrap `send` to note the response status and append headers to the response head."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            if status is not None:
                status.value = message["status"]
            extra = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def _discard(message: Message) -> None:
    """A `send` for responses that a drop fault swallows."""


class Gateway:
    """HubSpot's edge: correlation ids, authentication, injected faults, then rate limits.

    Pure ASGI rather than a FastAPI middleware, because a dropped response has to control exactly
    what reaches the server's `send`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        faults: FaultInjector,
        limiter: RateLimiter,
        log: Callable[[str, str, int], None],
    ) -> None:
        self._app = app
        self._token = token
        self._faults = faults
        self._limiter = limiter
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        correlation_id = str(uuid.uuid4())
        scope[CORRELATION_KEY] = correlation_id
        status = _Status()
        try:
            reply = _observing(send, status, {"X-HubSpot-Correlation-Id": correlation_id})
            await self._dispatch(scope, receive, send, reply, status)
        except ClientDisconnect:  # the client gave up (or died) while the request waited: nothing to answer
            status.value = 499
        finally:
            self._log(scope["method"], scope["path"], status.value)

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, reply: Send, status: _Status
    ) -> None:
        method, path = scope["method"], scope["path"]
        token = _bearer_token(scope)
        if token != self._token:
            unauthorized = HubSpotError(401, "INVALID_AUTHENTICATION", _AUTH_MESSAGE)
            await _error_response(unauthorized, scope)(scope, receive, reply)
            return
        search = method == "POST" and bool(_SEARCH_PATH.fullmatch(path))
        action = self._faults.act(method, path)
        if action.delay_s > 0:
            await asyncio.sleep(action.delay_s)
        rule = action.rule
        if rule is None or (rule.fault == "partial_batch" and not _BATCH_PATH.fullmatch(path)):
            await self._admit(scope, receive, reply, token, search)
        elif rule.fault == "status":
            await self._fault_response(rule, token, search, scope)(scope, receive, reply)
        elif rule.fault == "connection_reset":  # nothing done, nothing answered
            status.value = 0
            await drop_response(send)
        elif rule.fault == "partial_batch":
            await self._partial_batch(action, scope, receive, reply, token)
        else:  # after commit: do everything, show the client nothing (at once, or after holding it)
            await self._admit(scope, receive, _observing(_discard, status, {}), token, search)
            if rule.fault == "timeout_after_commit":
                await asyncio.sleep(action.hold_s)
            await drop_response(send)

    async def _partial_batch(
        self, action: FaultAction, scope: Scope, receive: Receive, reply: Send, token: str
    ) -> None:
        """Fail some inputs of a batch write (a 207 naming them) and do the rest, as HubSpot does when
        inputs fail one by one. A create without `objectWriteTraceId`s is all-or-nothing in HubSpot, so
        there the whole batch fails instead."""
        assert action.rule is not None
        body = await _read_body(receive)
        try:
            payload = json.loads(body) if body else {}
            inputs = payload.get("inputs") if isinstance(payload, dict) else None
        except ValueError:
            inputs = None
        path = scope["path"]
        traced = isinstance(inputs, list) and all(
            isinstance(item, dict) and item.get("objectWriteTraceId") for item in inputs
        )
        if not isinstance(inputs, list) or not inputs or (path.endswith("/batch/create") and not traced):
            await self._fault_response(action.rule, token, False, scope)(scope, _replay(body), reply)
            return
        failing = set(action.failing_inputs(len(inputs)))
        kept = [item for i, item in enumerate(inputs) if i not in failing]
        captured = _Captured()
        forwarded = json.dumps({**payload, "inputs": kept}).encode()
        if kept:
            await self._admit(scope, _replay(forwarded), captured.send, token, False)
        else:
            captured.status, captured.body = 200, b'{"status":"COMPLETE","results":[]}'
        if captured.status >= 400:  # the rate limiter (or validation) refused the whole batch
            await captured.forward(reply)
            return
        result = json.loads(captured.body or b"{}")
        rule = action.rule
        category = (
            "INTERNAL_ERROR" if rule.status >= 500 else _FAULT_CATEGORIES.get(rule.status, "VALIDATION_ERROR")
        )
        errors = list(result.get("errors", []))
        for i in sorted(failing):
            item = inputs[i] if isinstance(inputs[i], dict) else {}
            context = (
                {"objectWriteTraceId": [str(item["objectWriteTraceId"])]}
                if item.get("objectWriteTraceId")
                else {"ids": [str(item.get("id", i))]}
            )
            error = HubSpotError(
                rule.status, category, f"{_reason(rule.status)} (input {i} of the batch failed)"
            )
            errors.append(error.batch_item(context))
        result["errors"], result["numErrors"] = errors, len(errors)
        headers = {k: v for k, v in captured.headers.items() if k not in ("content-length", "content-type")}
        await JSONResponse(result, status_code=207, headers=headers)(scope, _replay(b""), reply)

    async def _admit(self, scope: Scope, receive: Receive, reply: Send, token: str, search: bool) -> None:
        admission = self._limiter.admit(token, search=search)
        if admission.policy is not None:
            await _rate_limited(admission.policy, admission.headers, scope)(scope, receive, reply)
            return
        await self._app(scope, receive, _observing(reply, None, admission.headers))

    def _fault_response(self, rule: FaultRule, token: str, search: bool, scope: Scope) -> Response:
        # An injected 429 mimics the limit the request would really hit; other statuses get HubSpot's
        # error shape, with the rate headers a real answer from behind the limiter would carry.
        if rule.status == 429:
            policy = "SECONDLY" if search else "TEN_SECONDLY_ROLLING"
            return _rate_limited(
                policy, {} if search else self._limiter.headers(token, exhausted=True), scope
            )
        fallback = "INTERNAL_ERROR" if rule.status >= 500 else "VALIDATION_ERROR"
        error = HubSpotError(rule.status, _FAULT_CATEGORIES.get(rule.status, fallback), _reason(rule.status))
        return _error_response(error, scope, {} if search else self._limiter.headers(token))


_BATCH_PATH = re.compile(r"/crm/v3/objects/[^/]+/batch/(create|update|upsert)")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A `receive` that hands an app a body already read from the client."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class _Captured:
    """A `send` that keeps an app's response, to be changed before the client sees it."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: dict[str, str] = {}
        self.body = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    async def forward(self, send: Send) -> None:
        headers = [(k.encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _bearer_token(scope: Scope) -> str:
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _correlation_id(scope: Scope) -> str:
    return str(scope[CORRELATION_KEY])


def _error_response(error: HubSpotError, scope: Scope, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(error.body(_correlation_id(scope)), status_code=error.status, headers=headers)


def _rate_limited(policy: str, headers: Mapping[str, str], scope: Scope) -> Response:
    body = {
        "status": "error",
        "message": POLICY_MESSAGES[policy],
        "errorType": "RATE_LIMIT",
        "correlationId": _correlation_id(scope),
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
    }
    # No Retry-After: HubSpot documents none for these 429s, so clients must not rely on one.
    return JSONResponse(body, status_code=429, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HubSpotError)
    async def hubspot_error(request: Request, exc: HubSpotError) -> Response:
        return _error_response(exc, request.scope)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _error_response(validation_error(f"Invalid request: {problems}"), request.scope)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        category = _FAULT_CATEGORIES.get(exc.status_code, "VALIDATION_ERROR")
        return _error_response(HubSpotError(exc.status_code, category, str(exc.detail)), request.scope)
