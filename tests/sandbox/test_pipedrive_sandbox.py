"""The Pipedrive emulator on the wire: Pipedrive's paths, bodies, error shapes, limit headers and tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.pipedrive import PipedriveSandbox, token_cost
from callsync_sandbox.server import SandboxServer

H = {"x-api-token": "t"}


def client(sandbox: PipedriveSandbox, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app()),
        base_url="http://pd.test",
        headers=H if headers is None else headers,
    )


@pytest.fixture
async def pd() -> AsyncIterator[tuple[PipedriveSandbox, httpx.AsyncClient]]:
    sandbox = PipedriveSandbox(token="t")
    async with client(sandbox) as http:
        yield sandbox, http


def is_error_body(body: Any) -> bool:
    return body["success"] is False and body["data"] is None and {"error", "error_info"} <= set(body)


async def test_tokens_go_in_x_api_token_api_token_or_bearer(
    pd: tuple[PipedriveSandbox, httpx.AsyncClient],
) -> None:
    sandbox, http = pd
    assert (await http.get("/api/v2/persons")).status_code == 200
    async with client(sandbox, {}) as anonymous:
        assert (await anonymous.get("/api/v2/persons", params={"api_token": "t"})).status_code == 200
        assert (
            await anonymous.get("/api/v2/persons", headers={"Authorization": "Bearer t"})
        ).status_code == 200
        refused = await anonymous.get("/api/v2/persons", headers={"x-api-token": "wrong"})
    assert refused.status_code == 401 and is_error_body(refused.json())
    assert refused.json()["error"] == "unauthorized access"


async def test_persons_create_read_update_in_v2_shape(pd: tuple[PipedriveSandbox, httpx.AsyncClient]) -> None:
    sandbox, http = pd
    created = await http.post(
        "/api/v2/persons",
        json={
            "name": "Dana Whitfield",
            "emails": [{"value": "dana@northwind.com", "primary": True, "label": "work"}],
        },
    )
    assert created.status_code == 200 and created.json()["success"] is True
    person = created.json()["data"]
    assert (person["first_name"], person["last_name"], person["custom_fields"]) == ("Dana", "Whitfield", {})
    patched = await http.patch(
        f"/api/v2/persons/{person['id']}", json={"phones": [{"value": "+16175550148"}]}
    )
    assert patched.json()["data"]["phones"] == [{"value": "+16175550148", "primary": True, "label": "work"}]
    read = (await http.get(f"/api/v2/persons/{person['id']}")).json()["data"]
    assert read["emails"][0]["value"] == "dana@northwind.com" and read["phones"][0]["value"] == "+16175550148"
    missing = await http.get("/api/v2/persons/999")
    assert missing.status_code == 404 and missing.json()["error"] == "Entity was not found"
    nameless = await http.post("/api/v2/persons", json={"emails": [{"value": "x@y.z"}]})
    assert nameless.status_code == 400 and "name" in nameless.json()["error"]
    unknown = await http.post("/api/v2/persons", json={"name": "A", "favourite_colour": "red"})
    assert unknown.status_code == 400 and is_error_body(unknown.json())
    assert len(sandbox.records("persons")) == 1


async def test_custom_fields_have_40_character_keys_and_unknown_keys_are_refused(
    pd: tuple[PipedriveSandbox, httpx.AsyncClient],
) -> None:
    sandbox, http = pd
    made = (
        await http.post("/v1/personFields", json={"name": "Lead source", "field_type": "varchar"})
    ).json()["data"]
    key = made["key"]
    assert len(key) == 40 and made["edit_flag"] is True and made["name"] == "Lead source"
    listing = (await http.get("/v1/personFields", params={"start": 0, "limit": 5})).json()
    assert (
        len(listing["data"]) == 5
        and listing["additional_data"]["pagination"]["more_items_in_collection"] is True
    )
    rest = (await http.get("/v1/personFields", params={"start": 5, "limit": 500})).json()["data"]
    assert key in {f["key"] for f in rest} and "email" in {f["key"] for f in listing["data"] + rest}
    ok = await http.post("/api/v2/persons", json={"name": "A", "custom_fields": {key: "voice"}})
    assert ok.json()["data"]["custom_fields"] == {key: "voice"}
    bad = await http.post("/api/v2/persons", json={"name": "B", "custom_fields": {"0" * 40: "x"}})
    assert bad.status_code == 400 and "custom_fields" in bad.json()["error"]
    activity = await http.post("/api/v2/activities", json={"subject": "Call", "custom_fields": {}})
    assert activity.status_code == 400, "v2 activities take no custom_fields"
    wrong_type = await http.post("/v1/personFields", json={"name": "X", "field_type": "string"})
    assert wrong_type.status_code == 400
    assert [r["Lead source"] for r in sandbox.records("persons")] == ["voice"]


async def test_search_exact_match_fields_and_term_rules(
    pd: tuple[PipedriveSandbox, httpx.AsyncClient],
) -> None:
    sandbox, http = pd
    for name, email, phone in (
        ("Dana Whitfield", "dana@northwind.com", "(617) 555-0148"),
        ("Dana Whitfield-Lee", "xdana@northwind.com", "+16175550148"),
    ):
        sandbox.insert("persons", {"name": name, "emails": [{"value": email}], "phones": [{"value": phone}]})

    async def search(**params: Any) -> httpx.Response:
        return await http.get("/api/v2/persons/search", params=params)

    exact = (await search(term="DANA@northwind.com", fields="email", exact_match="true")).json()
    (item,) = exact["data"]["items"]
    assert item["item"]["emails"] == ["dana@northwind.com"] and item["item"]["type"] == "person"
    loose = (await search(term="dana@northwind", fields="email")).json()["data"]["items"]
    assert len(loose) == 2
    by_phone = (await search(term="+16175550148", fields="phone", exact_match="true")).json()["data"]["items"]
    assert [i["item"]["name"] for i in by_phone] == ["Dana Whitfield-Lee"], "stored formatting matters"
    assert (await search(term="d", fields="name")).status_code == 400  # 2 characters, 1 with exact_match
    assert (await search(term="d", fields="name", exact_match="true")).status_code == 200
    assert (await search(term="dana", fields="title")).status_code == 400  # not a person search field
    assert (
        await http.get("/api/v2/organizations/search", params={"term": "x", "fields": "email"})
    ).status_code == 400


async def test_search_lag_hides_new_records_from_search_not_from_reads() -> None:
    sandbox = PipedriveSandbox(token="t", search_lag_s=30)
    async with client(sandbox) as http:
        person = (await http.post("/api/v2/persons", json={"name": "Dana"})).json()["data"]
        found = await http.get("/api/v2/persons/search", params={"term": "Dana", "fields": "name"})
        assert found.json()["data"]["items"] == []
        assert (await http.get(f"/api/v2/persons/{person['id']}")).status_code == 200


async def test_deals_without_a_person_or_organization_are_accepted_as_pipedrive_does(
    pd: tuple[PipedriveSandbox, httpx.AsyncClient],
) -> None:
    sandbox, http = pd
    orphan = await http.post("/api/v2/deals", json={"title": "Orphan"})
    assert orphan.status_code == 200 and orphan.json()["data"]["person_id"] is None
    dangling = await http.post("/api/v2/deals", json={"title": "X", "person_id": 42})
    assert dangling.status_code == 400 and "person_id" in dangling.json()["error"]
    org = sandbox.insert("organizations", {"name": "Northwind"})
    person = sandbox.insert("persons", {"name": "Dana", "org_id": org})
    linked = (
        await http.post("/api/v2/deals", json={"title": "Y", "person_id": person, "org_id": org})
    ).json()["data"]
    (item,) = (
        await http.get("/api/v2/deals/search", params={"term": "Y", "fields": "title", "exact_match": "true"})
    ).json()["data"]["items"]
    assert item["item"]["person"]["id"] == person and item["item"]["organization"]["name"] == "Northwind"
    assert linked["org_id"] == org


async def test_notes_need_content_and_a_record(pd: tuple[PipedriveSandbox, httpx.AsyncClient]) -> None:
    sandbox, http = pd
    person = sandbox.insert("persons", {"name": "Dana"})
    assert (await http.post("/v1/notes", json={"content": "<p>called</p>"})).status_code == 400
    ok = await http.post("/v1/notes", json={"content": "<p>called</p>", "person_id": person})
    assert ok.status_code == 200 and sandbox.notes() == [ok.json()["data"]]


def test_token_costs_are_the_spec_s() -> None:
    assert [token_cost(m, p) for m, p in (
        ("GET", "/api/v2/persons/1"), ("GET", "/api/v2/persons"), ("GET", "/api/v2/deals/search"),
        ("POST", "/api/v2/persons"), ("PATCH", "/api/v2/deals/3"), ("DELETE", "/api/v2/persons/3"),
        ("GET", "/v1/dealFields"), ("POST", "/v1/notes"),
    )] == [1, 10, 20, 5, 5, 3, 20, 10]  # fmt: skip


async def test_every_answer_carries_the_burst_window_and_the_429_says_when() -> None:
    sandbox = PipedriveSandbox(token="t", burst=2, search_burst=1)
    async with client(sandbox) as http:
        first = await http.get("/api/v2/persons")
        assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("2", "1")
        await http.get("/api/v2/persons")
        limited = await http.get("/api/v2/persons")
        assert limited.status_code == 429 and is_error_body(limited.json())
        assert (
            limited.headers["x-ratelimit-remaining"] == "0"
            and 1 <= int(limited.headers["x-ratelimit-reset"]) <= 2
        )
        # Search has a window of its own.
        search = await http.get("/api/v2/persons/search", params={"term": "ab", "fields": "name"})
        assert search.status_code == 200 and search.headers["x-ratelimit-limit"] == "1"
        again = await http.get("/api/v2/persons/search", params={"term": "ab", "fields": "name"})
        assert again.status_code == 429


async def test_the_daily_token_budget_is_spent_by_x_token_cost_then_refused() -> None:
    sandbox = PipedriveSandbox(token="t", tokens_per_day=25)
    async with client(sandbox) as http:
        assert (
            await http.get("/api/v2/persons/search", params={"term": "ab", "fields": "name"})
        ).status_code == 200
        assert (await http.post("/api/v2/persons", json={"name": "A"})).status_code == 200
        assert sandbox.tokens_used() == 25
        refused = await http.get("/api/v2/persons/1")
        assert refused.status_code == 429 and "Daily API token limit" in refused.json()["error"]
        assert sandbox.tokens_used() == 25, "a refused request costs nothing"


async def test_hammering_through_429s_gets_cloudflare_s_403_page() -> None:
    sandbox = PipedriveSandbox(token="t", burst=1, hammer_limit=3, block_s=60)
    async with client(sandbox) as http:
        statuses = [(await http.get("/api/v2/persons")).status_code for _ in range(5)]
        assert statuses == [200, 429, 429, 429, 403]
        blocked = await http.get("/api/v2/persons")
        assert blocked.status_code == 403 and "Cloudflare" in blocked.text
        assert blocked.headers["content-type"].startswith("text/html")


async def test_faults_come_after_authentication_and_a_partial_batch_fails_its_one_write() -> None:
    plan = FaultPlan.model_validate(
        {"rules": [{"path": "/api/v2/persons", "method": "POST", "fault": "partial_batch", "status": 500, "times": 1},
                   {"path": "/api/v2/organizations", "fault": "status", "status": 429, "times": 1}]}
    )  # fmt: skip
    sandbox = PipedriveSandbox(token="t", faults=plan)
    async with client(sandbox) as http:
        async with client(sandbox, {"x-api-token": "wrong"}) as stranger:
            assert (await stranger.post("/api/v2/persons", json={"name": "A"})).status_code == 401
        failed = await http.post("/api/v2/persons", json={"name": "A"})
        assert failed.status_code == 500 and is_error_body(failed.json()) and sandbox.records("persons") == []
        assert (await http.post("/api/v2/persons", json={"name": "A"})).status_code == 200
        throttled = await http.get("/api/v2/organizations")
        assert throttled.status_code == 429 and throttled.headers["x-ratelimit-remaining"] == "0"


def test_a_dropped_answer_still_commits_the_create() -> None:
    plan = FaultPlan.model_validate(
        {"rules": [{"path": "/api/v2/persons", "method": "POST", "fault": "drop_response_after_commit"}]}
    )
    sandbox = PipedriveSandbox(token="t", faults=plan)
    with (
        SandboxServer(sandbox.app()) as server,
        httpx.Client(base_url=server.base_url, headers=H) as http,
        pytest.raises(httpx.TransportError),
    ):
        http.post("/api/v2/persons", json={"name": "A"})
    assert [r["name"] for r in sandbox.records("persons")] == ["A"]


def test_the_listing_reads_records_through_pipedrive_s_own_endpoints() -> None:
    from callsync_sandbox.pipedrive.listing import EMULATOR, records

    sandbox = PipedriveSandbox(token="t", custom_fields={"persons": [{"name": "callsync_origin_call_id"}]})
    key = sandbox.field_key("persons", "callsync_origin_call_id")
    for i in range(3):
        sandbox.insert(
            "persons",
            {"name": f"P{i}", "emails": [{"value": f"p{i}@x.com"}], "custom_fields": {key: f"c-{i}"}},
        )
    with (
        SandboxServer(EMULATOR.build("t", None)) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer t"}) as http,
    ):
        rows = records(http, "persons", EMULATOR.columns)
    assert [
        (r["name"], r["email"], r["callsync_origin_call_id"]) for r in rows
    ] == []  # a new emulator: empty
    with SandboxServer(sandbox.app()) as server, httpx.Client(base_url=server.base_url, headers=H) as http:
        rows = records(http, "persons", EMULATOR.columns)
    assert [(r["name"], r["email"], r["callsync_origin_call_id"]) for r in rows] == [
        (f"P{i}", f"p{i}@x.com", f"c-{i}") for i in range(3)
    ]
