"""HubSpot's official Python SDK (`hubspot-api-client`) against the HubSpot emulator: its generated
models must deserialize every answer, and its ApiException must carry HubSpot's status and body."""

from __future__ import annotations

import json

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer
from tests.sdk.conftest import HUBSPOT_TOKEN

Emulator = tuple[HubSpotSandbox, SandboxServer]


def sdk(server: SandboxServer, token: str = HUBSPOT_TOKEN) -> HubSpot:
    return HubSpot(access_token=token, host=server.base_url)


def by_email(email: str) -> PublicObjectSearchRequest:
    return PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}],
        properties=["email", "firstname", "phone"],
    )


def test_create_then_read_by_id_and_by_email_id_property(hubspot: Emulator) -> None:
    _, server = hubspot
    contacts = sdk(server).crm.contacts
    created = contacts.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"email": "Dana@Northwind.com", "firstname": "Dana", "phone": "+14155550123"}
        )
    )
    assert created.id == "1001" and created.properties["email"] == "dana@northwind.com"
    assert created.created_at is not None and created.archived is False

    by_id = contacts.basic_api.get_by_id(created.id, properties=["firstname", "phone"])
    assert (by_id.properties["firstname"], by_id.properties["phone"]) == ("Dana", "+14155550123")
    by_key = contacts.basic_api.get_by_id("DANA@northwind.com", id_property="email")
    assert by_key.id == created.id


def test_update_and_search_by_email_see_the_new_value(hubspot: Emulator) -> None:
    _, server = hubspot
    contacts = sdk(server).crm.contacts
    created = contacts.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"email": "tom@harbor.com", "firstname": "Tom"}
        )
    )
    contacts.basic_api.update(
        created.id, simple_public_object_input=SimplePublicObjectInput(properties={"phone": "+15550100"})
    )
    found = contacts.search_api.do_search(public_object_search_request=by_email("tom@harbor.com"))
    assert found.total == 1
    assert found.results[0].id == created.id and found.results[0].properties["phone"] == "+15550100"
    assert contacts.search_api.do_search(public_object_search_request=by_email("nobody@x.com")).total == 0


def test_batch_create_and_batch_read_including_a_missing_id(hubspot: Emulator) -> None:
    _, server = hubspot
    contacts = sdk(server).crm.contacts
    created = contacts.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create=BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[{"properties": {"email": f"p{n}@example.com"}} for n in range(3)]
        )
    )
    assert created.status == "COMPLETE" and len(created.results) == 3
    ids = sorted(result.id for result in created.results)

    read = contacts.batch_api.read(
        batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
            inputs=[{"id": ids[0]}, {"id": "999999"}], properties=["email"], properties_with_history=[]
        )
    )
    # A 207: the SDK's "with errors" model, naming the missing id.
    assert [result.properties["email"] for result in read.results] == ["p0@example.com"]
    assert read.num_errors == 1 and read.errors[0].context == {"ids": ["999999"]}
    assert read.errors[0].category == "OBJECT_NOT_FOUND"


def test_list_pages_through_contacts(hubspot: Emulator) -> None:
    _, server = hubspot
    contacts = sdk(server).crm.contacts
    for n in range(3):
        contacts.basic_api.create(
            simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                properties={"email": f"l{n}@x.com"}
            )
        )
    page = contacts.basic_api.get_page(limit=2, properties=["email"])
    assert [result.properties["email"] for result in page.results] == ["l0@x.com", "l1@x.com"]
    rest = contacts.basic_api.get_page(limit=2, after=page.paging.next.after, properties=["email"])
    assert [result.properties["email"] for result in rest.results] == ["l2@x.com"] and rest.paging is None
    assert len(contacts.get_all()) == 3  # the SDK's own pager follows paging.next.after to the end


def test_duplicate_email_raises_api_exception_409_with_the_existing_id_in_the_body(hubspot: Emulator) -> None:
    _, server = hubspot
    contacts = sdk(server).crm.contacts
    body = SimplePublicObjectInputForCreate(properties={"email": "dup@example.com"})
    first = contacts.basic_api.create(simple_public_object_input_for_create=body)
    with pytest.raises(ApiException) as raised:
        contacts.basic_api.create(simple_public_object_input_for_create=body)
    assert raised.value.status == 409
    error = json.loads(raised.value.body)
    assert error["category"] == "CONFLICT" and error["message"].endswith(f"Existing ID: {first.id}")
    assert error["correlationId"] == raised.value.headers["X-HubSpot-Correlation-Id"]


def test_missing_record_and_unknown_property_raise_404_and_400(hubspot: Emulator) -> None:
    _, server = hubspot
    contacts = sdk(server).crm.contacts
    with pytest.raises(ApiException) as missing:
        contacts.basic_api.get_by_id("424242")
    assert missing.value.status == 404 and json.loads(missing.value.body)["category"] == "OBJECT_NOT_FOUND"
    with pytest.raises(ApiException) as invalid:
        contacts.basic_api.create(
            simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                properties={"no_such_thing": "x"}
            )
        )
    assert invalid.value.status == 400
    assert json.loads(invalid.value.body)["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"


def test_a_wrong_token_raises_api_exception_401(hubspot: Emulator) -> None:
    _, server = hubspot
    with pytest.raises(ApiException) as raised:
        sdk(server, token="wrong").crm.contacts.basic_api.get_page()
    assert raised.value.status == 401
    assert json.loads(raised.value.body)["category"] == "INVALID_AUTHENTICATION"


def test_rate_limited_request_raises_api_exception_429_with_hubspots_policy_and_headers() -> None:
    sandbox = HubSpotSandbox(token=HUBSPOT_TOKEN, ten_second_max=2)
    with SandboxServer(sandbox.app()) as server:
        contacts = sdk(server).crm.contacts
        for _ in range(2):
            contacts.basic_api.get_page()
        with pytest.raises(ApiException) as raised:
            contacts.basic_api.get_page()
    assert raised.value.status == 429
    body = json.loads(raised.value.body)
    assert (body["errorType"], body["policyName"]) == ("RATE_LIMIT", "TEN_SECONDLY_ROLLING")
    assert raised.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in raised.value.headers
