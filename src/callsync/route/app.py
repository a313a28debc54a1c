"""The ingest ASGI app: one webhook endpoint per voice platform (FastAPI; OpenAPI at /openapi.json).

Every endpoint does the same, in this order, and answers 2xx only once the call is committed:

    body ≤ limit (413) → content type (415) → signature on the raw bytes, per tenant (401) → UTF-8 and JSON
    or form (400) → event type (422 unknown; 200 "ignored" for known events that are not finished calls)
    → route to a tenant → convert → store the call and its sync workflow in one transaction → 202

A signed payload that cannot become a call (unroutable, invalid) is quarantined whole and answered 202
with the reason. Error bodies are `{"error": <code>, "detail": <message>}`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from callsync import __version__
from callsync.capture.platforms import PLATFORMS, adapter
from callsync.config import TenantConfig
from callsync.route import signatures as sig
from callsync.route.ingest import Outcome, Refused, ingest_payload
from callsync.store.db import Database

log = logging.getLogger("callsync.route")

DEFAULT_MAX_BODY = 2 * 1024 * 1024  # end-of-call reports with long transcripts stay far below this
WEBHOOK_PATH = "/v1/webhooks/{platform}"


def verify(
    platform: str,
    tenant: TenantConfig,
    body: bytes,
    headers: Any,
    url: str,
    content_type: str,
    now: float,
) -> None:
    """Check one request against one tenant's secret for the platform; SignatureError when it fails."""
    secret = tenant.secret(platform)
    if not secret:
        raise sig.SignatureError(f"tenant {tenant.name} has no {platform} secret")
    if platform == "generic":
        sig.verify_callsync(body, headers, secret, now)
    elif platform == "vapi":
        if tenant.vapi_auth == "hmac":
            sig.verify_vapi_hmac(body, headers, secret, now)
        elif tenant.vapi_auth == "bearer":
            sig.verify_bearer(headers, secret)
        else:
            sig.verify_secret_header(headers, secret, "X-Vapi-Secret")
    elif platform == "retell":
        sig.verify_retell(body, headers, secret, now)
    elif platform == "bland":
        sig.verify_bland(body, headers, secret)
    elif platform == "elevenlabs":
        sig.verify_elevenlabs(body, headers, secret, now)
    elif platform == "twilio":
        sig.verify_twilio(url, body, content_type, headers, secret)
    else:  # pragma: no cover - every registered platform has a scheme
        raise sig.SignatureError(f"no signature scheme for {platform}")


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


def _answer(outcome: Outcome) -> JSONResponse:
    body: dict[str, Any] = {"call_id": outcome.call_id, "status": outcome.status}
    if outcome.status == "quarantined":
        body |= {"quarantine_id": outcome.quarantine_id, "reason": outcome.reason}
    if outcome.status == "ignored":
        body["reason"] = outcome.reason
        return JSONResponse(body, status_code=200)
    return JSONResponse(body, status_code=202)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise Refused(413, "body_too_large", f"the body exceeds the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, "body_too_large", f"the body exceeds the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    db: Database,
    tenants: dict[str, TenantConfig],
    *,
    max_body: int = DEFAULT_MAX_BODY,
    public_url: str | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The ingest app for these tenants. `public_url` is the scheme://host[:port] Twilio was configured
    with (its signature covers the URL; behind a proxy the request's own URL differs)."""
    from callsync.route.openapi import platform_operation

    app = FastAPI(
        title="callsync ingest",
        version=__version__,
        description="Voice platforms deliver finished calls here. A call is durable (stored with its sync "
        "workflow in one transaction) before any 2xx. See docs/ingest.md.",
    )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.get("/healthz", summary="Liveness", responses={200: {"description": "The app is up."}})
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    def webhook(platform: str) -> Callable[[Request], Any]:
        accepted = adapter(platform).content_types

        async def receive(request: Request) -> JSONResponse:
            try:
                body = await _read_body(request, max_body)
                content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
                if content_type not in accepted:
                    raise Refused(415, "unsupported_media_type", f"expected {' or '.join(accepted)}")
                url = str(request.url)
                if public_url:
                    url = public_url.rstrip("/") + request.url.path
                    url += f"?{request.url.query}" if request.url.query else ""
                now = clock()
                candidates = []
                for name, tenant in tenants.items():
                    try:
                        verify(platform, tenant, body, request.headers, url, content_type, now)
                    except sig.SignatureError as exc:
                        log.debug("%s webhook: not signed by %s: %s", platform, name, exc)
                        continue
                    candidates.append(name)
                if not candidates:
                    raise Refused(401, "invalid_signature", "missing, stale or wrong signature")
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise Refused(400, "malformed_body", "the body is not UTF-8") from exc
                outcome = await run_in_threadpool(
                    ingest_payload,
                    db,
                    tenants,
                    platform,
                    text,
                    candidates=candidates,
                    source=f"webhook:{platform}",
                )
            except Refused as exc:
                return _error(exc.status, exc.code, exc.detail)
            except OperationalError:
                log.exception("%s webhook: database unavailable", platform)
                return _error(503, "unavailable", "the call could not be stored; retry later")
            if outcome.status == "quarantined":
                log.warning(
                    "%s webhook: quarantined (%s): %s", platform, outcome.quarantine_id, outcome.reason
                )
            return _answer(outcome)

        receive.__name__ = f"receive_{platform}"
        return receive

    for platform in PLATFORMS:
        app.add_api_route(
            WEBHOOK_PATH.format(platform=platform),
            webhook(platform),
            methods=["POST"],
            response_class=JSONResponse,
            status_code=202,
            **platform_operation(platform),
        )
    return app
