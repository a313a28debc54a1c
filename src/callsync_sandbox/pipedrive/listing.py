"""`callsync sandbox pipedrive`: how the emulator is served and how its records are listed, through
Pipedrive's own endpoints (`GET /api/v2/{persons|organizations|deals|activities}`, cursor paging; custom
fields named by their label through `GET /v1/{person,organization,deal,activity}Fields`).

`callsync_sandbox.listing` lists it with `EMULATOR`, `TOKEN_ENV` and `records` (see docs/sandbox.md)."""

from __future__ import annotations

from typing import Any

import httpx

from callsync_sandbox.emulator import Emulator, ListError
from callsync_sandbox.faults import FaultPlan

TOKEN_ENV = "CALLSYNC_PIPEDRIVE_TOKEN"
_FIELD_LISTS = {
    "persons": "personFields",
    "organizations": "organizationFields",
    "deals": "dealFields",
    "activities": "activityFields",
}
_MAX_PAGES = 1_000


def build(token: str, plan: FaultPlan | None) -> Any:
    from callsync_sandbox.pipedrive import PipedriveSandbox

    return PipedriveSandbox(token=token, faults=plan).app()


def _checked(response: httpx.Response, what: str) -> Any:
    if response.status_code in (401, 403):
        raise ListError(
            f"the sandbox refused the token (HTTP {response.status_code}); pass the one it was started with: --token"
        )
    if response.status_code >= 400:
        raise ListError(f"cannot list {what}: HTTP {response.status_code} {response.text[:200]}")
    return response.json() if response.content else None


def records(http: httpx.Client, object_type: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every record of the object, flattened: primary email and phone, custom fields under their label."""
    listing = _FIELD_LISTS.get(object_type)
    if listing is None:
        raise ListError(f"cannot list {object_type}: Pipedrive objects are {', '.join(_FIELD_LISTS)}")
    fields = (_checked(http.get(f"/v1/{listing}", params={"limit": 500}), object_type) or {}).get(
        "data"
    ) or []
    labels = {f["key"]: f["name"] for f in fields if f.get("edit_flag")}
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        body = _checked(http.get(f"/api/v2/{object_type}", params=params), object_type) or {}
        for row in body.get("data") or []:
            flat = {k: v for k, v in row.items() if k not in ("custom_fields", "emails", "phones")}
            for kind in ("email", "phone"):
                values = row.get(f"{kind}s") or []
                primary = [v for v in values if v.get("primary")] or values
                if primary:
                    flat[kind] = primary[0].get("value")
            for key, value in (row.get("custom_fields") or {}).items():
                flat[labels.get(key, key)] = value
            out.append(flat)
        cursor = (body.get("additional_data") or {}).get("next_cursor")
        if not cursor:
            break
    return out


EMULATOR = Emulator(
    "Pipedrive",
    "persons",
    (
        "name",
        "title",
        "email",
        "phone",
        "org_id",
        "person_id",
        "callsync_origin_call_id",
        "callsync_last_call_id",
    ),
    "kind: pipedrive, api_domain: {url}, token_env: {token_env}",
    # The emulator takes the token as x-api-token (callsync's default), api_token or an OAuth bearer.
    "Authorization: Bearer {token}",
    "/api/v2",
    "GET {url}/api/v2/{object}?limit=500 with x-api-token",
    build,
)
