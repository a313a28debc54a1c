"""The Zoho CRM emulator answers with Zoho's paths, shapes, codes, credits and lead conversion.

Where the shared vendor spec (crm-specs/zoho, OpenAPI v8; reference only, not copied) is next to the
repository, the codes and paths the emulator uses are checked against it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.zoho import ZohoSandbox

TOKEN = "zoho-token"
V = "/crm/v8"
AUTH = {"Authorization": f"Zoho-oauthtoken {TOKEN}"}
SPECS = Path(__file__).resolve().parents[3] / "shared" / "crm-specs" / "zoho" / "v8.0"
DANA = {
    "Last_Name": "Whitfield",
    "First_Name": "Dana",
    "Email": "dana@northwind.com",
    "Company": "Northwind",
    "Designation": "COO",
    "Phone": "+14155550123",
}


def client(sandbox: ZohoSandbox, headers: dict[str, str] = AUTH) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app()), base_url="http://z.test", headers=headers
    )


@pytest.fixture
def sandbox() -> ZohoSandbox:
    return ZohoSandbox(token=TOKEN)


@pytest.fixture
async def http(sandbox: ZohoSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with client(sandbox) as c:
        yield c


async def insert(http: httpx.AsyncClient, module: str, **fields: Any) -> str:
    response = await http.post(f"{V}/{module}", json={"data": [fields]})
    assert response.status_code == 201, response.text
    return str(response.json()["data"][0]["details"]["id"])


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error" and body["code"] == code, body
    return dict(body)


async def test_the_token_goes_in_a_zoho_oauthtoken_header(sandbox: ZohoSandbox) -> None:
    async with client(sandbox, {"Authorization": f"Bearer {TOKEN}"}) as bearer:
        error(await bearer.get(f"{V}/Leads/1"), 401, "AUTHENTICATION_FAILURE")
    async with client(sandbox, {"Authorization": "Zoho-oauthtoken wrong"}) as wrong:
        error(await wrong.get(f"{V}/Leads/1"), 401, "INVALID_TOKEN")
    async with client(sandbox) as http:
        error(await http.get(f"{V}/Nope/1"), 400, "INVALID_MODULE")
        assert (await http.get("/crm/v2/Leads/1")).status_code == 204  # v2+ shapes: older versions answer too


async def test_multi_record_writes_answer_per_record_with_207_for_mixed_results(
    http: httpx.AsyncClient,
) -> None:
    first = await insert(http, "Leads", **DANA)
    response = await http.post(
        f"{V}/Leads",
        json={
            "data": [
                {**DANA, "Email": "DANA@northwind.com"},
                {"Last_Name": "Raman"},
                {"First_Name": "x"},
                {"Last_Name": "x", "Email": "nope"},
            ]
        },
    )
    assert response.status_code == 207
    dup, ok, missing, bad = response.json()["data"]
    assert dup["code"] == "DUPLICATE_DATA" and dup["details"]["id"] == first
    assert dup["details"]["api_name"] == "Email" and dup["details"]["json_path"] == "$.data[0].Email"
    assert dup["details"]["duplicate_record"]["id"] == first
    assert ok["code"] == "SUCCESS" and ok["message"] == "record added" and "action" not in ok
    assert missing["code"] == "MANDATORY_NOT_FOUND" and missing["details"]["api_name"] == "Last_Name"
    assert bad["code"] == "INVALID_DATA" and bad["details"]["expected_data_type"] == "email"
    error(await http.post(f"{V}/Leads", json={"data": [{"Last_Name": "x"}] * 101}), 400, "LIMIT_EXCEEDED")
    all_bad = await http.post(f"{V}/Leads", json={"data": [{"First_Name": "x"}]})
    assert all_bad.status_code == 400 and all_bad.json()["data"][0]["code"] == "MANDATORY_NOT_FOUND"


async def test_unknown_field_names_are_ignored_silently(
    sandbox: ZohoSandbox, http: httpx.AsyncClient
) -> None:
    record_id = await insert(http, "Leads", Last_Name="W", No_Such_Field="lost")
    (row,) = sandbox.records("Leads")
    assert row["id"] == record_id and "No_Such_Field" not in row


async def test_upsert_reports_action_and_the_duplicate_check_field(http: httpx.AsyncClient) -> None:
    body = {
        "data": [{"Last_Name": "Lee", "callsync_origin_call_id": "c-1"}],
        "duplicate_check_fields": ["callsync_origin_call_id"],
    }
    first = (await http.post(f"{V}/Leads/upsert", json=body)).json()["data"][0]
    again = (await http.post(f"{V}/Leads/upsert", json=body)).json()["data"][0]
    assert (first["action"], first["duplicate_field"]) == ("insert", None)
    assert (again["action"], again["duplicate_field"], again["message"]) == (
        "update",
        "callsync_origin_call_id",
        "record updated",
    )
    assert first["details"]["id"] == again["details"]["id"]
    plain = {"data": [{"Last_Name": "Lee"}], "duplicate_check_fields": ["Last_Name"]}
    error(await http.post(f"{V}/Leads/upsert", json=plain), 400, "INVALID_DATA")


async def test_search_by_criteria_email_or_phone_answers_204_when_nothing_matches(
    http: httpx.AsyncClient,
) -> None:
    await insert(http, "Leads", **DANA, Description="A (quoted), text")
    hit = await http.get(
        f"{V}/Leads/search", params={"criteria": "((Email:equals:DANA@NORTHWIND.COM)or(Phone:equals:1))"}
    )
    assert hit.status_code == 200 and hit.json()["info"]["count"] == 1
    escaped = await http.get(
        f"{V}/Leads/search", params={"criteria": "(Description:equals:A \\(quoted\\)\\, text)"}
    )
    assert escaped.json()["info"]["count"] == 1
    assert (await http.get(f"{V}/Leads/search", params={"phone": "+14155550123"})).status_code == 200
    assert (await http.get(f"{V}/Leads/search", params={"email": "other@x.com"})).status_code == 204
    many = "(" + "or".join(f"(Email:equals:{i}@x.com)" for i in range(11)) + ")"
    error(await http.get(f"{V}/Leads/search", params={"criteria": many}), 400, "INVALID_QUERY")
    error(await http.get(f"{V}/Leads/search", params={"criteria": "(Nope:equals:1)"}), 400, "INVALID_QUERY")
    fields = (await http.get(f"{V}/Leads/search", params={"email": DANA["Email"], "fields": "Email"})).json()
    assert set(fields["data"][0]) == {"id", "Email"}


async def test_search_can_lag_behind_writes() -> None:
    sandbox = ZohoSandbox(token=TOKEN, search_lag_s=0.3)
    async with client(sandbox) as http:
        record_id = await insert(http, "Leads", **DANA)
        assert (await http.get(f"{V}/Leads/search", params={"email": DANA["Email"]})).status_code == 204
        assert (await http.get(f"{V}/Leads/{record_id}")).status_code == 200, "a read by id does not lag"
        await asyncio.sleep(0.35)
        assert (await http.get(f"{V}/Leads/search", params={"email": DANA["Email"]})).status_code == 200


async def test_a_converted_lead_leaves_the_module_and_says_what_it_became(
    sandbox: ZohoSandbox, http: httpx.AsyncClient
) -> None:
    lead = await insert(http, "Leads", **DANA, callsync_origin_call_id="c-1")
    before = sandbox.credits.used()
    converted = await http.post(f"{V}/Leads/{lead}/actions/convert", json={"data": [{"overwrite": True}]})
    assert sandbox.credits.used() - before == 5, "a conversion costs five credits"
    details = converted.json()["data"][0]["details"]
    contact_id, account_id = details["Contacts"]["id"], details["Accounts"]["id"]
    assert details["Deals"] is None
    assert (await http.get(f"{V}/Leads/{lead}")).status_code == 204
    assert (await http.get(f"{V}/Leads/search", params={"email": DANA["Email"]})).status_code == 204
    both = (await http.get(f"{V}/Leads/search", params={"email": DANA["Email"], "converted": "both"})).json()
    (row,) = both["data"]
    assert row["$converted"] is True and row["$converted_detail"]["contact"]["id"] == contact_id
    contact = (await http.get(f"{V}/Contacts/{contact_id}")).json()["data"][0]
    assert contact["Title"] == "COO" and contact["Account_Name"] == {"name": "Northwind", "id": account_id}
    assert contact["callsync_origin_call_id"] == "c-1"
    locked = await http.put(f"{V}/Leads/{lead}", json={"data": [{"Last_Name": "x"}]})
    assert locked.status_code == 400 and locked.json()["data"][0]["code"] == "CANNOT_PERFORM_ACTION"
    error(
        await http.post(f"{V}/Leads/{lead}/actions/convert", json={"data": [{}]}), 400, "ID_ALREADY_CONVERTED"
    )


async def test_field_metadata_carries_the_conversion_mapping_and_unique_stamp(
    http: httpx.AsyncClient,
) -> None:
    fields = {
        f["api_name"]: f
        for f in (await http.get(f"{V}/settings/fields", params={"module": "Leads"})).json()["fields"]
    }
    assert fields["Designation"]["convert_mapping"]["Contacts"] == "Title"
    assert fields["Company"]["convert_mapping"]["Accounts"] == "Account_Name"
    assert fields["callsync_origin_call_id"]["unique"] == {"casesensitive": "false"}
    assert fields["callsync_last_call_id"]["unique"] is None
    error(await http.get(f"{V}/settings/fields"), 400, "REQUIRED_PARAM_MISSING")


async def test_lookups_take_an_id_and_answer_name_and_id(http: httpx.AsyncClient) -> None:
    account = await insert(http, "Accounts", Account_Name="Northwind")
    contact = await insert(http, "Contacts", Last_Name="W", Account_Name={"id": account})
    call = await insert(
        http,
        "Calls",
        Subject="Call",
        Call_Type="Inbound",
        Call_Start_Time="2026-11-20T21:03:00+00:00",
        Who_Id={"id": contact},
        What_Id={"id": account},
        **{"$se_module": "Accounts"},
    )
    row = (await http.get(f"{V}/Calls/{call}")).json()["data"][0]
    assert row["Who_Id"] == {"name": "W", "id": contact} and row["$se_module"] == "Accounts"
    bad = await http.post(f"{V}/Contacts", json={"data": [{"Last_Name": "x", "Account_Name": {"id": "42"}}]})
    assert bad.json()["data"][0]["code"] == "INVALID_DATA"


async def test_credits_run_out_with_429_until_the_window_rolls() -> None:
    sandbox = ZohoSandbox(token=TOKEN, credits_per_day=3, credit_window_s=0.3)
    async with client(sandbox) as http:
        for _ in range(3):
            assert (await http.get(f"{V}/Leads/1")).status_code == 204
        body = error(await http.get(f"{V}/Leads/1"), 429, "LIMIT_REACHED")
        assert body["details"] == {"limit": 3}
        await asyncio.sleep(0.35)
        assert (await http.get(f"{V}/Leads/1")).status_code == 204


async def test_concurrency_cap_answers_429_too_many_requests() -> None:
    sandbox = ZohoSandbox(token=TOKEN, max_concurrency=2, latency_s=0.1)
    async with client(sandbox) as http:
        answers = await asyncio.gather(*(http.get(f"{V}/Leads/1") for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [204, 204, 429, 429]
    assert answers[-1].json()["code"] == "TOO_MANY_REQUESTS"


async def test_partial_batch_fault_locks_some_records() -> None:
    plan = FaultPlan.model_validate(
        {"seed": 1, "rules": [{"path": f"{V}/Leads", "fault": "partial_batch", "fail_ratio": 0.5}]}
    )
    sandbox = ZohoSandbox(token=TOKEN, faults=plan)
    async with client(sandbox) as http:
        response = await http.post(f"{V}/Leads", json={"data": [{"Last_Name": f"L{i}"} for i in range(4)]})
    assert response.status_code == 207
    codes = [r["code"] for r in response.json()["data"]]
    assert sorted(codes) == ["RECORD_LOCKED", "RECORD_LOCKED", "SUCCESS", "SUCCESS"]
    assert len(sandbox.records("Leads")) == 2


# -- checked against the vendor's OpenAPI v8 (crm-specs/zoho; reference only, read here, not copied) -----


@pytest.mark.skipif(not SPECS.is_dir(), reason="the shared crm-specs folder is not next to the repository")
async def test_codes_and_paths_the_emulator_uses_are_in_the_vendor_spec(http: httpx.AsyncClient) -> None:
    record = json.loads((SPECS / "record.json").read_text())
    codes = set(record["components"]["schemas"]["API_Exception"]["properties"]["code"]["enum"])
    used = {
        "DUPLICATE_DATA",
        "MANDATORY_NOT_FOUND",
        "INVALID_DATA",
        "INVALID_MODULE",
        "LIMIT_EXCEEDED",
        "INVALID_TOKEN",
        "AUTHENTICATION_FAILURE",
        "INVALID_QUERY",
        "REQUIRED_PARAM_MISSING",
        "RECORD_LOCKED",
        "ID_ALREADY_CONVERTED",
        "CANNOT_PERFORM_ACTION",
        "LIMIT_REACHED",
        "INVALID_URL_PATTERN",
        "NO_PERMISSION",
        "INTERNAL_ERROR",
    }
    assert used <= codes, used - codes
    paths = set(record["paths"])
    for path in (
        "/crm/v8/{module_api_name}/upsert",
        "/crm/v8/{module_api_name}/search",
        "/crm/v8/{module_api_name}/{id}",
    ):
        assert path in paths
    search = {
        p.get("name") or p["$ref"].rsplit("/", 1)[-1]
        for p in record["paths"]["/crm/v8/{module_api_name}/search"]["get"]["parameters"]
    }
    assert {"criteria", "email", "phone", "converted", "fields", "per_page"} <= search
    body = record["components"]["schemas"]["Body_Wrapper"]["properties"]
    assert {"data", "duplicate_check_fields", "trigger"} <= set(body)
    success = record["components"]["schemas"]["Success_Response"]["properties"]
    reply = (await http.post(f"{V}/Leads/upsert", json={"data": [{"Last_Name": "x"}]})).json()["data"][0]
    assert set(reply) <= set(success), set(reply) - set(success)
    assert set(reply["details"]) <= set(success["details"]["properties"])
    convert = json.loads((SPECS / "convert_lead.json").read_text())
    assert "/crm/v8/Leads/{lead_id}/actions/convert" in convert["paths"]
    query = json.loads((SPECS / "coql.json").read_text())
    assert "/crm/v8/coql" in query["paths"]
    assert query["components"]["schemas"]["Body_Wrapper"]["required"] == ["select_query"]
    fields = json.loads((SPECS / "fields.json").read_text())["components"]["schemas"]["fields"]["properties"]
    described = (await http.get(f"{V}/settings/fields", params={"module": "Leads"})).json()["fields"][0]
    assert set(described) <= set(fields), set(described) - set(fields)


async def coql(http: httpx.AsyncClient, query: str) -> httpx.Response:
    return await http.post(f"{V}/coql", json={"select_query": query})


async def test_coql_sorts_limits_and_says_when_more_matched(
    sandbox: ZohoSandbox, http: httpx.AsyncClient
) -> None:
    ids = [sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": f"W{i}"}) for i in range(5)]
    sandbox.insert("Leads", {"First_Name": "Sam", "Last_Name": "Whitfield"})
    sandbox.insert("Leads", {"First_Name": "Ann", "Last_Name": "Other"})
    reply = await coql(
        http,
        "SELECT First_Name, Last_Name FROM Leads WHERE (First_Name in ('dana', 'x') or Last_Name = 'WHITFIELD') "
        "ORDER BY Modified_Time DESC LIMIT 3",
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    # Same second: ties come by id in the order's direction, so the newest first.
    assert [r["Last_Name"] for r in body["data"]] == ["Whitfield", "W4", "W3"]
    assert set(body["data"][0]) == {"id", "First_Name", "Last_Name"}
    assert body["info"] == {"count": 3, "more_records": True}
    rest = (await coql(http, "select Last_Name from Leads where First_Name = 'Dana' limit 3, 10")).json()
    assert [r["id"] for r in rest["data"]] == ids[3:] and rest["info"]["more_records"] is False
    assert (await coql(http, "select Last_Name from Leads where First_Name = 'Nobody'")).status_code == 204


async def test_coql_refuses_what_zoho_refuses(http: httpx.AsyncClient) -> None:
    # More than two criteria must be bracketed pairwise: (A or (B or C)); the error says where.
    query = "select id from Leads where Email = 'a' or Email = 'b' or Email = 'c'"
    refused = error(await coql(http, query), 400, "SYNTAX_ERROR")
    assert refused["details"] == {"line": 1, "column": query.index("or Email = 'c'") + 1, "near": "or"}
    ok = await coql(http, "select id from Leads where (Email = 'a' or (Email = 'b' or Email = 'c'))")
    assert ok.status_code == 204
    twenty_six = "Email = 'x'"
    for i in range(25):
        twenty_six = f"(Email = '{i}' or {twenty_six})"
    error(await coql(http, f"select id from Leads where {twenty_six}"), 400, "LIMIT_EXCEEDED")
    fifty_one = ", ".join(f"'{i}'" for i in range(51))
    error(await coql(http, f"select id from Leads where Email in ({fifty_one})"), 400, "LIMIT_EXCEEDED")
    too_many = error(
        await coql(http, "select id from Leads where Email = 'a' limit 2001"), 400, "LIMIT_EXCEEDED"
    )
    assert too_many["details"] == {"clause": "limit", "limit": 2000}
    error(await coql(http, "select Nope from Leads where Email = 'a'"), 400, "INVALID_QUERY")
    error(await coql(http, "select id from Nowhere where Email = 'a'"), 400, "INVALID_MODULE")
    error(await http.post(f"{V}/coql", json={}), 400, "REQUIRED_PARAM_MISSING")


async def test_coql_leaves_converted_leads_out_and_costs_credits_by_its_limit(sandbox: ZohoSandbox) -> None:
    lead = sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": "Whitfield", "Company": "N"})
    sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": "Other", "Company": "N"})
    sandbox.convert_lead(lead)
    async with client(sandbox) as http:
        spent = sandbox.credits.used()
        found = (await coql(http, "select Last_Name from Leads where First_Name = 'Dana' limit 200")).json()
        assert [r["Last_Name"] for r in found["data"]] == ["Other"]
        await coql(http, "select Last_Name from Leads where First_Name = 'Dana' limit 201")
        await coql(http, "select Last_Name from Leads where First_Name = 'Dana' limit 2000")
    assert sandbox.credits.used() - spent == 1 + 2 + 3
