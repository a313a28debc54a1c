"""Salesforce emulator: its describe lists every standard field of Lead, Contact, Account, Opportunity,
Task, Event and Case with the type and writability a real org reports (tests/sandbox/data), and its
equality lookups (SOQL `=` / IN, upserts on an External ID, unique checks) follow every write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from callsync_sandbox.salesforce import SalesforceSandbox

TOKEN = "sf-token"
V = "/services/data/v62.0"
REFERENCE = json.loads((Path(__file__).parent / "data" / "salesforce_standard_fields.json").read_text())
OBJECTS = sorted(name for name in REFERENCE if not name.startswith("_"))


def client(sandbox: SalesforceSandbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app()),
        base_url="http://sf.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


async def describe(sobject: str) -> dict[str, dict[str, Any]]:
    async with client(SalesforceSandbox(token=TOKEN)) as http:
        response = await http.get(f"{V}/sobjects/{sobject}/describe")
    assert response.status_code == 200, response.text
    return {field["name"]: field for field in response.json()["fields"]}


@pytest.mark.parametrize("sobject", OBJECTS)
async def test_describe_lists_every_standard_field_with_its_type_and_writability(sobject: str) -> None:
    described = await describe(sobject)
    expected = REFERENCE[sobject]
    missing = sorted(set(expected) - set(described))
    assert not missing, f"{sobject} lacks standard fields {missing}"
    wrong = {
        name: {"type": described[name]["type"], "updateable": described[name]["updateable"]}
        for name, (kind, updateable) in expected.items()
        if (described[name]["type"], described[name]["updateable"]) != (kind, updateable)
    }
    assert not wrong, f"{sobject} fields differ from the reference {{name: emulator's}}: {wrong}"


@pytest.mark.parametrize("sobject", OBJECTS)
async def test_describe_invents_no_standard_field_the_reference_lacks(sobject: str) -> None:
    described = await describe(sobject)
    invented = sorted(
        name for name, field in described.items() if not field["custom"] and name not in REFERENCE[sobject]
    )
    assert not invented, f"{sobject} has standard fields a real org does not: {invented}"


async def test_a_contact_takes_the_personal_and_assistant_fields_a_mapping_may_use() -> None:
    fields = {
        "LastName": "Okafor",
        "Department": "Operations",
        "Birthdate": "1984-03-09",
        "HomePhone": "+14155550100",
        "OtherPhone": "+14155550101",
        "Fax": "+14155550102",
        "AssistantName": "Ruth",
        "AssistantPhone": "+14155550103",
    }
    async with client(SalesforceSandbox(token=TOKEN)) as http:
        created = await http.post(f"{V}/sobjects/Contact", json=fields)
        assert created.status_code == 201, created.text
        read = (await http.get(f"{V}/sobjects/Contact/{created.json()['id']}")).json()
        bad_date = await http.post(f"{V}/sobjects/Contact", json={"LastName": "X", "Birthdate": "soon"})
    assert {name: read[name] for name in fields} == fields
    assert bad_date.status_code == 400 and bad_date.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


async def test_a_case_gets_an_auto_number_and_defaults_and_currency_takes_numbers() -> None:
    async with client(SalesforceSandbox(token=TOKEN)) as http:
        case = await http.post(f"{V}/sobjects/Case", json={"Subject": "Broken pump", "Origin": "Phone"})
        assert case.status_code == 201, case.text
        read = (await http.get(f"{V}/sobjects/Case/{case.json()['id']}")).json()
        deal = {"Name": "Pumps", "StageName": "Prospecting", "CloseDate": "2027-01-31", "Amount": "12500.5"}
        opportunity = await http.post(f"{V}/sobjects/Opportunity", json=deal)
        amount = (await http.get(f"{V}/sobjects/Opportunity/{opportunity.json()['id']}")).json()["Amount"]
        not_money = await http.post(f"{V}/sobjects/Opportunity", json={**deal, "Amount": "lots"})
    assert case.json()["id"].startswith("500")
    assert (read["CaseNumber"], read["Status"], read["IsClosed"]) == ("00000001", "New", False)
    assert amount == 12500.5
    assert not_money.status_code == 400


async def test_soql_equality_and_upsert_follow_a_changed_external_id() -> None:
    async with client(SalesforceSandbox(token=TOKEN)) as http:
        first = await http.patch(
            f"{V}/sobjects/Contact/callsync_origin_call_id__c/call-1",
            json={"LastName": "A", "Email": "a@x.com"},
        )
        assert first.status_code == 201, first.text
        contact_id = first.json()["id"]
        await http.patch(f"{V}/sobjects/Contact/{contact_id}", json={"callsync_origin_call_id__c": "call-2"})
        again = await http.patch(
            f"{V}/sobjects/Contact/callsync_origin_call_id__c/call-1", json={"LastName": "B"}
        )
        assert again.status_code == 201  # call-1 is free again: a new record

        soql = (
            "SELECT Id, LastName FROM Contact WHERE callsync_origin_call_id__c = 'CALL-2' AND LastName = 'A'"
        )
        rows = (await http.get(f"{V}/query", params={"q": soql})).json()["records"]
        assert [row["Id"] for row in rows] == [contact_id]
        listed = "SELECT Id FROM Contact WHERE Email IN ('a@x.com', 'nobody@x.com') ORDER BY LastName"
        assert [r["Id"] for r in (await http.get(f"{V}/query", params={"q": listed})).json()["records"]] == [
            contact_id
        ]
        await http.delete(f"{V}/sobjects/Contact/{contact_id}")
        assert (await http.get(f"{V}/query", params={"q": soql})).json()["totalSize"] == 0


async def test_a_rolled_back_collection_leaves_no_trace_in_the_lookups() -> None:
    async with client(SalesforceSandbox(token=TOKEN)) as http:
        records = [
            {"attributes": {"type": "Contact"}, "LastName": "A", "callsync_origin_call_id__c": "call-9"},
            {"attributes": {"type": "Contact"}, "Birthdate": "not a date"},
        ]
        rolled = await http.post(f"{V}/composite/sobjects", json={"allOrNone": True, "records": records})
        assert [r["success"] for r in rolled.json()] == [False, False]
        again = await http.patch(
            f"{V}/sobjects/Contact/callsync_origin_call_id__c/call-9", json={"LastName": "A"}
        )
        assert again.status_code == 201, again.text
