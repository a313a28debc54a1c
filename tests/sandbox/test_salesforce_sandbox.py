"""The Salesforce emulator answers with Salesforce's paths, shapes, status codes, limits and lead model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.salesforce import SalesforceSandbox
from callsync_sandbox.salesforce.schema import canonical_id, id18, object_for_id
from callsync_sandbox.salesforce.soql import parse as soql_parse
from callsync_sandbox.server import SandboxServer

TOKEN = "sf-token"
V = "/services/data/v62.0"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SPECS = Path(__file__).resolve().parents[3] / "shared" / "crm-specs" / "salesforce" / "postman-2021"


def client(sandbox: SalesforceSandbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app()), base_url="http://sf.test", headers=AUTH
    )


@pytest.fixture
def sandbox() -> SalesforceSandbox:
    return SalesforceSandbox(token=TOKEN)


@pytest.fixture
async def http(sandbox: SalesforceSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with client(sandbox) as c:
        yield c


async def create(http: httpx.AsyncClient, sobject: str, **fields: Any) -> str:
    response = await http.post(f"{V}/sobjects/{sobject}", json=fields)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["errors"] == []
    return str(body["id"])


async def query(http: httpx.AsyncClient, soql: str) -> httpx.Response:
    return await http.get(f"{V}/query", params={"q": soql})


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and body[0]["errorCode"] == code, body
    return dict(body[0])


def test_ids_are_18_characters_with_the_objects_key_prefix() -> None:
    assert id18("001Dn00000AbCdE") == "001Dn00000AbCdEIAV"  # one checksum letter per five characters
    assert canonical_id("00QDn0000000001") == id18("00QDn0000000001")
    assert canonical_id("not-an-id") is None
    assert object_for_id("00QDn0000000001MAA") == "Lead" and object_for_id("003Dn0000000001MAA") == "Contact"


async def test_versions_need_no_session_and_an_unknown_version_is_404(sandbox: SalesforceSandbox) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app()), base_url="http://x"
    ) as anon:
        versions = (await anon.get("/services/data")).json()
        assert {"label": "v62", "url": "/services/data/v62.0", "version": "62.0"} in versions
        error(await anon.get(f"{V}/sobjects"), 401, "INVALID_SESSION_ID")
    async with client(sandbox) as http:
        error(await http.get("/services/data/v99.0/sobjects"), 404, "NOT_FOUND")


async def test_create_answers_201_with_the_id_and_every_answer_carries_the_limit_header(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(f"{V}/sobjects/Lead", json={"LastName": "Whitfield", "Company": "Northwind"})
    assert response.status_code == 201
    record_id = response.json()["id"]
    assert record_id.startswith("00Q") and len(record_id) == 18
    assert response.headers["Location"] == f"{V}/sobjects/Lead/{record_id}"
    assert response.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    read = await http.get(f"{V}/sobjects/Lead/{record_id}", params={"fields": "Name,Status,IsConverted"})
    assert read.json() == {
        "attributes": {"type": "Lead", "url": f"{V}/sobjects/Lead/{record_id}"},
        "Name": "Whitfield",
        "Status": "Open - Not Contacted",
        "IsConverted": False,
    }


async def test_validation_errors_name_the_fields(http: httpx.AsyncClient) -> None:
    missing = error(
        await http.post(f"{V}/sobjects/Lead", json={"FirstName": "Dana"}), 400, "REQUIRED_FIELD_MISSING"
    )
    assert missing["fields"] == ["LastName", "Company"]
    error(
        await http.post(f"{V}/sobjects/Lead", json={"LastName": "W", "Company": "N", "Nope__c": 1}),
        400,
        "INVALID_FIELD",
    )
    bad = error(
        await http.post(f"{V}/sobjects/Contact", json={"LastName": "W", "Email": "not an email"}),
        400,
        "INVALID_EMAIL_ADDRESS",
    )
    assert bad["fields"] == ["Email"]
    error(
        await http.post(f"{V}/sobjects/Contact", json={"LastName": "W", "AccountId": "00QDn0000000001MAA"}),
        400,
        "MALFORMED_ID",
    )
    error(
        await http.post(f"{V}/sobjects/Lead", json={"LastName": "W", "Company": "N", "IsConverted": True}),
        400,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
    )
    error(await http.get(f"{V}/sobjects/Lead/00QDn0000000009MAA"), 404, "NOT_FOUND")


async def test_upsert_by_external_id_creates_then_updates_and_refuses_several(
    sandbox: SalesforceSandbox,
) -> None:
    sandbox = SalesforceSandbox(
        token=TOKEN,
        custom_fields={
            "Lead": [
                {"name": "callsync_origin_call_id__c", "externalId": True, "unique": True},
                {"name": "Legacy_Ref__c", "externalId": True},
            ]
        },
    )
    async with client(sandbox) as http:
        url = f"{V}/sobjects/Lead/callsync_origin_call_id__c/c-1"
        first = await http.patch(url, json={"LastName": "Lee", "Company": "Acme"})
        assert first.status_code == 201 and first.json()["created"] is True
        again = await http.patch(url, json={"Title": "CEO"})
        assert again.status_code == 200
        assert again.json() == {"id": first.json()["id"], "success": True, "errors": [], "created": False}
        assert len(sandbox.records("Lead")) == 1
        error(await http.patch(f"{url}x?updateOnly=true", json={"Title": "x"}), 404, "NOT_FOUND")
        for _ in range(2):
            await create(http, "Lead", LastName="Dup", Company="D", Legacy_Ref__c="L-1")
        several = await http.patch(f"{V}/sobjects/Lead/Legacy_Ref__c/L-1", json={"Title": "x"})
        assert several.status_code == 300 and len(several.json()) == 2
        error(await http.patch(f"{V}/sobjects/Lead/Company/Acme", json={}), 400, "INVALID_FIELD")


async def test_unique_field_refuses_a_second_record_with_duplicate_value(http: httpx.AsyncClient) -> None:
    first = await create(http, "Lead", LastName="A", Company="B", callsync_origin_call_id__c="c-9")
    dup = error(
        await http.post(
            f"{V}/sobjects/Lead", json={"LastName": "C", "Company": "D", "callsync_origin_call_id__c": "C-9"}
        ),
        400,
        "DUPLICATE_VALUE",
    )
    assert first in dup["message"]


async def test_duplicate_rules_block_or_alert_honouring_the_header() -> None:
    sandbox = SalesforceSandbox(token=TOKEN, duplicate_rules={"Lead": "block", "Contact": "alert"})
    async with client(sandbox) as http:
        existing = await create(http, "Lead", LastName="W", Company="N", Email="dana@northwind.com")
        lead = {"LastName": "W2", "Company": "N", "Email": "DANA@northwind.com"}
        blocked = error(await http.post(f"{V}/sobjects/Lead", json=lead), 400, "DUPLICATES_DETECTED")
        matches = blocked["duplicateResult"]["matchResults"][0]["matchRecords"]
        assert [m["record"]["Id"] for m in matches] == [existing]
        allow = {"Sforce-Duplicate-Rule-Header": "allowSave=true; includeRecordDetails=true"}
        error(await http.post(f"{V}/sobjects/Lead", json=lead, headers=allow), 400, "DUPLICATES_DETECTED")
        await create(http, "Contact", LastName="W", Email="dana@northwind.com")
        contact = {"LastName": "W2", "Email": "dana@northwind.com"}
        error(await http.post(f"{V}/sobjects/Contact", json=contact), 400, "DUPLICATES_DETECTED")
        assert (await http.post(f"{V}/sobjects/Contact", json=contact, headers=allow)).status_code == 201


async def test_soql_subset_with_escapes_relationships_order_and_limit(http: httpx.AsyncClient) -> None:
    account = await create(http, "Account", Name="Northwind")
    await create(http, "Contact", LastName="O'Brien", Email="ob@x.com", AccountId=account)
    await create(http, "Contact", LastName="Able", Email="able@x.com", Phone="(415) 555-0123")
    rows = (
        await query(http, "select id, lastname, Account.Name from CONTACT where LastName = 'o\\'brien'")
    ).json()
    assert rows["totalSize"] == 1
    (row,) = rows["records"]
    assert row["LastName"] == "O'Brien" and row["Account"]["Name"] == "Northwind"
    assert row["attributes"]["type"] == "Contact"
    ordered = (
        await query(
            http, "SELECT LastName FROM Contact WHERE Email LIKE '%@x.com' ORDER BY LastName DESC LIMIT 1"
        )
    ).json()
    assert [r["LastName"] for r in ordered["records"]] == ["O'Brien"]
    phone = "SELECT Id FROM Contact WHERE Phone IN ('+14155550123', '(415) 555-0123') OR (Email = null AND LastName != 'x')"
    assert (await query(http, phone)).json()["totalSize"] == 1
    none = (await query(http, "SELECT Id, Account.Name FROM Contact WHERE Account.Name = null")).json()
    assert none["totalSize"] == 1 and none["records"][0]["Account"] is None
    assert (await query(http, "SELECT COUNT() FROM Contact")).json()["totalSize"] == 2
    error(await query(http, "SELECT Id FROM Contact WHERE"), 400, "MALFORMED_QUERY")
    error(await query(http, "SELECT Id FROM Contact WHERE Email = 'unterminated"), 400, "MALFORMED_QUERY")
    error(await query(http, "SELECT Nope FROM Contact"), 400, "INVALID_FIELD")
    error(await query(http, "SELECT Id FROM Nope"), 400, "INVALID_TYPE")


async def test_a_converted_lead_stays_queryable_points_at_its_contact_and_refuses_updates(
    sandbox: SalesforceSandbox, http: httpx.AsyncClient
) -> None:
    lead = await create(
        http,
        "Lead",
        FirstName="Dana",
        LastName="Whitfield",
        Company="Northwind",
        Email="dana@northwind.com",
        Street="1 Main St",
        callsync_origin_call_id__c="c-1",
    )
    result = sandbox.convert_lead(lead, opportunity_name="Northwind renewal")
    rows = (
        await query(http, "SELECT IsConverted, ConvertedContactId, ConvertedContact.Email, Status FROM Lead")
    ).json()
    (row,) = rows["records"]
    assert row["IsConverted"] is True and row["ConvertedContactId"] == result["contactId"]
    assert row["ConvertedContact"]["Email"] == "dana@northwind.com" and row["Status"] == "Closed - Converted"
    contact = (await http.get(f"{V}/sobjects/Contact/{result['contactId']}")).json()
    assert contact["AccountId"] == result["accountId"] and contact["MailingStreet"] == "1 Main St"
    assert contact["callsync_origin_call_id__c"] == "c-1"
    roles = (await query(http, "SELECT ContactId, IsPrimary FROM OpportunityContactRole")).json()["records"]
    assert roles[0]["ContactId"] == result["contactId"] and roles[0]["IsPrimary"] is True
    error(
        await http.patch(f"{V}/sobjects/Lead/{lead}", json={"Title": "x"}),
        400,
        "CANNOT_UPDATE_CONVERTED_LEAD",
    )


async def test_collections_give_per_record_results_and_all_or_none_rolls_back(
    sandbox: SalesforceSandbox, http: httpx.AsyncClient
) -> None:
    good = {"attributes": {"type": "Lead"}, "LastName": "A", "Company": "B"}
    bad = {"attributes": {"type": "Lead"}, "LastName": "C"}
    mixed = (
        await http.post(f"{V}/composite/sobjects", json={"allOrNone": False, "records": [good, bad]})
    ).json()
    assert mixed[0]["success"] is True and mixed[1]["success"] is False
    assert mixed[1]["errors"] == [
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [Company]",
            "fields": ["Company"],
        }
    ]
    rolled = (
        await http.post(f"{V}/composite/sobjects", json={"allOrNone": True, "records": [good, bad]})
    ).json()
    assert rolled[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert len(sandbox.records("Lead")) == 1
    upsert = [
        {
            "attributes": {"type": "Lead"},
            "callsync_origin_call_id__c": f"c-{i}",
            "LastName": "L",
            "Company": "C",
        }
        for i in range(2)
    ]
    url = f"{V}/composite/sobjects/Lead/callsync_origin_call_id__c"
    first = (await http.patch(url, json={"allOrNone": False, "records": upsert})).json()
    again = (await http.patch(url, json={"allOrNone": False, "records": upsert})).json()
    assert [r["created"] for r in first] == [True, True] and [r["created"] for r in again] == [False, False]
    ids = ",".join(r["id"] for r in first)
    got = (await http.get(f"{V}/composite/sobjects/Lead", params={"ids": ids, "fields": "LastName"})).json()
    assert [g["LastName"] for g in got] == ["L", "L"]
    update = [{"attributes": {"type": "Lead"}, "id": first[0]["id"], "Title": "CEO"}]
    assert (await http.patch(f"{V}/composite/sobjects", json={"records": update})).json()[0][
        "success"
    ] is True
    too_many = {"records": [good] * 201}
    error(await http.post(f"{V}/composite/sobjects", json=too_many), 400, "EXCEEDED_ID_LIMIT")


async def test_a_collection_naming_an_unknown_field_is_refused_whole(
    sandbox: SalesforceSandbox, http: httpx.AsyncClient
) -> None:
    good = {"attributes": {"type": "Lead"}, "LastName": "A", "Company": "C"}
    bad = {**good, "LastName": "B", "Nope__c": "x"}
    response = await http.post(f"{V}/composite/sobjects", json={"allOrNone": False, "records": [good, bad]})
    assert "Nope__c" in error(response, 400, "INVALID_FIELD")["message"]
    assert sandbox.records("Lead") == [], "the body is read before any record is saved"


async def test_an_upsert_collection_naming_one_key_twice_saves_neither_of_those_records(
    sandbox: SalesforceSandbox, http: httpx.AsyncClient
) -> None:
    records = [
        {"attributes": {"type": "Lead"}, "callsync_origin_call_id__c": key, "LastName": "L", "Company": "C"}
        for key in ("c-1", "C-1", "c-2")
    ]
    url = f"{V}/composite/sobjects/Lead/callsync_origin_call_id__c"
    results = (await http.patch(url, json={"allOrNone": False, "records": records})).json()
    assert [r["success"] for r in results] == [False, False, True]
    assert results[0]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert [r["callsync_origin_call_id__c"] for r in sandbox.records("Lead")] == ["c-2"]


async def test_an_or_of_equalities_is_answered_from_the_indexes_not_a_scan(
    sandbox: SalesforceSandbox, http: httpx.AsyncClient
) -> None:
    ids = [await create(http, "Lead", LastName=f"L{i}", Company="C", Email=f"p{i}@x.com") for i in range(50)]
    await http.patch(f"{V}/sobjects/Lead/{ids[7]}", json={"Phone": "+14155550107"})
    soql = (
        "SELECT Id FROM Lead WHERE Email IN ('P3@x.com', 'p5@x.com') OR Phone = '+14155550107' "
        "OR MobilePhone IN ('+1')"
    )
    rows = (await query(http, soql)).json()["records"]
    assert [r["Id"] for r in rows] == [ids[3], ids[5], ids[7]]
    org = sandbox.org
    with org.lock:
        parsed = soql_parse(soql)
        paths = {f: org._path("Lead", f) for f in ("Id", "Email", "Phone", "MobilePhone")}
        assert len(org._candidates("Lead", parsed.where, paths)) == 3, "looked up, not scanned"
        either = soql_parse("SELECT Id FROM Lead WHERE Email = 'p1@x.com' OR LastName LIKE 'L%'")
        assert len(org._candidates("Lead", either.where, {**paths, "LastName": ("LastName",)})) == 50


async def test_a_uri_longer_than_salesforce_takes_is_refused_414(http: httpx.AsyncClient) -> None:
    values = ", ".join(f"'+1415555{i:04d}'" for i in range(1500))
    response = await query(http, f"SELECT Id FROM Lead WHERE Phone IN ({values})")
    assert response.status_code == 414


async def test_composite_passes_references_and_rolls_back_with_all_or_none(
    sandbox: SalesforceSandbox, http: httpx.AsyncClient
) -> None:
    chain = [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "acc", "body": {"Name": "Zed"}},
        {
            "method": "POST",
            "url": f"{V}/sobjects/Contact",
            "referenceId": "con",
            "body": {"LastName": "Z", "AccountId": "@{acc.id}"},
        },
        {"method": "GET", "url": f"{V}/sobjects/Contact/@{{con.id}}?fields=AccountId", "referenceId": "read"},
    ]
    body = (await http.post(f"{V}/composite", json={"allOrNone": True, "compositeRequest": chain})).json()
    statuses = [r["httpStatusCode"] for r in body["compositeResponse"]]
    assert statuses == [201, 201, 200]
    assert body["compositeResponse"][2]["body"]["AccountId"] == body["compositeResponse"][0]["body"]["id"]
    failing = [*chain[:2], {"method": "POST", "url": f"{V}/sobjects/Lead", "referenceId": "bad", "body": {}}]
    body = (await http.post(f"{V}/composite", json={"allOrNone": True, "compositeRequest": failing})).json()
    assert [r["httpStatusCode"] for r in body["compositeResponse"]] == [400, 400, 400]
    assert body["compositeResponse"][0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert len(sandbox.records("Account")) == 1


async def test_daily_allocation_runs_out_with_403_request_limit_exceeded() -> None:
    sandbox = SalesforceSandbox(token=TOKEN, daily_max=3)
    async with client(sandbox) as http:
        for _ in range(3):
            assert (await http.get(f"{V}/limits")).status_code == 200
        refused = await http.get(f"{V}/limits")
        assert refused.json() == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
        assert refused.status_code == 403 and "Retry-After" not in refused.headers
        assert refused.headers["Sforce-Limit-Info"] == "api-usage=3/3"
        sandbox.reset_limits()
        limits = (await http.get(f"{V}/limits")).json()
        assert limits["DailyApiRequests"] == {"Max": 3, "Remaining": 2}


async def test_partial_batch_fault_locks_some_records_and_saves_the_rest() -> None:
    plan = FaultPlan.model_validate(
        {
            "seed": 3,
            "rules": [{"path": ".*/composite/sobjects.*", "fault": "partial_batch", "fail_ratio": 0.5}],
        }
    )
    sandbox = SalesforceSandbox(token=TOKEN, faults=plan)
    async with client(sandbox) as http:
        records = [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(4)]
        results = (await http.post(f"{V}/composite/sobjects", json={"records": records})).json()
    failed = [r for r in results if not r["success"]]
    assert len(failed) == 2 and failed[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert len(sandbox.records("Account")) == 2


def test_faults_over_real_http_drop_the_answer_after_the_work() -> None:
    plan = FaultPlan.model_validate(
        {
            "rules": [
                {"method": "POST", "path": f"{V}/sobjects/Lead", "fault": "drop_response_after_commit"},
                {"method": "GET", "path": f"{V}/limits", "fault": "status", "status": 503},
                {"method": "GET", "path": f"{V}/sobjects", "fault": "connection_reset"},
            ]
        }
    )
    sandbox = SalesforceSandbox(token=TOKEN, faults=plan)
    with SandboxServer(sandbox.app()) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as http:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            http.post(f"{V}/sobjects/Lead", json={"LastName": "W", "Company": "N"})
        assert len(sandbox.records("Lead")) == 1, "the create was committed before the answer was lost"
        down = http.get(f"{V}/limits")
        assert down.status_code == 503 and down.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            http.get(f"{V}/sobjects")


# -- request shapes against the vendor's Postman collection (crm-specs/salesforce, CC0) -----------------


@pytest.mark.skipif(not SPECS.is_dir(), reason="the shared crm-specs folder is not next to the repository")
async def test_every_postman_request_the_adapter_uses_is_served(http: httpx.AsyncClient) -> None:
    """The collection's URL templates (method + path), filled in, reach a route of the emulator. Its
    "SObject Collections Update" template names an object in the path; the REST reference updates through
    `PATCH /composite/sobjects` (objects named per record), which is what the adapter and emulator use."""
    lead = await create(http, "Lead", LastName="W", Company="N", callsync_origin_call_id__c="c-1")
    fill = {
        "<SOBJECT_API_NAME>": "Lead",
        "<RECORD_ID>": lead,
        "<FIELD_NAME>": "callsync_origin_call_id__c",
        "<FIELD_VALUE>": "c-1",
        "{{_endpoint}}": "",
        "{{version}}": "62.0",
    }
    used = [
        "rest/versions",
        "rest/limit",
        "rest/describe_global",
        "rest/sobject_describe",
        "rest/sobject_create",
        "rest/sobject_rows",
        "rest/sobject_rows_update",
        "rest/sobject_rows_by_external_id",
        "rest/query",
        "composite/composite",
        "composite/batch",
        "composite/sobject_collections_create",
        "composite/sobject_collections_retrieve",
    ]
    for name in used:
        spec = json.loads((SPECS / f"{name}.json").read_text())
        url = spec["url"]
        for key, value in fill.items():
            url = url.replace(key, value)
        path, _, raw_query = url.partition("?")
        params = {k: v for k, _, v in (p.partition("=") for p in raw_query.split("&") if p)}
        if name == "rest/query":
            params = {"q": "SELECT Id FROM Lead"}
        if name == "composite/sobject_collections_retrieve":
            params = {"ids": lead, "fields": "Id"}
        body: Any = {"LastName": "X", "Company": "Y"} if spec["method"] in ("POST", "PATCH") else None
        if name.startswith("composite/sobject_collections"):
            body = {
                "allOrNone": False,
                "records": [{"attributes": {"type": "Lead"}, "id": lead, "Title": "x"}],
            }
            if name.endswith("create"):
                body["records"] = [{"attributes": {"type": "Lead"}, "LastName": "Z", "Company": "Q"}]
        if name == "composite/composite":
            body = {"compositeRequest": [{"method": "GET", "url": f"{V}/limits", "referenceId": "l"}]}
        if name == "composite/batch":
            body = {"batchRequests": [{"method": "GET", "url": "v62.0/limits"}]}
        method = "GET" if name == "rest/sobject_rows_by_external_id" else spec["method"]
        response = await http.request(method, path, params=params, json=body)
        assert response.status_code < 300, (name, response.status_code, response.text)
