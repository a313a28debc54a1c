"""What each emulator is and how to reach it (`callsync sandbox <crm>`), and the records of a running one
read through the vendor's own list endpoint (`callsync sandbox <crm> --list`).

Listing goes over HTTP like any client would, so it works on a sandbox started in another terminal:
HubSpot `GET /crm/v3/objects/{type}` (paged with `after`), Salesforce a SOQL query, Zoho
`GET /crm/v8/{module}` (paged with `page`). Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import httpx

from callsync_sandbox.emulator import Emulator, ListError

__all__ = ["CHOICES", "EMULATORS", "TOKEN_ENVS", "Emulator", "ListError", "Listing", "list_records"]
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.gohighlevel import listing as gohighlevel_listing
from callsync_sandbox.pipedrive import listing as pipedrive_listing
from callsync_sandbox.salesforce.api import MAX_VERSION
from callsync_sandbox.webhook import listing as webhook_listing

_MAX_PAGES: Final = 1_000  # a bound on paging, far above any sandbox's size
_SF_VERSION: Final = f"{MAX_VERSION:.1f}"


def _hubspot(token: str, plan: FaultPlan | None) -> Any:
    from callsync_sandbox.hubspot import HubSpotSandbox

    return HubSpotSandbox(token=token, faults=plan).app()


def _salesforce(token: str, plan: FaultPlan | None) -> Any:
    from callsync_sandbox.salesforce import SalesforceSandbox

    return SalesforceSandbox(token=token, faults=plan).app()


def _zoho(token: str, plan: FaultPlan | None) -> Any:
    from callsync_sandbox.zoho import ZohoSandbox

    return ZohoSandbox(token=token, faults=plan).app()


EMULATORS: Final = {
    "hubspot": Emulator(
        "HubSpot",
        "contacts",
        (
            "email",
            "firstname",
            "lastname",
            "phone",
            "company",
            "callsync_origin_call_id",
            "callsync_last_call_id",
        ),
        "kind: hubspot, base_url: {url}, token_env: {token_env}",
        "Authorization: Bearer {token}",
        "/crm/v3",
        "GET {url}/crm/v3/objects/{object}?limit=100",
        _hubspot,
    ),
    "salesforce": Emulator(
        "Salesforce",
        "Lead",
        (
            "Name",
            "Email",
            "Phone",
            "Company",
            "Title",
            "callsync_origin_call_id__c",
            "callsync_last_call_id__c",
        ),
        "kind: salesforce, instance_url: {url}, token_env: {token_env}",
        "Authorization: Bearer {token}",
        f"/services/data/v{_SF_VERSION}",
        f"GET {{url}}/services/data/v{_SF_VERSION}/query?q=SELECT+Id,Name,Email+FROM+{{object}}",
        _salesforce,
    ),
    "zoho": Emulator(
        "Zoho CRM",
        "Leads",
        (
            "Full_Name",
            "Email",
            "Phone",
            "Company",
            "Account_Name",
            "callsync_origin_call_id",
            "callsync_last_call_id",
        ),
        "kind: zoho, api_domain: {url}, token_env: {token_env}",
        "Authorization: Zoho-oauthtoken {token}",
        "/crm/v8",
        "GET {url}/crm/v8/{object}",
        _zoho,
    ),
    "pipedrive": pipedrive_listing.EMULATOR,
    "gohighlevel": gohighlevel_listing.EMULATOR,
    "webhook": webhook_listing.EMULATOR,
}
CHOICES: Final = tuple(EMULATORS)
TOKEN_ENVS: Final = {
    "hubspot": "CALLSYNC_HUBSPOT_TOKEN",
    "salesforce": "CALLSYNC_SALESFORCE_TOKEN",
    "zoho": "CALLSYNC_ZOHO_TOKEN",
    "pipedrive": "CALLSYNC_PIPEDRIVE_TOKEN",
    "gohighlevel": "CALLSYNC_GOHIGHLEVEL_TOKEN",
    "webhook": webhook_listing.TOKEN_ENV,
}


@dataclass(frozen=True)
class Listing:
    object_type: str
    columns: tuple[str, ...]  # "id" first
    rows: tuple[tuple[str, ...], ...]


def list_records(crm: str, port: int, token: str, object_type: str | None = None) -> Listing:
    """Every record of `object_type` (default: the CRM's contact-like object) in the sandbox on
    127.0.0.1:`port`, through the vendor's list endpoint."""
    emulator = EMULATORS[crm]
    wanted = object_type or emulator.default_object
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": emulator.auth.format(token=token).split(": ", 1)[1]}
    fetch = {
        "hubspot": _hubspot_records,
        "salesforce": _salesforce_records,
        "zoho": _zoho_records,
        "pipedrive": pipedrive_listing.records,
        "gohighlevel": gohighlevel_listing.records,
        "webhook": webhook_listing.records,
    }[crm]
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=10.0, trust_env=False) as http:
            records = fetch(http, wanted, emulator.columns)
    except httpx.ConnectError as exc:
        raise ListError(
            f"no sandbox answers on 127.0.0.1:{port} (start one with `callsync sandbox {crm} --port {port}`)"
        ) from exc
    except httpx.HTTPError as exc:
        raise ListError(f"the sandbox on 127.0.0.1:{port} did not answer: {exc}") from exc
    present = [c for c in emulator.columns if any(record.get(c) not in (None, "") for record in records)]
    columns = ("id", *present)
    rows = tuple(tuple(_text(record.get(c)) for c in columns) for record in records)
    return Listing(wanted, columns, rows)


def _checked(response: httpx.Response, what: str) -> Any:
    if response.status_code in (401, 403):
        raise ListError(
            f"the sandbox refused the token (HTTP {response.status_code}); pass the one it was started with: --token"
        )
    if response.status_code >= 400:
        raise ListError(f"cannot list {what}: HTTP {response.status_code} {_short(response.text)}")
    return response.json() if response.content else None


def _hubspot_records(http: httpx.Client, object_type: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(_MAX_PAGES):
        params: dict[str, Any] = {"limit": 100, "properties": ",".join(columns)}
        if after is not None:
            params["after"] = after
        page = _checked(http.get(f"/crm/v3/objects/{object_type}", params=params), object_type)
        records += [{"id": r["id"], **r.get("properties", {})} for r in page.get("results", [])]
        after = page.get("paging", {}).get("next", {}).get("after")
        if after is None:
            break
    return records


def _salesforce_records(http: httpx.Client, sobject: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    api = f"/services/data/v{_SF_VERSION}"
    described = _checked(http.get(f"{api}/sobjects/{sobject}/describe"), sobject)
    known = {field["name"] for field in described.get("fields", [])}
    fields = ["Id", *(c for c in columns if c in known)]
    soql = f"SELECT {', '.join(fields)} FROM {described['name']} ORDER BY CreatedDate"
    result = _checked(http.get(f"{api}/query", params={"q": soql}), sobject)
    records = [dict(r, id=r["Id"]) for r in result.get("records", [])]
    for _ in range(_MAX_PAGES):
        if result.get("done", True) or not result.get("nextRecordsUrl"):
            break
        result = _checked(http.get(result["nextRecordsUrl"]), sobject)
        records += [dict(r, id=r["Id"]) for r in result.get("records", [])]
    return records


def _zoho_records(http: httpx.Client, module: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for page in range(1, _MAX_PAGES + 1):
        response = http.get(f"/crm/v8/{module}", params={"page": page, "per_page": 200})
        body = _checked(response, module)
        if body is None:  # 204: no (more) records
            break
        records += body.get("data", [])
        if not body.get("info", {}).get("more_records"):
            break
    return records


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # a Zoho lookup: {"name", "id"}
        return str(value.get("name") or value.get("id") or "")
    return str(value)


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:197] + "..."
