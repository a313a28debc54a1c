"""The HubSpot emulator's equality searches use value indexes (same answers as a scan), and its basic
list endpoint (`GET /crm/v3/objects/{type}`) pages through every record."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.hubspot.records import Record
from callsync_sandbox.hubspot.search import SearchLimits, SearchParser, ValueIndex

TOKEN = "test-token"
CONTACTS = "/crm/v3/objects/contacts"


def in_process(sandbox: HubSpotSandbox) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=sandbox.app())
    return httpx.AsyncClient(
        transport=transport, base_url="http://hubspot.test", headers={"Authorization": f"Bearer {TOKEN}"}
    )


def eq(name: str, value: str) -> dict[str, Any]:
    return {"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}


async def search_total(http: httpx.AsyncClient, *groups: dict[str, Any]) -> int:
    response = await http.post(f"{CONTACTS}/search", json={"filterGroups": list(groups)})
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


async def test_equality_search_follows_updates_of_the_indexed_value() -> None:
    async with in_process(HubSpotSandbox(token=TOKEN)) as http:
        for n in range(5):
            await http.post(
                CONTACTS, json={"properties": {"email": f"p{n}@example.com", "phone": f"+1555000{n}"}}
            )
        assert await search_total(http, eq("email", "p3@example.com")) == 1  # builds the email index
        await http.patch(f"{CONTACTS}/1004", json={"properties": {"email": "moved@example.com"}})
        assert await search_total(http, eq("email", "p3@example.com")) == 0
        assert await search_total(http, eq("email", "MOVED@example.com")) == 1
        await http.delete(f"{CONTACTS}/1004")
        assert await search_total(http, eq("email", "moved@example.com")) == 0


async def test_or_of_equality_groups_and_a_group_without_equality_give_the_scans_answer() -> None:
    async with in_process(HubSpotSandbox(token=TOKEN)) as http:
        for n in range(6):
            await http.post(
                CONTACTS, json={"properties": {"email": f"p{n}@example.com", "phone": f"+1555000{n}"}}
            )
        indexed = await search_total(http, eq("email", "p1@example.com"), eq("phone", "+15550002"))
        assert indexed == 2
        # A group with no EQ/IN filter (here HAS_PROPERTY) makes the search scan every record.
        has_phone = {"filters": [{"propertyName": "phone", "operator": "HAS_PROPERTY"}]}
        assert await search_total(http, eq("email", "p1@example.com"), has_phone) == 6
        in_list = {
            "filters": [
                {
                    "propertyName": "email",
                    "operator": "IN",
                    "values": ["p4@example.com", "p5@example.com", "x@example.com"],
                }
            ]
        }
        assert await search_total(http, in_list) == 2


async def test_an_indexed_search_still_sees_the_old_value_during_the_search_lag() -> None:
    async with in_process(HubSpotSandbox(token=TOKEN, search_lag_s=0.2)) as http:
        await http.post(CONTACTS, json={"properties": {"email": "lag@example.com", "phone": "+15550100"}})
        await asyncio.sleep(0.3)
        assert await search_total(http, eq("phone", "+15550100")) == 1
        await http.patch(f"{CONTACTS}/1001", json={"properties": {"phone": "+15550199"}})
        assert (
            await search_total(http, eq("phone", "+15550100")) == 1
        )  # the index still holds the old version
        assert await search_total(http, eq("phone", "+15550199")) == 0
        await asyncio.sleep(0.3)
        assert await search_total(http, eq("phone", "+15550100")) == 0
        assert await search_total(http, eq("phone", "+15550199")) == 1


def test_value_index_names_only_records_holding_the_value_and_forgets_replaced_values() -> None:
    sandbox = HubSpotSandbox(token=TOKEN)
    schema = sandbox._portal._schema["contacts"]  # the index is keyed with the schema's own key functions
    parser = SearchParser("contacts", schema, SearchLimits(5, 6, 18))
    query = parser.parse({"filterGroups": [eq("email", "b@example.com")]})
    lookups = query.lookups()
    assert lookups is not None
    records = [Record(str(n), "contacts", {"email": f"{c}@example.com"}, "", "") for n, c in enumerate("abc")]
    for record in records:
        record.publish(0.0, 0.0)
    index = ValueIndex()
    assert index.candidates(lookups[0], records) == {"1"}

    before = index.entries(records[1])
    records[1].properties = {"email": "z@example.com"}
    records[1].publish(0.0, 0.0)  # visible at once: the old version is forgotten
    index.replace("1", before, index.entries(records[1]))
    assert index.candidates(lookups[0], records) == set()


async def test_list_endpoint_pages_through_every_live_record_in_id_order() -> None:
    async with in_process(HubSpotSandbox(token=TOKEN)) as http:
        for n in range(5):
            await http.post(
                CONTACTS, json={"properties": {"email": f"p{n}@example.com", "firstname": f"P{n}"}}
            )
        await http.delete(f"{CONTACTS}/1003")
        first = (await http.get(CONTACTS, params={"limit": 2, "properties": "firstname"})).json()
        assert [r["id"] for r in first["results"]] == ["1001", "1002"]
        assert first["results"][0]["properties"]["firstname"] == "P0"
        cursor = first["paging"]["next"]["after"]
        assert "after=" in first["paging"]["next"]["link"]
        second = (await http.get(CONTACTS, params={"limit": 2, "after": cursor})).json()
        assert [r["id"] for r in second["results"]] == ["1004", "1005"]
        assert "paging" not in second
        archived = (await http.get(CONTACTS, params={"archived": "true"})).json()
        assert [r["id"] for r in archived["results"]] == ["1003"]


async def test_list_endpoint_refuses_a_limit_over_100_and_a_bad_cursor() -> None:
    async with in_process(HubSpotSandbox(token=TOKEN)) as http:
        assert (await http.get(CONTACTS, params={"limit": 101})).status_code == 400
        assert (await http.get(CONTACTS, params={"after": "not-a-cursor"})).status_code == 400
