"""The GoHighLevel emulator answers as the LeadConnector v2 spec says (crm-specs/gohighlevel): the
Version header, token kinds and location scoping, DTO validation with 422 `property X should not exist`,
the duplicate-contact setting, the upsert's answer, pipelines and opportunities, the five X-RateLimit-*
headers and 429s, and fault plans."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.gohighlevel import GoHighLevelSandbox
from callsync_sandbox.gohighlevel.listing import EMULATOR, LOCATION, records
from callsync_sandbox.server import SandboxServer

TOKEN = "t"
V = {"Version": "2021-07-28"}
RATE_HEADERS = (
    "X-RateLimit-Limit-Daily",
    "X-RateLimit-Daily-Remaining",
    "X-RateLimit-Interval-Milliseconds",
    "X-RateLimit-Max",
    "X-RateLimit-Remaining",
)


def client(sandbox: GoHighLevelSandbox, token: str = TOKEN, version: bool = True) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}", **(V if version else {})}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app()), base_url="http://ghl", headers=headers
    )


async def test_requests_need_the_version_header_and_a_known_token() -> None:
    sandbox = GoHighLevelSandbox(token=TOKEN)
    async with client(sandbox, version=False) as http:
        r = await http.get("/contacts/search/duplicate", params={"locationId": "location-1"})
        assert r.status_code == 400 and r.json()["message"] == "Version header was not found"
    async with client(sandbox, token="nope") as http:
        r = await http.get("/contacts/search/duplicate", params={"locationId": "location-1"})
        assert r.status_code == 401
        assert r.json() == {
            "statusCode": 401,
            "message": "Invalid token: access token is invalid",
            "error": "Unauthorized",
        }


async def test_a_location_token_reaches_only_its_location_and_an_agency_token_mints_one() -> None:
    sandbox = GoHighLevelSandbox(token=TOKEN, locations=("location-1", "location-2"))
    other = sandbox.insert("contacts", {"email": "a@example.com"}, "location-2")
    async with client(sandbox) as http:
        r = await http.get(
            "/contacts/search/duplicate", params={"locationId": "location-2", "email": "a@example.com"}
        )
        assert r.status_code == 403
        assert (await http.get(f"/contacts/{other}")).status_code == 403
    async with client(sandbox, token=sandbox.agency_token) as http:
        r = await http.get("/contacts/search/duplicate", params={"locationId": "location-2"})
        assert r.status_code == 401, "an agency token does not reach a location's contacts"
        r = await http.post(
            "/oauth/locationToken", data={"companyId": "company-1", "locationId": "location-2"}
        )
        assert r.status_code == 200
        minted = r.json()
        assert minted["locationId"] == "location-2" and minted["token_type"] == "Bearer"
        assert minted["expires_in"] > 0 and minted["userId"]
        r = await http.post("/oauth/locationToken", data={"companyId": "company-1"})
        assert r.status_code == 422 and r.json()["message"] == ["locationId should not be empty"]
    async with client(sandbox, token=minted["access_token"]) as http:
        r = await http.get(f"/contacts/{other}")
        assert r.status_code == 200 and r.json()["contact"]["locationId"] == "location-2"
    async with client(sandbox) as http:  # a location token cannot mint
        r = await http.post(
            "/oauth/locationToken", data={"companyId": "company-1", "locationId": "location-1"}
        )
        assert r.status_code == 401


async def test_unknown_properties_are_refused_with_the_specs_422() -> None:
    sandbox = GoHighLevelSandbox(token=TOKEN)
    async with client(sandbox) as http:
        r = await http.post(
            "/contacts/upsert", json={"locationId": "location-1", "email": "a@b.co", "bogus": 1}
        )
        assert r.status_code == 422
        assert r.json() == {
            "statusCode": 422,
            "message": ["property bogus should not exist"],
            "error": "Unprocessable Entity",
        }
        created = (
            await http.post("/contacts/upsert", json={"locationId": "location-1", "email": "a@b.co"})
        ).json()
        # UpdateContactDto has no companyName and no locationId.
        r = await http.put(
            f"/contacts/{created['contact']['id']}", json={"companyName": "X", "locationId": "location-1"}
        )
        assert r.status_code == 422 and set(r.json()["message"]) == {
            "property companyName should not exist",
            "property locationId should not exist",
        }


@pytest.mark.parametrize("allow", [False, True], ids=["duplicates-off", "duplicates-on"])
async def test_the_duplicate_contact_setting(allow: bool) -> None:
    sandbox = GoHighLevelSandbox(token=TOKEN, allow_duplicates=allow)
    body = {"locationId": "location-1", "email": "Dana@Example.com", "phone": "(617) 555-0148"}
    async with client(sandbox) as http:
        first = await http.post("/contacts/", json=body)
        assert first.status_code == 201
        contact = first.json()["contact"]
        assert contact["phone"] == "+16175550148" and contact["locationId"] == "location-1"
        second = await http.post("/contacts/", json={**body, "email": "dana@example.com"})
        if allow:
            assert second.status_code == 201 and second.json()["contact"]["id"] != contact["id"]
        else:
            assert second.status_code == 400
            assert second.json() == {
                "statusCode": 400,
                "message": "This location does not allow duplicated contacts.",
                "meta": {"contactName": "", "contactId": contact["id"], "matchingField": "email"},
            }
        r = await http.get(
            "/contacts/search/duplicate", params={"locationId": "location-1", "number": "+16175550148"}
        )
        assert r.json()["contact"]["id"] == contact["id"], "the oldest match"
        upsert = await http.post("/contacts/upsert", json={**body, "firstName": "Dana"})
        assert upsert.status_code == 200
        answer = upsert.json()
        assert answer["new"] is False and answer["contact"]["id"] == contact["id"] and answer["traceId"]
        assert len(sandbox.records("contacts")) == (2 if allow else 1)


async def test_an_upsert_matching_email_on_one_contact_and_phone_on_another_updates_the_first() -> None:
    sandbox = GoHighLevelSandbox(token=TOKEN)
    a = sandbox.insert("contacts", {"email": "a@example.com"})
    b = sandbox.insert("contacts", {"phone": "+16175550148"})
    async with client(sandbox) as http:
        r = await http.post(
            "/contacts/upsert",
            json={"locationId": "location-1", "email": "a@example.com", "phone": "+16175550148"},
        )
    assert r.json()["contact"]["id"] == a and r.json()["new"] is False
    rows = {row["id"]: row for row in sandbox.records("contacts")}
    assert "phone" not in rows[a] and rows[b]["phone"] == "+16175550148", "the phone is silently dropped"


async def test_custom_fields_search_pipelines_and_opportunities() -> None:
    sandbox = GoHighLevelSandbox(token=TOKEN)
    async with client(sandbox) as http:
        r = await http.post(
            "/locations/location-1/customFields", json={"name": "callsync_origin_call_id", "dataType": "TEXT"}
        )
        field = r.json()["customField"]
        assert field["fieldKey"] == "contact.callsync_origin_call_id" and field["model"] == "contact"
        again = await http.post(
            "/locations/location-1/customFields", json={"name": "callsync_origin_call_id", "dataType": "TEXT"}
        )
        assert again.status_code == 400
        contact = (
            await http.post(
                "/contacts/upsert",
                json={
                    "locationId": "location-1",
                    "firstName": "Dana",
                    "customFields": [{"key": "callsync_origin_call_id", "field_value": "c-1"}],
                },
            )
        ).json()["contact"]
        assert contact["customFields"] == [{"id": field["id"], "value": "c-1"}]
        flt = {"field": f"customFields.{field['id']}", "operator": "eq", "value": "c-1"}
        found = (
            await http.post("/contacts/search", json={"locationId": "location-1", "filters": [flt]})
        ).json()
        assert [c["id"] for c in found["contacts"]] == [contact["id"]] and found["total"] == 1
        pipelines = (await http.get("/opportunities/pipelines", params={"locationId": "location-1"})).json()
        pipeline = pipelines["pipelines"][0]
        r = await http.post(
            "/opportunities/",
            json={"locationId": "location-1", "pipelineId": pipeline["id"], "name": "Deal", "status": "open"},
        )
        assert r.status_code == 422 and r.json()["message"] == ["contactId should not be empty"]
        r = await http.post(
            "/opportunities/",
            json={"locationId": "location-1", "pipelineId": pipeline["id"], "name": "Deal", "status": "open",
                  "contactId": contact["id"], "pipelineStageId": pipeline["stages"][1]["id"]},
        )  # fmt: skip
        assert r.status_code == 201
        opportunity = r.json()["opportunity"]
        r = await http.put(f"/opportunities/{opportunity['id']}", json={"contactId": "other"})
        assert r.status_code == 422, "an opportunity's contact cannot be changed"
        r = await http.get("/opportunities/search", params={"location_id": "location-1", "q": "dea"})
        assert [o["id"] for o in r.json()["opportunities"]] == [opportunity["id"]]


async def test_every_answer_carries_the_five_rate_limit_headers_and_429_when_spent() -> None:
    sandbox = GoHighLevelSandbox(token=TOKEN, burst_max=2, interval_s=60.0, daily_max=1_000)
    async with client(sandbox) as http:
        answers = [
            await http.get("/contacts/search/duplicate", params={"locationId": "location-1"})
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    for answer in answers:
        assert all(h in answer.headers for h in RATE_HEADERS)
    assert answers[0].headers["X-RateLimit-Max"] == "2"
    assert answers[0].headers["X-RateLimit-Interval-Milliseconds"] == "60000"
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[1].headers["X-RateLimit-Daily-Remaining"] == "998"

    daily = GoHighLevelSandbox(token=TOKEN, daily_max=1)
    async with client(daily) as http:
        ok = await http.get("/contacts/search/duplicate", params={"locationId": "location-1"})
        spent = await http.get("/contacts/search/duplicate", params={"locationId": "location-1"})
    assert ok.status_code == 200 and spent.status_code == 429
    assert spent.headers["X-RateLimit-Daily-Remaining"] == "0"


async def test_a_fault_plan_applies_after_authentication() -> None:
    plan = FaultPlan.model_validate({"rules": [{"path": "/contacts/.*", "fault": "status", "status": 503}]})
    sandbox = GoHighLevelSandbox(token=TOKEN, faults=plan)
    async with client(sandbox, token="wrong") as http:
        assert (await http.get("/contacts/x")).status_code == 401
    async with client(sandbox) as http:
        r = await http.get("/contacts/x")
        assert r.status_code == 503 and r.json()["statusCode"] == 503 and "X-RateLimit-Max" in r.headers


def test_the_sandbox_command_lists_records_through_the_vendor_endpoints() -> None:
    app: Any = EMULATOR.build(TOKEN, None)
    with (
        SandboxServer(app) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}", **V}) as http,
    ):
        field = {"name": "callsync_origin_call_id", "dataType": "TEXT", "model": "contact"}
        assert http.post(f"/locations/{LOCATION}/customFields", json=field).status_code == 200
        for i in range(3):
            stamp = [{"key": "callsync_origin_call_id", "field_value": f"c-{i}"}]
            body = {"locationId": LOCATION, "email": f"p{i}@example.com", "customFields": stamp}
            assert http.post("/contacts/upsert", json=body).status_code == 200
        rows = records(http, "contacts", EMULATOR.columns)
    assert [(r["email"], r["callsync_origin_call_id"]) for r in rows] == [
        (f"p{i}@example.com", f"c-{i}") for i in range(3)
    ]
