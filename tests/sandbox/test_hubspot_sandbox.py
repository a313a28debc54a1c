"""The HubSpot emulator answers with HubSpot's paths, shapes, status codes, limits and lag."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONTACTS = "/crm/v3/objects/contacts"
CALL_TO_CONTACT = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}
RATE_HEADERS = (
    "X-HubSpot-RateLimit-Daily",
    "X-HubSpot-RateLimit-Daily-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds",
    "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
)


def in_process(sandbox: HubSpotSandbox, headers: dict[str, str] = AUTH) -> httpx.AsyncClient:
    """A client without a socket; the tests that need real connections use `over_http`."""
    transport = httpx.ASGITransport(app=sandbox.app())
    return httpx.AsyncClient(transport=transport, base_url="http://hubspot.test", headers=headers)


def over_http(server: SandboxServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base_url, headers=AUTH)


@pytest.fixture
def sandbox() -> HubSpotSandbox:
    return HubSpotSandbox(token=TOKEN)


@pytest.fixture
async def client(sandbox: HubSpotSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(sandbox) as http:
        yield http


async def create(http: httpx.AsyncClient, object_type: str, **properties: Any) -> dict[str, Any]:
    response = await http.post(f"/crm/v3/objects/{object_type}", json={"properties": properties})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def search(http: httpx.AsyncClient, object_type: str, **body: Any) -> httpx.Response:
    return await http.post(f"/crm/v3/objects/{object_type}/search", json=body)


def eq(name: str, value: str) -> dict[str, Any]:
    return {"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}


def unique_property(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": name.replace("_", " "),
        "type": "string",
        "fieldType": "text",
        "groupName": "call",
        "hasUniqueValue": True,
    }


def assert_hubspot_error(response: httpx.Response, status: int, category: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert body["category"] == category
    assert body["correlationId"] == response.headers["X-HubSpot-Correlation-Id"]
    return body


# --- real HTTP ---------------------------------------------------------------------------------------


async def test_create_read_update_search_round_trip_over_http() -> None:
    sandbox = HubSpotSandbox(token=TOKEN)
    with SandboxServer(sandbox.app()) as server:
        async with over_http(server) as http:
            created = await create(
                http, "contacts", email="Ann@Example.com", firstname="Ann", phone="+14155550100"
            )
            assert created["id"] == "1001"
            assert created["properties"]["email"] == "ann@example.com"
            assert created["properties"]["hs_object_id"] == "1001"
            assert created["properties"]["createdate"].endswith("Z")

            updated = await http.patch(f"{CONTACTS}/1001", json={"properties": {"lastname": "Smith"}})
            assert updated.status_code == 200
            assert updated.json()["properties"]["lastname"] == "Smith"

            read = await http.get(f"{CONTACTS}/1001", params={"properties": "lastname,phone"})
            assert read.json()["properties"]["lastname"] == "Smith"
            assert read.json()["properties"]["phone"] == "+14155550100"

            found = await search(
                http, "contacts", filterGroups=[eq("email", "ann@example.com")], properties=["lastname"]
            )
            assert found.status_code == 200
            assert found.json()["total"] == 1
            assert found.json()["results"][0]["properties"]["lastname"] == "Smith"
    assert sandbox.count_requests(method="POST", path=CONTACTS, status=201) == 1


async def test_rate_window_answers_429_for_the_request_over_max_then_recovers() -> None:
    # A window long enough that three requests fit in it on a loaded CI runner (300 ms did not).
    sandbox = HubSpotSandbox(token=TOKEN, ten_second_max=3, interval_ms=1500)
    with SandboxServer(sandbox.app()) as server:
        async with over_http(server) as http:
            allowed = [await http.get(f"{CONTACTS}/404") for _ in range(3)]
            assert [response.headers["X-HubSpot-RateLimit-Remaining"] for response in allowed] == [
                "2",
                "1",
                "0",
            ]

            limited = await http.get(f"{CONTACTS}/404")
            assert limited.status_code == 429
            body = limited.json()
            assert body["policyName"] == "TEN_SECONDLY_ROLLING"
            assert body["errorType"] == "RATE_LIMIT"
            assert body["message"] == "You have reached your ten_secondly_rolling limit."
            assert body["correlationId"] == limited.headers["X-HubSpot-Correlation-Id"]
            assert body["requestId"]
            assert all(name in limited.headers for name in RATE_HEADERS)
            assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
            assert limited.headers["X-HubSpot-RateLimit-Max"] == "3"
            assert limited.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "1500"
            assert "Retry-After" not in limited.headers

            statuses = []
            for _ in range(100):  # bounded: the 1.5 s window frees up well within 5 s
                await asyncio.sleep(0.05)
                statuses.append((await http.get(f"{CONTACTS}/404")).status_code)
                if statuses[-1] != 429:
                    break
            assert statuses[-1] == 404


async def test_drop_response_after_commit_gives_a_transport_error_yet_the_record_exists() -> None:
    plan = FaultPlan.model_validate(
        {"rules": [{"method": "POST", "path": CONTACTS, "fault": "drop_response_after_commit"}]}
    )
    sandbox = HubSpotSandbox(token=TOKEN, faults=plan)
    with SandboxServer(sandbox.app()) as server:
        async with over_http(server) as http:
            with pytest.raises(httpx.TransportError):
                await http.post(CONTACTS, json={"properties": {"email": "dropped@example.com"}})

            assert [record["properties"]["email"] for record in sandbox.records("contacts")] == [
                "dropped@example.com"
            ]
            # The client's retry meets the committed write, exactly as it would against HubSpot.
            retry = await http.post(CONTACTS, json={"properties": {"email": "dropped@example.com"}})
            assert retry.status_code == 409
    assert sandbox.request_log[0] == ("POST", CONTACTS, 201)


# --- authentication and correlation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}]
)
async def test_request_without_the_bearer_token_gets_401(
    sandbox: HubSpotSandbox, headers: dict[str, str]
) -> None:
    async with in_process(sandbox, headers) as http:
        response = await http.get(f"{CONTACTS}/1001")
    body = assert_hubspot_error(response, 401, "INVALID_AUTHENTICATION")
    assert body["message"].startswith("Authentication credentials not found.")
    assert "X-HubSpot-RateLimit-Remaining" not in response.headers


async def test_every_response_carries_a_correlation_id_that_error_bodies_repeat(
    client: httpx.AsyncClient,
) -> None:
    ok = await client.get("/crm/v3/properties/contacts")
    missing = await client.get(f"{CONTACTS}/999")
    assert ok.headers["X-HubSpot-Correlation-Id"] != missing.headers["X-HubSpot-Correlation-Id"]
    assert missing.json()["correlationId"] == missing.headers["X-HubSpot-Correlation-Id"]


# --- single-record reads and writes ------------------------------------------------------------------


async def test_read_by_email_id_property_is_case_insensitive(client: httpx.AsyncClient) -> None:
    await create(client, "contacts", email="mixed@Example.com")
    response = await client.get(f"{CONTACTS}/MIXED@example.COM", params={"idProperty": "email"})
    assert response.status_code == 200
    assert response.json()["id"] == "1001"


async def test_read_returns_requested_properties_with_nulls_plus_system_ones(
    client: httpx.AsyncClient,
) -> None:
    await create(client, "contacts", email="a@example.com", firstname="Ann", city="Paris")
    default = (await client.get(f"{CONTACTS}/1001")).json()["properties"]
    assert set(default) == {
        "email",
        "firstname",
        "lastname",
        "createdate",
        "lastmodifieddate",
        "hs_object_id",
    }
    assert default["lastname"] is None

    requested = await client.get(
        f"{CONTACTS}/1001", params={"properties": ["city", "phone", "no_such_property"]}
    )
    assert requested.json()["properties"] == {
        "city": "Paris",
        "phone": None,
        "createdate": default["createdate"],
        "lastmodifieddate": default["lastmodifieddate"],
        "hs_object_id": "1001",
    }


async def test_engagements_and_deals_use_hubspots_own_timestamp_names(client: httpx.AsyncClient) -> None:
    call = await create(client, "calls", hs_timestamp="1700000000000", hs_call_body="Hello")
    assert {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"} <= set(call["properties"])
    assert call["properties"]["hs_timestamp"] == "2023-11-14T22:13:20.000Z"
    deal = await create(client, "deals", dealname="Big", amount=1500)
    assert deal["properties"]["amount"] == "1500"
    assert {"createdate", "hs_lastmodifieddate"} <= set(deal["properties"])


async def test_missing_record_gets_404_object_not_found(client: httpx.AsyncClient) -> None:
    body = assert_hubspot_error(await client.get(f"{CONTACTS}/999"), 404, "OBJECT_NOT_FOUND")
    assert body["message"] == "resource not found"


async def test_unknown_object_type_gets_400(client: httpx.AsyncClient) -> None:
    body = assert_hubspot_error(await client.get("/crm/v3/objects/widgets/1"), 400, "VALIDATION_ERROR")
    assert body["message"] == "Unable to infer object type from: widgets"


async def test_duplicate_email_gets_409_with_the_existing_id_in_the_message(
    client: httpx.AsyncClient,
) -> None:
    first = await create(client, "contacts", email="dup@example.com")
    response = await client.post(CONTACTS, json={"properties": {"email": "DUP@example.com"}})
    body = assert_hubspot_error(response, 409, "CONFLICT")
    assert body["message"] == f"Contact already exists. Existing ID: {first['id']}"
    assert set(body) == {"status", "message", "correlationId", "category"}


async def test_patch_to_another_contacts_email_gets_409(client: httpx.AsyncClient) -> None:
    await create(client, "contacts", email="one@example.com")
    await create(client, "contacts", email="two@example.com")
    response = await client.patch(
        f"{CONTACTS}/two@example.com",
        params={"idProperty": "email"},
        json={"properties": {"email": "ONE@example.com"}},
    )
    body = assert_hubspot_error(response, 409, "CONFLICT")
    assert body["message"] == "Contact already exists. Existing ID: 1001"


async def test_unknown_property_gets_400_property_doesnt_exist(client: httpx.AsyncClient) -> None:
    response = await client.post(
        CONTACTS, json={"properties": {"email": "a@example.com", "favourite_colour": "blue"}}
    )
    body = assert_hubspot_error(response, 400, "VALIDATION_ERROR")
    assert body["errors"] == [
        {
            "message": 'Property "favourite_colour" does not exist',
            "code": "PROPERTY_DOESNT_EXIST",
            "context": {"propertyName": ["favourite_colour"]},
        }
    ]
    assert body["message"].startswith("Property values were not valid: ")
    assert "favourite_colour" in body["message"]


@pytest.mark.parametrize(
    ("object_type", "properties", "code"),
    [
        ("calls", {"hs_call_body": "no timestamp"}, "REQUIRED_PROPERTY"),
        ("notes", {"hs_note_body": "no timestamp"}, "REQUIRED_PROPERTY"),
        ("tasks", {"hs_task_subject": "no timestamp"}, "REQUIRED_PROPERTY"),
        ("calls", {"hs_timestamp": "yesterday"}, "INVALID_DATE"),
        ("deals", {"amount": "lots"}, "INVALID_INTEGER"),
        ("contacts", {"email": "not-an-email"}, "INVALID_EMAIL"),
        ("contacts", {"hs_object_id": "5"}, "READ_ONLY_VALUE"),
    ],
)
async def test_invalid_property_values_get_400_validation_error(
    client: httpx.AsyncClient, object_type: str, properties: dict[str, str], code: str
) -> None:
    response = await client.post(f"/crm/v3/objects/{object_type}", json={"properties": properties})
    body = assert_hubspot_error(response, 400, "VALIDATION_ERROR")
    assert [error["code"] for error in body["errors"]] == [code]


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"properties": "x"}', b"\xff"])
async def test_malformed_bodies_get_400_never_500(client: httpx.AsyncClient, content: bytes) -> None:
    assert_hubspot_error(await client.post(CONTACTS, content=content), 400, "VALIDATION_ERROR")


async def test_patch_without_properties_gets_400(client: httpx.AsyncClient) -> None:
    await create(client, "contacts", email="a@example.com")
    body = assert_hubspot_error(await client.patch(f"{CONTACTS}/1001", json={}), 400, "VALIDATION_ERROR")
    assert body["message"] == "No properties found to update, please provide at least one."


async def test_delete_archives_the_record_for_reads_and_search_and_frees_the_email(
    client: httpx.AsyncClient, sandbox: HubSpotSandbox
) -> None:
    await create(client, "contacts", email="gone@example.com")
    assert (await client.delete(f"{CONTACTS}/1001")).status_code == 204
    assert (await client.get(f"{CONTACTS}/1001")).status_code == 404
    assert (await search(client, "contacts", filterGroups=[eq("email", "gone@example.com")])).json()[
        "total"
    ] == 0
    assert (await create(client, "contacts", email="gone@example.com"))["id"] == "1002"
    assert [record["archived"] for record in sandbox.records("contacts")] == [True, False]


# --- custom properties -------------------------------------------------------------------------------


async def test_custom_property_is_created_listed_read_and_conflicts_when_recreated(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/crm/v3/properties/calls", json=unique_property("external_call_id"))
    assert created.status_code == 201
    assert created.json()["hasUniqueValue"] is True
    assert created.json()["name"] == "external_call_id"

    listed = (await client.get("/crm/v3/properties/calls")).json()["results"]
    assert "external_call_id" in {definition["name"] for definition in listed}
    assert (await client.get("/crm/v3/properties/calls/external_call_id")).json()["type"] == "string"
    assert_hubspot_error(await client.get("/crm/v3/properties/calls/nothing_here"), 404, "OBJECT_NOT_FOUND")
    again = await client.post("/crm/v3/properties/calls", json=unique_property("external_call_id"))
    assert again.status_code == 409
    assert (await client.post("/crm/v3/properties/calls", json={"name": "x"})).status_code == 400


async def test_unique_custom_property_rejects_a_second_record_with_the_same_value(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/crm/v3/properties/calls", json=unique_property("external_call_id"))
    first = await create(client, "calls", hs_timestamp="2024-05-01T10:00:00Z", external_call_id="vapi-1")
    response = await client.post(
        "/crm/v3/objects/calls",
        json={"properties": {"hs_timestamp": "2024-05-01T11:00:00Z", "external_call_id": "vapi-1"}},
    )
    body = assert_hubspot_error(response, 409, "CONFLICT")
    assert body["message"] == f"Call already exists. Existing ID: {first['id']}"
    by_key = await client.get("/crm/v3/objects/calls/vapi-1", params={"idProperty": "external_call_id"})
    assert by_key.json()["id"] == first["id"]


async def test_id_property_must_be_a_unique_property(client: httpx.AsyncClient) -> None:
    await create(client, "contacts", email="a@example.com", firstname="Ann")
    response = await client.get(f"{CONTACTS}/Ann", params={"idProperty": "firstname"})
    assert_hubspot_error(response, 400, "VALIDATION_ERROR")


# --- batch -------------------------------------------------------------------------------------------


async def test_batch_upsert_reports_new_true_then_false(client: httpx.AsyncClient) -> None:
    def upsert(email: str, firstname: str) -> dict[str, Any]:
        return {"inputs": [{"id": email, "idProperty": "email", "properties": {"firstname": firstname}}]}

    first = await client.post(f"{CONTACTS}/batch/upsert", json=upsert("up@example.com", "A"))
    assert first.status_code == 200
    assert first.json()["status"] == "COMPLETE"
    (created,) = first.json()["results"]
    assert created["new"] is True
    assert created["properties"]["email"] == "up@example.com"

    second = await client.post(f"{CONTACTS}/batch/upsert", json=upsert("UP@example.com", "B"))
    (updated,) = second.json()["results"]
    assert updated["new"] is False
    assert updated["id"] == created["id"]
    assert updated["properties"]["firstname"] == "B"
    assert {"startedAt", "completedAt"} <= set(second.json())


@pytest.mark.parametrize("action", ["read", "create", "update", "upsert", "archive"])
async def test_batch_over_the_input_limit_gets_400(action: str) -> None:
    inputs = [{"id": str(n), "idProperty": "email", "properties": {}} for n in range(3)]
    async with in_process(HubSpotSandbox(token=TOKEN, batch_limit=2)) as http:
        response = await http.post(f"{CONTACTS}/batch/{action}", json={"inputs": inputs})
    assert_hubspot_error(response, 400, "VALIDATION_ERROR")


async def test_batch_create_email_conflict_fails_the_whole_batch_without_trace_ids(
    client: httpx.AsyncClient, sandbox: HubSpotSandbox
) -> None:
    await create(client, "contacts", email="taken@example.com")
    inputs = [{"properties": {"email": "new@example.com"}}, {"properties": {"email": "taken@example.com"}}]
    response = await client.post(f"{CONTACTS}/batch/create", json={"inputs": inputs})
    body = assert_hubspot_error(response, 409, "CONFLICT")
    assert body["message"] == "Contact already exists. Existing ID: 1001"
    assert len(sandbox.records("contacts")) == 1


async def test_batch_create_with_unique_trace_ids_creates_the_rest_and_answers_207(
    client: httpx.AsyncClient, sandbox: HubSpotSandbox
) -> None:
    await create(client, "contacts", email="taken@example.com")
    inputs = [
        {"properties": {"email": "new@example.com"}, "objectWriteTraceId": "t-1"},
        {"properties": {"email": "taken@example.com"}, "objectWriteTraceId": "t-2"},
    ]
    response = await client.post(f"{CONTACTS}/batch/create", json={"inputs": inputs})
    assert response.status_code == 207
    body = response.json()
    assert body["numErrors"] == 1
    assert [result["objectWriteTraceId"] for result in body["results"]] == ["t-1"]
    (error,) = body["errors"]
    assert error["status"] == "error"
    assert error["category"] == "CONFLICT"
    assert error["message"] == "Contact already exists. Existing ID: 1001"
    assert error["context"] == {"objectWriteTraceId": ["t-2"]}
    assert len(sandbox.records("contacts")) == 2


async def test_batch_create_with_repeated_trace_ids_is_all_or_nothing(
    client: httpx.AsyncClient, sandbox: HubSpotSandbox
) -> None:
    await create(client, "contacts", email="taken@example.com")
    inputs = [
        {"properties": {"email": "new@example.com"}, "objectWriteTraceId": "same"},
        {"properties": {"email": "taken@example.com"}, "objectWriteTraceId": "same"},
    ]
    assert (await client.post(f"{CONTACTS}/batch/create", json={"inputs": inputs})).status_code == 409
    assert len(sandbox.records("contacts")) == 1


async def test_batch_create_all_ok_answers_201(client: httpx.AsyncClient) -> None:
    inputs = [{"properties": {"email": f"{n}@example.com"}} for n in range(3)]
    response = await client.post(f"{CONTACTS}/batch/create", json={"inputs": inputs})
    assert response.status_code == 201
    assert [result["id"] for result in response.json()["results"]] == ["1001", "1002", "1003"]


async def test_batch_read_lists_missing_ids_in_a_207(client: httpx.AsyncClient) -> None:
    await create(client, "contacts", email="a@example.com")
    body = {
        "inputs": [{"id": "a@example.com"}, {"id": "b@example.com"}],
        "idProperty": "email",
        "properties": ["email"],
    }
    response = await client.post(f"{CONTACTS}/batch/read", json=body)
    assert response.status_code == 207
    assert [result["id"] for result in response.json()["results"]] == ["1001"]
    (error,) = response.json()["errors"]
    assert error["category"] == "OBJECT_NOT_FOUND"
    assert error["context"] == {"ids": ["b@example.com"]}


async def test_batch_update_applies_changes_and_rejects_duplicate_ids(client: httpx.AsyncClient) -> None:
    await create(client, "contacts", email="a@example.com")
    inputs = [{"id": "1001", "properties": {"city": "Oslo"}}]
    update = await client.post(f"{CONTACTS}/batch/update", json={"inputs": inputs})
    assert update.status_code == 200
    assert update.json()["results"][0]["properties"]["city"] == "Oslo"
    duplicate = await client.post(f"{CONTACTS}/batch/update", json={"inputs": inputs * 2})
    assert_hubspot_error(duplicate, 400, "VALIDATION_ERROR")


async def test_batch_archive_answers_204_and_ignores_unknown_ids(
    client: httpx.AsyncClient, sandbox: HubSpotSandbox
) -> None:
    await create(client, "contacts", email="a@example.com")
    response = await client.post(
        f"{CONTACTS}/batch/archive", json={"inputs": [{"id": "1001"}, {"id": "999"}]}
    )
    assert response.status_code == 204
    assert [record["archived"] for record in sandbox.records("contacts")] == [True]


# --- search ------------------------------------------------------------------------------------------


@pytest.fixture
async def people(client: httpx.AsyncClient) -> httpx.AsyncClient:
    await create(client, "contacts", email="ann@example.com", firstname="Ann", lastname="Smith", city="Paris")
    await create(
        client,
        "contacts",
        email="bob@example.com",
        firstname="Bob",
        lastname="Smith-Jones",
        phone="(415) 555-0101",
    )
    await create(client, "contacts", email="cat@other.org", firstname="Cat", lastname="Brown", city="Berlin")
    for name, amount in (("small", 100), ("medium", 250), ("large", 1000)):
        await create(client, "deals", dealname=name, amount=amount)
    for title, timestamp in (("january", "2024-01-15T09:00:00Z"), ("june", "1717232400000")):
        await create(client, "calls", hs_call_title=title, hs_timestamp=timestamp)
    return client


@pytest.mark.parametrize(
    ("object_type", "search_filter", "expected"),
    [
        ("contacts", {"propertyName": "email", "operator": "EQ", "value": "ANN@example.com"}, ["Ann"]),
        ("contacts", {"propertyName": "firstname", "operator": "EQ", "value": "ann"}, []),
        ("contacts", {"propertyName": "phone", "operator": "EQ", "value": "4155550101"}, []),
        ("contacts", {"propertyName": "phone", "operator": "EQ", "value": "(415) 555-0101"}, ["Bob"]),
        ("contacts", {"propertyName": "firstname", "operator": "NEQ", "value": "Ann"}, ["Bob", "Cat"]),
        (
            "contacts",
            {"propertyName": "firstname", "operator": "IN", "values": ["Ann", "Cat"]},
            ["Ann", "Cat"],
        ),
        ("contacts", {"propertyName": "firstname", "operator": "NOT_IN", "values": ["Ann"]}, ["Bob", "Cat"]),
        ("contacts", {"propertyName": "city", "operator": "HAS_PROPERTY"}, ["Ann", "Cat"]),
        ("contacts", {"propertyName": "city", "operator": "NOT_HAS_PROPERTY"}, ["Bob"]),
        (
            "contacts",
            {"propertyName": "lastname", "operator": "CONTAINS_TOKEN", "value": "smith"},
            ["Ann", "Bob"],
        ),
        (
            "contacts",
            {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com"},
            ["Ann", "Bob"],
        ),
        ("deals", {"propertyName": "amount", "operator": "GT", "value": "100"}, ["medium", "large"]),
        ("deals", {"propertyName": "amount", "operator": "GTE", "value": 250}, ["medium", "large"]),
        ("deals", {"propertyName": "amount", "operator": "LT", "value": "1000"}, ["small", "medium"]),
        ("deals", {"propertyName": "amount", "operator": "LTE", "value": "100"}, ["small"]),
        (
            "deals",
            {"propertyName": "amount", "operator": "BETWEEN", "value": 100, "highValue": 250},
            ["small", "medium"],
        ),
        (
            "contacts",
            {"propertyName": "lastname", "operator": "NOT_CONTAINS_TOKEN", "value": "smith"},
            ["Cat"],
        ),
        # Dates compare as instants whichever accepted form was written or filtered with.
        (
            "calls",
            {"propertyName": "hs_timestamp", "operator": "GT", "value": "1704067200000"},
            ["january", "june"],
        ),
        (
            "calls",
            {"propertyName": "hs_timestamp", "operator": "GTE", "value": "2024-06-01T09:00:00Z"},
            ["june"],
        ),
        (
            "calls",
            {"propertyName": "hs_timestamp", "operator": "EQ", "value": "2024-01-15T10:00:00+01:00"},
            ["january"],
        ),
    ],
)
async def test_search_operators(
    people: httpx.AsyncClient, object_type: str, search_filter: dict[str, Any], expected: list[str]
) -> None:
    label = {"contacts": "firstname", "deals": "dealname", "calls": "hs_call_title"}[object_type]
    response = await search(
        people, object_type, filterGroups=[{"filters": [search_filter]}], properties=[label]
    )
    assert response.status_code == 200, response.text
    assert [result["properties"][label] for result in response.json()["results"]] == expected
    assert response.json()["total"] == len(expected)


async def test_search_ors_filter_groups_and_ands_filters_within_a_group(people: httpx.AsyncClient) -> None:
    smith_with_city = {
        "filters": [
            {"propertyName": "lastname", "operator": "CONTAINS_TOKEN", "value": "smith"},
            {"propertyName": "city", "operator": "HAS_PROPERTY"},
        ]
    }
    response = await search(
        people, "contacts", filterGroups=[smith_with_city, eq("firstname", "Cat")], properties=["firstname"]
    )
    assert [result["properties"]["firstname"] for result in response.json()["results"]] == ["Ann", "Cat"]


async def test_search_pages_with_the_after_cursor_and_sorts(people: httpx.AsyncClient) -> None:
    by_name = [{"propertyName": "firstname", "direction": "DESCENDING"}]
    first = (await search(people, "contacts", limit=2, sorts=by_name)).json()
    assert first["total"] == 3
    assert [result["properties"]["firstname"] for result in first["results"]] == ["Cat", "Bob"]

    last = (
        await search(people, "contacts", limit=2, after=first["paging"]["next"]["after"], sorts=by_name)
    ).json()
    assert [result["properties"]["firstname"] for result in last["results"]] == ["Ann"]
    assert "paging" not in last


async def test_search_limit_above_200_gets_400(client: httpx.AsyncClient) -> None:
    assert_hubspot_error(await search(client, "contacts", limit=201), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("groups", "filters_per_group", "status"),
    [(5, 3, 200), (6, 1, 400), (1, 7, 400), (4, 5, 400)],
)
async def test_search_filter_limits_are_5_groups_6_filters_each_18_in_total(
    groups: int, filters_per_group: int, status: int
) -> None:
    group = {"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * filters_per_group}
    async with in_process(HubSpotSandbox(token=TOKEN, search_per_second=100)) as http:
        assert (await search(http, "contacts", filterGroups=[group] * groups)).status_code == status


async def test_search_filter_limits_are_configurable() -> None:
    group = eq("email", "a@example.com")
    async with in_process(HubSpotSandbox(token=TOKEN, max_filter_groups=1)) as http:
        assert (await search(http, "contacts", filterGroups=[group, group])).status_code == 400


async def test_search_lags_new_and_updated_records_but_direct_reads_do_not() -> None:
    by_email = [eq("email", "lag@example.com")]
    async with in_process(HubSpotSandbox(token=TOKEN, search_lag_s=0.2)) as http:
        await create(http, "contacts", email="lag@example.com", firstname="Old")
        assert (await search(http, "contacts", filterGroups=by_email)).json()["total"] == 0
        assert (await http.get(f"{CONTACTS}/1001")).status_code == 200

        await asyncio.sleep(0.3)
        await http.patch(f"{CONTACTS}/1001", json={"properties": {"firstname": "New"}})
        stale = (await search(http, "contacts", filterGroups=by_email)).json()
        assert stale["results"][0]["properties"]["firstname"] == "Old"

        await asyncio.sleep(0.3)
        fresh = (await search(http, "contacts", filterGroups=by_email)).json()
        assert fresh["results"][0]["properties"]["firstname"] == "New"


# --- rate limits -------------------------------------------------------------------------------------


async def test_search_has_its_own_secondly_limit_and_no_rate_headers() -> None:
    async with in_process(HubSpotSandbox(token=TOKEN, search_per_second=2, ten_second_max=1)) as http:
        await http.get(f"{CONTACTS}/1")  # fills the ten-second window, which search is exempt from
        answers = [await search(http, "contacts") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    body = answers[2].json()
    assert body["policyName"] == "SECONDLY"
    assert body["message"] == "You have reached your secondly limit."
    assert body["errorType"] == "RATE_LIMIT"
    assert body["correlationId"] == answers[2].headers["X-HubSpot-Correlation-Id"]
    for answer in answers:
        assert not [name for name in answer.headers if name.lower().startswith("x-hubspot-ratelimit")]


async def test_daily_budget_exhausted_answers_429_daily() -> None:
    async with in_process(HubSpotSandbox(token=TOKEN, daily_max=2)) as http:
        first = await http.get(f"{CONTACTS}/1")
        await http.get(f"{CONTACTS}/1")
        limited = await http.get(f"{CONTACTS}/1")
    assert first.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "1"
    assert limited.status_code == 429
    assert limited.json()["policyName"] == "DAILY"
    assert limited.json()["message"] == "You have reached your daily limit."
    assert limited.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


async def test_reset_rate_windows_forgets_usage() -> None:
    sandbox = HubSpotSandbox(token=TOKEN, ten_second_max=1)
    async with in_process(sandbox) as http:
        await http.get(f"{CONTACTS}/1")
        assert (await http.get(f"{CONTACTS}/1")).status_code == 429
        sandbox.reset_rate_windows()
        assert (await http.get(f"{CONTACTS}/1")).status_code == 404


# --- associations ------------------------------------------------------------------------------------


async def test_inline_associations_on_create_are_visible_from_both_sides(client: httpx.AsyncClient) -> None:
    contact = await create(client, "contacts", email="a@example.com")
    call_body = {
        "properties": {"hs_timestamp": "2024-05-01T10:00:00Z"},
        "associations": [{"to": {"id": contact["id"]}, "types": [CALL_TO_CONTACT]}],
    }
    call = (await client.post("/crm/v3/objects/calls", json=call_body)).json()

    from_contact = (await client.get(f"/crm/v4/objects/contacts/{contact['id']}/associations/calls")).json()
    assert from_contact == {
        "results": [
            {
                "toObjectId": int(call["id"]),
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 193, "label": None}],
            }
        ]
    }
    from_call = (await client.get(f"/crm/v4/objects/calls/{call['id']}/associations/contacts")).json()
    assert from_call["results"][0]["associationTypes"][0]["typeId"] == 194


async def test_inline_association_to_a_missing_record_fails_the_create(
    client: httpx.AsyncClient, sandbox: HubSpotSandbox
) -> None:
    call_body = {
        "properties": {"hs_timestamp": "2024-05-01T10:00:00Z"},
        "associations": [{"to": {"id": "999"}, "types": [CALL_TO_CONTACT]}],
    }
    assert_hubspot_error(await client.post("/crm/v3/objects/calls", json=call_body), 400, "VALIDATION_ERROR")
    assert sandbox.records("calls") == []


async def test_default_association_put_links_both_directions(client: httpx.AsyncClient) -> None:
    contact = await create(client, "contacts", email="a@example.com")
    company = await create(client, "companies", name="Acme", domain="acme.test")
    url = f"/crm/v4/objects/contacts/{contact['id']}/associations/default/companies/{company['id']}"
    response = await client.put(url)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "COMPLETE"
    assert body["results"] == [
        {
            "from": {"id": contact["id"]},
            "to": {"id": company["id"]},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279},
        },
        {
            "from": {"id": company["id"]},
            "to": {"id": contact["id"]},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280},
        },
    ]
    listed = (await client.get(f"/crm/v4/objects/companies/{company['id']}/associations/contacts")).json()
    assert listed["results"][0]["toObjectId"] == int(contact["id"])


async def test_association_with_a_missing_record_gets_404(client: httpx.AsyncClient) -> None:
    contact = await create(client, "contacts", email="a@example.com")
    put = await client.put(f"/crm/v4/objects/contacts/{contact['id']}/associations/default/companies/999")
    assert_hubspot_error(put, 404, "OBJECT_NOT_FOUND")
    listed = await client.get("/crm/v4/objects/contacts/999/associations/companies")
    assert_hubspot_error(listed, 404, "OBJECT_NOT_FOUND")


# --- injected status faults --------------------------------------------------------------------------


async def test_status_fault_hits_exactly_times_requests_after_skip() -> None:
    rule = {"method": "POST", "path": CONTACTS, "fault": "status", "status": 503, "skip": 1, "times": 2}
    sandbox = HubSpotSandbox(token=TOKEN, faults=FaultPlan.model_validate({"rules": [rule]}))
    async with in_process(sandbox) as http:
        answers = [await http.post(CONTACTS, json={"properties": {"firstname": str(n)}}) for n in range(4)]
    assert [answer.status_code for answer in answers] == [201, 503, 503, 201]
    assert assert_hubspot_error(answers[1], 503, "INTERNAL_ERROR")["message"] == "Service Unavailable"
    assert len(sandbox.records("contacts")) == 2  # a status fault never touches state


async def test_injected_429_looks_like_the_ten_second_limit() -> None:
    plan = FaultPlan.model_validate(
        {"rules": [{"path": "/crm/v3/objects/.*", "fault": "status", "status": 429}]}
    )
    async with in_process(HubSpotSandbox(token=TOKEN, faults=plan)) as http:
        limited = await http.get(f"{CONTACTS}/1")
        after = await http.get(f"{CONTACTS}/1")
    assert limited.status_code == 429
    assert limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in limited.headers
    assert after.status_code == 404
