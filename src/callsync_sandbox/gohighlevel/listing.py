"""`callsync sandbox gohighlevel`: how the emulator is served and how its records are listed, through the
vendor's own endpoints (`POST /contacts/search`, `POST /opportunities/search`, with `Version` and the
location id; custom fields named through `GET /locations/{id}/customFields`).

`callsync_sandbox.listing` lists it with `EMULATOR`, `TOKEN_ENV` and `records` (see docs/sandbox.md)."""

from __future__ import annotations

from typing import Any

import httpx

from callsync_sandbox.emulator import Emulator, ListError
from callsync_sandbox.faults import FaultPlan

LOCATION = "location-1"  # the served emulator's one location (its token is the --token)
VERSION = {"Version": "2021-07-28"}
TOKEN_ENV = "CALLSYNC_GOHIGHLEVEL_TOKEN"
_PAGE = 100
_MAX_PAGES = 1_000
_MODELS = {"contacts": "contact", "opportunities": "opportunity"}


def build(token: str, plan: FaultPlan | None) -> Any:
    from callsync_sandbox.gohighlevel import GoHighLevelSandbox

    return GoHighLevelSandbox(token=token, locations=(LOCATION,), faults=plan).app()


def _checked(response: httpx.Response, what: str) -> Any:
    if response.status_code in (401, 403):
        raise ListError(
            f"the sandbox refused the token (HTTP {response.status_code}); pass the one it was started with: --token"
        )
    if response.status_code >= 400:
        raise ListError(f"cannot list {what}: HTTP {response.status_code} {response.text[:200]}")
    return response.json() if response.content else None


def records(http: httpx.Client, object_type: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every contact (or opportunity) of the location, custom fields under their key's name."""
    model = _MODELS.get(object_type)
    if model is None:
        raise ListError(f"cannot list {object_type}: GoHighLevel objects are contacts and opportunities")
    fields = _checked(
        http.get(f"/locations/{LOCATION}/customFields", params={"model": model}, headers=VERSION), object_type
    )
    names = {f["id"]: str(f["fieldKey"]).partition(".")[2] for f in (fields or {}).get("customFields", [])}
    out: list[dict[str, Any]] = []
    for page in range(1, _MAX_PAGES + 1):
        body = _checked(
            http.post(
                f"/{object_type}/search",
                json={"locationId": LOCATION, "page": page, "pageLimit": _PAGE},
                headers=VERSION,
            ),
            object_type,
        )
        rows = (body or {}).get(object_type, [])
        for row in rows:
            flat = {k: v for k, v in row.items() if k != "customFields"}
            for item in row.get("customFields") or []:
                flat[names.get(item["id"], item["id"])] = item.get("value")
            out.append(flat)
        if len(rows) < _PAGE:
            break
    return out


EMULATOR = Emulator(
    "GoHighLevel",
    "contacts",
    (
        "name",
        "email",
        "phone",
        "companyName",
        "contactId",
        "monetaryValue",
        "callsync_origin_call_id",
        "callsync_last_call_id",
    ),
    f"kind: gohighlevel, api_url: {{url}}, location_id: {LOCATION}, token_env: {{token_env}}",
    "Authorization: Bearer {token}",
    "",
    f'POST {{url}}/{{object}}/search with Version: 2021-07-28 and {{{{"locationId": "{LOCATION}"}}}}',
    build,
)
