"""`simple-salesforce` against the Salesforce emulator: SOQL query, create, upsert on an External ID,
describe, and its exception classes for Salesforce's error shapes.

simple-salesforce always builds `https://` URLs from the instance; a transport adapter on its session
sends them as plain HTTP to the emulator on 127.0.0.1, so nothing ever leaves the machine.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from callsync_sandbox.salesforce import SalesforceSandbox
from callsync_sandbox.server import SandboxServer
from tests.sdk.conftest import SALESFORCE_TOKEN

Emulator = tuple[SalesforceSandbox, SandboxServer]
VERSION = "62.0"


class _PlainHttp(HTTPAdapter):
    """Sends simple-salesforce's https:// requests to the loopback emulator over plain HTTP."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        assert request.url is not None and request.url.startswith("https://127.0.0.1:")
        request.url = "http://" + request.url.removeprefix("https://")
        return super().send(request, *args, **kwargs)


def sdk(server: SandboxServer, token: str = SALESFORCE_TOKEN) -> Salesforce:
    session = requests.Session()
    session.mount(f"https://127.0.0.1:{server.port}/", _PlainHttp())
    return Salesforce(
        instance_url=f"https://127.0.0.1:{server.port}", session_id=token, version=VERSION, session=session
    )


def test_create_then_query_and_get(salesforce: Emulator) -> None:
    _, server = salesforce
    sf = sdk(server)
    created = sf.Lead.create({"LastName": "Whitfield", "Company": "Northwind", "Email": "dana@northwind.com"})
    assert created["success"] is True and created["id"].startswith("00Q") and len(created["id"]) == 18

    result = sf.query("SELECT Id, Name, Email FROM Lead WHERE Email = 'DANA@northwind.com'")
    assert result["totalSize"] == 1 and result["done"] is True
    assert result["records"][0]["Id"] == created["id"] and result["records"][0]["Name"] == "Whitfield"
    assert sf.query_all("SELECT Id FROM Lead")["totalSize"] == 1
    assert sf.Lead.get(created["id"])["Company"] == "Northwind"


def test_upsert_on_an_external_id_creates_then_updates(salesforce: Emulator) -> None:
    sandbox, server = salesforce
    sf = sdk(server)
    key = "callsync_origin_call_id__c/call-42"
    assert sf.Contact.upsert(key, {"LastName": "Okafor", "Department": "Operations"}) == 201
    assert sf.Contact.upsert(key, {"HomePhone": "+14155550100"}) in (200, 204)
    (contact,) = sandbox.records("Contact")
    assert (contact["Department"], contact["HomePhone"]) == ("Operations", "+14155550100")
    by_key = sf.Contact.get_by_custom_id("callsync_origin_call_id__c", "call-42")
    assert by_key["Id"] == contact["Id"]


def test_describe_reports_the_standard_and_external_id_fields(salesforce: Emulator) -> None:
    _, server = salesforce
    described = sdk(server).Contact.describe()
    fields = {field["name"]: field for field in described["fields"]}
    assert described["name"] == "Contact" and described["keyPrefix"] == "003"
    assert {"Department", "Birthdate", "HomePhone", "OtherPhone", "Fax", "AssistantName"} <= set(fields)
    assert fields["Birthdate"]["type"] == "date"
    assert fields["callsync_origin_call_id__c"]["externalId"] is True


def test_errors_come_back_as_simple_salesforces_exceptions_with_salesforces_body(
    salesforce: Emulator,
) -> None:
    _, server = salesforce
    sf = sdk(server)
    with pytest.raises(SalesforceMalformedRequest) as missing_field:
        sf.Lead.create({"LastName": "No Company"})
    assert missing_field.value.status == 400
    assert missing_field.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert missing_field.value.content[0]["fields"] == ["Company"]

    with pytest.raises(SalesforceMalformedRequest) as bad_soql:
        sf.query("SELECT Nope FROM Lead")
    assert bad_soql.value.content[0]["errorCode"] == "INVALID_FIELD"

    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get("00QDn0000000999AAA")

    with pytest.raises(SalesforceExpiredSession) as expired:
        sdk(server, token="revoked").query("SELECT Id FROM Lead")
    assert expired.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_an_external_id_held_by_two_records_answers_300(salesforce: Emulator) -> None:
    _, server = salesforce
    sf = sdk(server)
    # Email is an idLookup field but not unique: two leads may share it, and an upsert on it is ambiguous.
    for name in ("A", "B"):
        sf.Lead.create({"LastName": name, "Company": "X", "Email": "shared@x.com"})
    with pytest.raises(SalesforceMoreThanOneRecord) as ambiguous:
        sf.Lead.upsert("Email/shared@x.com", {"Title": "CEO"})
    assert ambiguous.value.status == 300


def test_a_used_up_api_allocation_raises_refused_request_403() -> None:
    sandbox = SalesforceSandbox(token=SALESFORCE_TOKEN, daily_max=1)
    with SandboxServer(sandbox.app()) as server:
        sf = sdk(server)
        sf.query("SELECT Id FROM Lead")
        with pytest.raises(SalesforceRefusedRequest) as refused:
            sf.query("SELECT Id FROM Lead")
    assert refused.value.status == 403
    assert refused.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
