"""`callsync sandbox webhook`: how the receiver is served and how its deliveries are listed
(`GET /deliveries`, the secret as bearer token). `callsync_sandbox.listing` uses `EMULATOR` and `records`."""

from __future__ import annotations

from typing import Any

import httpx

from callsync_sandbox.emulator import Emulator, ListError
from callsync_sandbox.faults import FaultPlan

TOKEN_ENV = "CALLSYNC_WEBHOOK_TOKEN"


def build(token: str, plan: FaultPlan | None) -> Any:
    from callsync_sandbox.webhook import WebhookReceiver

    return WebhookReceiver(token=token, faults=plan).app()


def records(http: httpx.Client, object_type: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    if object_type != "events":
        raise ListError(f"cannot list {object_type}: the receiver keeps events")
    response = http.get("/deliveries")
    if response.status_code in (401, 403):
        raise ListError("the receiver refused the secret; pass the one it was started with: --token")
    if response.status_code >= 400:
        raise ListError(f"cannot list events: HTTP {response.status_code} {response.text[:200]}")
    return list(response.json().get("events", []))


EMULATOR = Emulator(
    "webhook receiver",
    "events",
    ("call_id", "email", "phone", "firstname", "lastname", "company"),
    "kind: webhook, url: {url}/hooks/calls, token_env: {token_env}",
    "Authorization: Bearer {token}",
    "/hooks/calls",
    "GET {url}/deliveries (Authorization: Bearer <secret>)",
    build,
)
