"""Zoho emulator: DUPLICATE_DATA names the module by a string id as the v8 spec's Minified_Module says,
and duplicate checks, upserts and searches answered from value indexes follow every write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from callsync_sandbox.zoho import ZohoSandbox
from callsync_sandbox.zoho.schema import MODULE_IDS

TOKEN = "zoho-token"
V = "/crm/v8"
SPECS = Path(__file__).resolve().parents[3] / "shared" / "crm-specs" / "zoho" / "v8.0"


def client(sandbox: ZohoSandbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app()),
        base_url="http://z.test",
        headers={"Authorization": f"Zoho-oauthtoken {TOKEN}"},
    )


async def insert(http: httpx.AsyncClient, module: str, **fields: Any) -> httpx.Response:
    return await http.post(f"{V}/{module}", json={"data": [fields]})


async def test_duplicate_data_names_the_module_by_a_non_empty_string_id() -> None:
    async with client(ZohoSandbox(token=TOKEN)) as http:
        first = (await insert(http, "Leads", Last_Name="A", Company="X", Email="a@x.com")).json()
        again = (await insert(http, "Leads", Last_Name="B", Company="X", Email="A@x.com")).json()
    details = again["data"][0]["details"]
    assert again["data"][0]["code"] == "DUPLICATE_DATA"
    module = details["duplicate_record"]["module"]
    assert module == {"api_name": "Leads", "id": MODULE_IDS["Leads"]}
    assert isinstance(module["id"], str) and module["id"].isdigit()
    assert details["duplicate_record"]["id"] == first["data"][0]["details"]["id"]


def test_module_ids_are_distinct_numeric_strings() -> None:
    assert len(set(MODULE_IDS.values())) == len(MODULE_IDS)
    assert all(value.isdigit() for value in MODULE_IDS.values())


@pytest.mark.skipif(not SPECS.is_dir(), reason="the shared vendor spec is not next to the repository")
def test_the_spec_requires_a_minified_modules_id_to_be_a_string_or_null() -> None:
    schema = json.loads((SPECS / "modules.json").read_text())["components"]["schemas"]["Minified_Module"]
    assert schema["properties"]["id"] == {"type": "string", "nullable": True}
    assert "id" in schema["required"]


async def test_a_changed_email_frees_the_old_value_and_claims_the_new_one() -> None:
    async with client(ZohoSandbox(token=TOKEN)) as http:
        await insert(http, "Contacts", Last_Name="A", Email="a@x.com")
        second = (await insert(http, "Contacts", Last_Name="B", Email="b@x.com")).json()
        second_id = second["data"][0]["details"]["id"]
        moved = await http.put(f"{V}/Contacts", json={"data": [{"id": second_id, "Email": "c@x.com"}]})
        assert moved.json()["data"][0]["code"] == "SUCCESS"
        assert (await insert(http, "Contacts", Last_Name="C", Email="b@x.com")).status_code == 201
        clash = (await insert(http, "Contacts", Last_Name="D", Email="C@X.com")).json()
        assert clash["data"][0]["details"]["id"] == second_id

        by_email = await http.get(f"{V}/Contacts/search", params={"email": "c@x.com"})
        assert [r["id"] for r in by_email.json()["data"]] == [second_id]
        assert (await http.get(f"{V}/Contacts/search", params={"email": "nobody@x.com"})).status_code == 204


async def test_criteria_search_with_equals_and_other_terms_gives_the_scans_answer() -> None:
    async with client(ZohoSandbox(token=TOKEN)) as http:
        for n in range(4):
            await insert(
                http, "Leads", Last_Name=f"L{n}", Company="Acme" if n % 2 else "Initech", Email=f"l{n}@x.com"
            )
        both = "((Email:equals:L1@x.com)and(Company:equals:acme))"
        found = await http.get(f"{V}/Leads/search", params={"criteria": both})
        assert [r["Last_Name"] for r in found.json()["data"]] == ["L1"]
        either = "((Email:equals:l0@x.com)or(Company:equals:Acme))"
        found = await http.get(f"{V}/Leads/search", params={"criteria": either})
        assert [r["Last_Name"] for r in found.json()["data"]] == ["L0", "L1", "L3"]
        listed = "(Email:in:l2@x.com,l3@x.com)"
        found = await http.get(f"{V}/Leads/search", params={"criteria": listed})
        assert [r["Last_Name"] for r in found.json()["data"]] == ["L2", "L3"]


async def test_upsert_on_the_stamp_updates_the_record_found_through_the_index() -> None:
    async with client(ZohoSandbox(token=TOKEN)) as http:
        body = {"data": [{"Last_Name": "S", "Email": "s@x.com", "callsync_origin_call_id": "call-1"}]}
        body["duplicate_check_fields"] = ["callsync_origin_call_id"]
        first = (await http.post(f"{V}/Contacts/upsert", json=body)).json()["data"][0]
        body["data"][0]["Last_Name"] = "T"
        second = (await http.post(f"{V}/Contacts/upsert", json=body)).json()["data"][0]
    assert (first["action"], second["action"]) == ("insert", "update")
    assert first["details"]["id"] == second["details"]["id"]
