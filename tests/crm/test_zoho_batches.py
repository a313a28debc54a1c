"""The Zoho adapter in batching mode (group commit) against the emulator over HTTP: concurrent attempts
share Zoho's multi-record requests, each still gets its own answer (a record refused, a lost answer, a
batch refused whole), and the credits spent are what Zoho charges."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callsync.crm.http.budget import BudgetKey, BudgetSettings, CreditBudget, MemoryBudgetStore
from callsync.crm.phones import phone_variants
from callsync.crm.protocol import (
    AmbiguousWriteError,
    AuthenticationError,
    ConflictError,
    IdentityQuery,
    InvalidValueError,
    RateLimited,
    RecordRef,
    WriteRequest,
)
from callsync.crm.zoho.adapter import ZohoAdapter
from callsync.crm.zoho.batches import (
    COQL_CRITERIA_MAX,
    CRITERIA_CHARS_MAX,
    RECENT_NAMES,
    coql_value,
    criteria_terms,
    join_or,
    look_alike_queries,
    pack,
    write_credits,
)
from callsync.pipeline.worker import drain, running_worker
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.zoho import ZohoSandbox, coql
from tests.crm.harness import KITS, HarnessFactory
from tests.pipeline.test_engine import call_payload

TOKEN = "sandbox-token"
STAMP, LAST = "callsync_origin_call_id", "callsync_last_call_id"
FIELDS = ("Email", "Phone", "First_Name", "Last_Name", "Company", STAMP, LAST)
PERSONS = ("Leads", "Contacts")
_accounts = iter(range(10**6))


@pytest.fixture
def org() -> Iterator[Callable[..., tuple[ZohoSandbox, str]]]:
    servers: list[SandboxServer] = []

    def make(faults: dict[str, Any] | None = None, **kw: Any) -> tuple[ZohoSandbox, str]:
        sandbox = ZohoSandbox(token=TOKEN, faults=FaultPlan.model_validate(faults) if faults else None, **kw)
        server = SandboxServer(sandbox.app())
        server.__enter__()
        servers.append(server)
        return sandbox, server.base_url

    yield make
    for server in servers:
        server.__exit__(None, None, None)


def run(
    base_url: str, body: Callable[[ZohoAdapter], Awaitable[Any]], budget: CreditBudget | None = None
) -> Any:
    """`body` gets the shared (pool) adapter; each attempt it runs takes `adapter.attempt()`."""

    async def scenario() -> Any:
        # A fresh account per run: field metadata is cached per account for the process.
        shared = ZohoAdapter(
            TOKEN, base_url, timeout_s=2.0, batching=True, budget=budget, account=f"batch-{next(_accounts)}"
        )
        try:
            await shared.attempt().ensure_schema("Leads", [STAMP, LAST])
            return await body(shared)
        finally:
            await shared.aclose()

    return asyncio.run(scenario())


def logged(sandbox: ZohoSandbox, at_least: int) -> list[tuple[str, str, int]]:
    """The request log once it holds `at_least` entries (the emulator logs a request as its answer
    leaves, so the client may see the answer first; bounded wait)."""
    for _ in range(100):
        if len(sandbox.request_log) >= at_least:
            break
        time.sleep(0.02)
    time.sleep(0.1)
    return sandbox.request_log


def person(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "Email": f"caller{i}@example.com",
        "Phone": f"+1415555{i:04d}",
        "First_Name": f"First{i}",
        "Last_Name": f"Last{i}",
        "Company": f"Company {i}",
        STAMP: f"call-{i}",
        LAST: f"call-{i}",
    } | fields


def create(i: int, **fields: Any) -> WriteRequest:
    return WriteRequest("Leads", person(i, **fields), None, f"t:zoho:call-{i}:create")


def query(**kw: Any) -> IdentityQuery:
    return IdentityQuery(object_types=PERSONS, stamp_field=STAMP, fields=FIELDS, **kw)


def paths(log: list[tuple[str, str, int]]) -> list[str]:
    return [f"{method} {path}" for method, path, _ in log]


def test_ten_concurrent_attempts_share_one_request_per_step(org: Any) -> None:
    sandbox, url = org()

    async def attempt(shared: ZohoAdapter, i: int) -> None:
        adapter = shared.attempt()
        p = person(i)
        found = await adapter.find(query(email=p["Email"], phone=p["Phone"], origin_call_id=p[STAMP]))
        assert found.by_email == found.by_phone == found.by_origin == ()
        result = await adapter.write(create(i))
        assert result.created
        back = await adapter.read(result.ref, FIELDS)
        assert back is not None and back.fields["Email"] == p["Email"]

    async def body(shared: ZohoAdapter) -> int:
        before = len(logged(sandbox, 0))
        await asyncio.gather(*(attempt(shared, i) for i in range(10)))
        return before

    before = run(url, body)
    sent = paths(logged(sandbox, before + 4)[before:])
    assert sorted(sent) == [
        "GET /crm/v8/Contacts/search",  # the callers' keys, in each person module
        "GET /crm/v8/Leads",  # the read-back, by ids
        "GET /crm/v8/Leads/search",
        "POST /crm/v8/Leads/upsert",  # ten creates, one upsert on the origin stamp
    ]
    assert len(sandbox.records("Leads")) == 10


def test_attempts_starting_on_a_cold_cache_read_each_module_s_fields_once(org: Any) -> None:
    sandbox, url = org()

    async def body() -> None:
        shared = ZohoAdapter(TOKEN, url, timeout_s=2.0, batching=True, account=f"cold-{next(_accounts)}")
        try:
            await asyncio.gather(*(shared.attempt().ensure_schema("Leads", [STAMP, LAST]) for _ in range(10)))
        finally:
            await shared.aclose()

    asyncio.run(body())
    assert sandbox.count_requests("GET", "/crm/v8/settings/fields") == 2, "Leads and Contacts, once each"


def test_lookups_in_one_search_each_get_their_own_records(org: Any) -> None:
    sandbox, url = org()
    # Stored in other shapes than the E.164 the callers give: national form, a mobile, an email in caps.
    sandbox.insert("Leads", person(1, Phone="(415) 555-0001", Email=None, **{STAMP: None}))
    sandbox.insert("Leads", person(2, Phone=None, Mobile="415-555-0002", Email=None, **{STAMP: None}))
    sandbox.insert("Contacts", person(3, Email="CALLER3@example.com", Phone=None, **{STAMP: None}))
    sandbox.insert("Leads", person(4, Email=None, Phone=None))  # stamped call-4

    async def body(shared: ZohoAdapter) -> list[Any]:
        before = len(logged(sandbox, 0))
        found = await asyncio.gather(
            shared.attempt().find(query(phone="+14155550001")),
            shared.attempt().find(query(phone="+14155550002")),
            shared.attempt().find(query(email="caller3@example.com")),
            shared.attempt().find(query(origin_call_id="call-4")),
            shared.attempt().find(query(email="nobody@example.com", phone="+14155559999")),
        )
        searches = [p for p in paths(logged(sandbox, before + 2)[before:]) if p.endswith("/search")]
        assert sorted(searches) == ["GET /crm/v8/Contacts/search", "GET /crm/v8/Leads/search"]
        return found

    one, two, three, four, nobody = run(url, body)
    assert [r.fields["Last_Name"] for r in one.by_phone] == ["Last1"]
    assert [r.fields["Last_Name"] for r in two.by_phone] == ["Last2"]
    assert [(r.ref.object_type, r.fields["Last_Name"]) for r in three.by_email] == [("Contacts", "Last3")]
    assert [r.fields["Last_Name"] for r in four.by_origin] == ["Last4"]
    assert nobody.by_email == nobody.by_phone == nobody.by_origin == ()


def test_a_converted_lead_found_or_read_in_a_batch_is_followed_to_its_contact(org: Any) -> None:
    sandbox, url = org()
    converted = sandbox.insert("Leads", person(5, Phone=None, **{STAMP: None}))
    contact = sandbox.convert_lead(converted)["Contacts"]["id"]
    other = sandbox.insert("Leads", person(6, **{STAMP: None}))

    async def body(shared: ZohoAdapter) -> tuple[Any, ...]:
        return await asyncio.gather(
            shared.attempt().find(query(email="caller5@example.com")),
            shared.attempt().read(RecordRef("Leads", converted), FIELDS),
            shared.attempt().read(RecordRef("Leads", other), FIELDS),
        )

    found, read, plain = run(url, body)
    assert [r.ref for r in found.by_email] == [RecordRef("Contacts", contact)]
    assert read is not None and read.ref == RecordRef("Contacts", contact)
    assert plain is not None and plain.ref == RecordRef("Leads", other)


def test_a_record_refused_gets_its_own_error_and_the_rest_of_the_batch_lands(org: Any) -> None:
    sandbox, url = org()

    async def body(shared: ZohoAdapter) -> list[Any]:
        return await asyncio.gather(
            shared.attempt().write(create(1)),
            shared.attempt().write(create(2, Email="not an email")),
            shared.attempt().write(create(3)),
            return_exceptions=True,
        )

    first, bad, third = run(url, body)
    assert isinstance(bad, InvalidValueError) and bad.fields == ("Email",)
    assert not isinstance(first, Exception) and not isinstance(third, Exception)
    assert sandbox.count_requests("POST", "/crm/v8/Leads/upsert") == 1
    assert sorted(r["Email"] for r in sandbox.records("Leads")) == [
        "caller1@example.com",
        "caller3@example.com",
    ]


def test_a_create_holding_another_record_s_email_gets_that_record_as_a_conflict(org: Any) -> None:
    sandbox, url = org()
    existing = sandbox.insert("Leads", person(1, **{STAMP: None}))

    async def body(shared: ZohoAdapter) -> list[Any]:
        return await asyncio.gather(
            shared.attempt().write(create(9, Email="caller1@example.com")),
            shared.attempt().write(create(2)),
            return_exceptions=True,
        )

    conflict, landed = run(url, body)
    assert isinstance(conflict, ConflictError) and conflict.existing_id == existing
    assert not isinstance(landed, Exception) and landed.created


def test_a_lost_answer_is_ambiguous_for_every_record_and_the_stamp_upsert_makes_no_duplicate(
    org: Any,
) -> None:
    rule = {
        "method": "POST",
        "path": "/crm/v8/Leads/upsert",
        "fault": "drop_response_after_commit",
        "times": 1,
    }
    sandbox, url = org({"rules": [rule]})

    async def body(shared: ZohoAdapter) -> tuple[list[Any], list[Any]]:
        lost = await asyncio.gather(
            *(shared.attempt().write(create(i)) for i in range(3)), return_exceptions=True
        )
        # The next attempts send the same creates again (the search index may not show the records yet).
        again = await asyncio.gather(*(shared.attempt().write(create(i)) for i in range(3)))
        return lost, again

    lost, again = run(url, body)
    assert all(isinstance(r, AmbiguousWriteError) for r in lost)
    assert all(not r.created for r in again), "each found by its stamp and updated, not created again"
    assert sorted(r[STAMP] for r in sandbox.records("Leads")) == ["call-0", "call-1", "call-2"]
    assert sandbox.count_requests("POST", "/crm/v8/Leads/upsert") == 2


def test_a_batch_refused_whole_is_split_so_each_record_gets_its_own_answer(org: Any) -> None:
    rule = {"method": "POST", "path": "/crm/v8/Leads/upsert", "fault": "status", "status": 400, "times": 1}
    sandbox, url = org({"rules": [rule]})

    async def body(shared: ZohoAdapter) -> list[Any]:
        return await asyncio.gather(
            *(shared.attempt().write(create(i)) for i in range(3)), return_exceptions=True
        )

    results = run(url, body)
    assert all(not isinstance(r, Exception) and r.created for r in results)
    logged(sandbox, 4)
    assert sandbox.count_requests("POST", "/crm/v8/Leads/upsert") == 1 + 3, "refused once, then one by one"
    assert len(sandbox.records("Leads")) == 3


def test_a_batch_refused_for_its_token_is_not_split(org: Any) -> None:
    rule = {"method": "POST", "path": "/crm/v8/Leads/upsert", "fault": "status", "status": 401, "times": 1}
    sandbox, url = org({"rules": [rule]})

    async def body(shared: ZohoAdapter) -> list[Any]:
        return await asyncio.gather(
            *(shared.attempt().write(create(i)) for i in range(3)), return_exceptions=True
        )

    results = run(url, body)
    assert all(isinstance(r, AuthenticationError) for r in results)
    logged(sandbox, 3)
    assert sandbox.count_requests("POST", "/crm/v8/Leads/upsert") == 1


def test_updates_of_one_record_go_in_separate_requests_and_both_land(org: Any) -> None:
    sandbox, url = org()

    async def body(shared: ZohoAdapter) -> None:
        one = (await shared.attempt().write(create(1))).ref.record_id
        two = (await shared.attempt().write(create(2))).ref.record_id
        before = len(logged(sandbox, 0))
        await asyncio.gather(
            shared.attempt().write(WriteRequest("Leads", {"First_Name": "Ann"}, one, "u1")),
            shared.attempt().write(WriteRequest("Leads", {"Last_Name": "Lee"}, one, "u2")),
            shared.attempt().write(WriteRequest("Leads", {"Last_Name": "Other"}, two, "u3")),
        )
        updates = [p for p in paths(logged(sandbox, before + 2)[before:]) if p == "PUT /crm/v8/Leads"]
        assert len(updates) == 2, "one record is written once a request"

    run(url, body)
    names = {r["Email"]: (r["First_Name"], r["Last_Name"]) for r in sandbox.records("Leads")}
    assert names == {"caller1@example.com": ("Ann", "Lee"), "caller2@example.com": ("First2", "Other")}


def test_look_alike_names_of_several_callers_come_from_one_search_a_module(org: Any) -> None:
    sandbox, url = org()
    sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": "Whitfield", "Company": "N"})
    sandbox.insert("Leads", {"First_Name": "Priya", "Last_Name": "Raman", "Company": "N"})
    sandbox.insert("Accounts", {"Account_Name": "Northwind Traders"})

    async def body(shared: ZohoAdapter) -> list[Any]:
        before = len(logged(sandbox, 0))
        found = await asyncio.gather(
            shared.attempt().find(IdentityQuery(("Leads",), name="dana whitfeld")),
            shared.attempt().find(IdentityQuery(("Leads",), name="Prya Raman")),
            shared.attempt().find(IdentityQuery(("Leads",), name="Zed Quinn")),
            shared.attempt().find(IdentityQuery(("Accounts",), name="northwind traders")),
            shared.attempt().find(IdentityQuery(("Accounts",), name="Southwind")),
        )
        sent = [p for p in paths(logged(sandbox, before + 2)[before:]) if "/settings/" not in p]
        assert sorted(sent) == ["GET /crm/v8/Accounts/search", "POST /crm/v8/coql"]
        return found

    dana, priya, nobody, northwind, southwind = run(url, body)
    assert [r.fields["name"] for r in dana.by_name] == ["Dana Whitfield"]
    assert [r.fields["name"] for r in priya.by_name] == ["Priya Raman"]
    assert nobody.by_name == southwind.by_name == ()
    assert [r.fields["name"] for r in northwind.by_name] == ["Northwind Traders"]


def test_a_common_first_name_reads_the_recent_look_alikes_and_the_whole_name_not_every_match(
    org: Any,
) -> None:
    """Every "Dana" shares a word with a new Dana Whitfield: the lookup reads the most recently modified
    page of them (COQL, sorted) and the records with the whole name, not all 452."""
    sandbox, url = org()
    exact = sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": "Whitfield", "Company": "N"})
    for i in range(450):
        sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": f"Other{i}", "Company": "N"})
    time.sleep(1.1)  # the emulator stamps Modified_Time to the second
    recent = sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": "Whitfeldt", "Company": "N"})

    async def body(shared: ZohoAdapter) -> None:
        before = len(logged(sandbox, 0))
        found = await shared.attempt().find(IdentityQuery(("Leads",), name="Dana Whitfield"))
        ids = {r.ref.record_id for r in found.by_name}
        assert {exact, recent} <= ids, "the exact name, and the recent misspelling"
        assert len(ids) <= RECENT_NAMES + 1, len(ids)
        sent = [p for p in paths(logged(sandbox, before + 2)[before:]) if "/settings/" not in p]
        assert sent == ["POST /crm/v8/coql", "POST /crm/v8/coql"], sent  # recent look-alikes, whole name

    run(url, body)


def test_credits_spent_are_what_zoho_charges_and_a_batch_costs_one_per_ten_records(org: Any) -> None:
    sandbox, url = org()
    store = MemoryBudgetStore()
    budget = CreditBudget(BudgetKey("zoho", "batches", "zoho test"), BudgetSettings(10_000, 0), store=store)

    async def attempt(shared: ZohoAdapter, i: int) -> None:
        adapter = shared.attempt()
        p = person(i)
        await adapter.find(query(email=p["Email"], phone=p["Phone"], origin_call_id=p[STAMP]))
        result = await adapter.write(create(i))
        assert await adapter.read(result.ref, FIELDS) is not None

    async def body(shared: ZohoAdapter) -> int:
        sandbox.reset_credits()  # what ensure_schema spent is not the attempts'
        spent_before = budget.state().spent
        await asyncio.gather(*(attempt(shared, i) for i in range(25)))
        return sum(budget.state().spent.values()) - sum(spent_before.values())

    spent = run(url, body, budget)
    # A search 1 credit each (25 callers' keys take a few per module, to keep the URL short), one upsert of
    # 25 records 3, one read of 25 ids 1: about 10 credits for 25 attempts, against 4 x 25 = 100 one by one.
    assert write_credits(25) == 3 and write_credits(100) == 10 and write_credits(1) == 1
    sent = paths(logged(sandbox, 4))
    searches = sum(1 for p in sent if p.endswith("/search"))
    assert sent.count("POST /crm/v8/Leads/upsert") == sent.count("GET /crm/v8/Leads") == 1
    assert sandbox.credits.used() == searches + 3 + 1 < 25
    assert spent == sandbox.credits.used(), "callsync's shared count is Zoho's"


def test_new_attempts_wait_for_credits_while_one_that_wrote_still_confirms(org: Any) -> None:
    _sandbox, url = org()
    budget = CreditBudget(
        BudgetKey("zoho", "reserve", "zoho test"), BudgetSettings(40, 10), store=MemoryBudgetStore()
    )

    async def body(shared: ZohoAdapter) -> Any:
        writer = shared.attempt()
        result = await writer.write(create(1))
        # Spend down to the reserve: only urgent work may go on.
        await budget.spend(40 - 10 - sum(budget.state().spent.values()))
        with pytest.raises(RateLimited):
            await shared.attempt().find(query(email="caller2@example.com"))
        return await writer.read(result.ref, FIELDS)

    back = run(url, body, budget)
    assert back is not None and back.fields[STAMP] == "call-1", "a written attempt confirms from the reserve"


def test_keys_of_many_callers_fit_in_ten_criteria_and_long_lists_are_split() -> None:
    values = [f"+1415555{i:04d}" for i in range(120)]
    terms = criteria_terms("Phone", values)
    assert len(terms) == 3 and all(t.startswith("(Phone:in:") for t in terms)
    assert criteria_terms("Email", ["a(b),c@x.com"]) == ["(Email:equals:a\\(b\\)\\,c@x.com)"]
    # 25 callers' keys: every search within 10 criteria and a URL-encoded criteria of 4,000 characters.
    emails = [f"firstname.lastname{i}@example-company.com" for i in range(25)]
    stamps = [f"sync:tenant-one:call-{i:08d}" for i in range(25)]
    shapes = [v for i in range(25) for v in phone_variants(f"+1415555{i:04d}")]
    everything = criteria_terms("Email", emails) + criteria_terms(STAMP, stamps)
    everything += criteria_terms("Phone", shapes) + criteria_terms("Mobile", shapes)
    searches = pack(everything)
    assert [t for group in searches for t in group] == everything
    assert all(len(g) <= 10 and len(quote(join_or(g), safe="")) <= CRITERIA_CHARS_MAX for g in searches)
    assert len(searches) <= 3


def test_an_engine_run_syncs_many_calls_to_zoho_in_fewer_requests_than_calls(make_harness: Any) -> None:
    calls = 64
    # With the CRM's latency, the attempts that arrive while a request is out wait and leave together.
    h = make_harness(KITS["zoho"], latency_s=0.3)
    h.ingest(
        *(
            call_payload(
                f"c-{i}",
                [f"hi my name is caller{i} person{i}", f"my email is caller{i} at example dot com"],
                from_=f"+1415556{i:04d}",
            )
            for i in range(calls)
        )
    )
    with running_worker(h.runtime(), poll_s=0.05, concurrency=calls):
        state = drain(h.db, timeout_s=120)
    assert (state.confirmed, state.queued, state.dead_letter) == (calls, 0, 0)
    assert sorted(p["stamp"] for p in h.people()) == sorted(f"c-{i}" for i in range(calls)), "one lead each"
    crm = [p for p in paths(h.sandbox.request_log) if "/settings/" not in p]
    # One by one a call costs seven requests (two searches, the upsert, its read, the call log's search,
    # upsert and read); sharing them, the run costs fewer requests than it has calls.
    assert len(crm) < calls, f"{len(crm)} requests for {calls} calls"


@pytest.fixture
def make_harness(sqlite_db: Any) -> Iterator[HarnessFactory]:
    factory = HarnessFactory(sqlite_db)
    yield factory
    for server in factory.servers:
        server.stop()


# -- the emulator answers these requests as Zoho documents them, from indexes --------------------------


async def test_emulator_reads_by_ids_up_to_100_and_searches_or_criteria_through_its_indexes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpx

    from callsync_sandbox.zoho import criteria

    sandbox = ZohoSandbox(token=TOKEN)
    ids = [sandbox.insert("Leads", person(i, **{STAMP: f"call-{i}"})) for i in range(300)]
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app()),
        base_url="http://zoho.test/crm/v8",
        headers={"Authorization": f"Zoho-oauthtoken {TOKEN}"},
    )
    compared: list[int] = []
    real = criteria.matches
    monkeypatch.setattr(criteria, "matches", lambda c, get: compared.append(1) or real(c, get))

    found = await client.get("/Leads", params={"ids": ",".join([ids[5], ids[1], "999"]), "fields": "Email"})
    assert [r["id"] for r in found.json()["data"]] == [ids[1], ids[5]]
    too_many = await client.get("/Leads", params={"ids": ",".join(ids[:101]), "fields": "Email"})
    assert too_many.status_code == 400 and too_many.json()["code"] == "LIMIT_EXCEEDED"

    query = "((Email:in:caller7@example.com,CALLER9@example.com)or(Phone:equals:+14155550011))"
    hits = (await client.get("/Leads/search", params={"criteria": query, "fields": "Email"})).json()["data"]
    assert sorted(r["Email"] for r in hits) == [
        "caller11@example.com",
        "caller7@example.com",
        "caller9@example.com",
    ]
    # Three candidates from the indexes, each compared against the `or` and its two terms at most: a scan
    # would compare all 300 records.
    assert len(compared) <= 3 * 3, "only the indexed candidates are compared"

    upsert = await client.post(
        "/Leads/upsert",
        json={"data": [person(400 + i) for i in range(21)], "duplicate_check_fields": [STAMP]},
    )
    assert upsert.status_code == 200 and [i["action"] for i in upsert.json()["data"]] == ["insert"] * 21
    sandbox.reset_credits()
    await client.post(
        "/Leads/upsert",
        json={"data": [person(500 + i) for i in range(21)], "duplicate_check_fields": [STAMP]},
    )
    assert sandbox.credits.used() == 3, "21 records: 1 credit per 10"
    await client.aclose()


@given(value=st.text(min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_a_coql_value_reads_back_as_itself(value: str) -> None:
    parsed = coql.parse(f"select id from Leads where Last_Name = {coql_value(value)}")
    assert parsed.where is not None and parsed.where.values == (value,)  # type: ignore[union-attr]


@given(
    names=st.lists(
        st.from_regex(r"[A-Za-z'][a-z]{0,8}( [A-Za-z][a-z' -]{0,8}){0,2}", fullmatch=True),
        min_size=1,
        max_size=100,
    )
)
@settings(max_examples=50, deadline=None)
def test_look_alike_queries_are_queries_zoho_accepts_for_any_batch_of_names(names: list[str]) -> None:
    recent, exact = look_alike_queries("Leads", ["Email", "Full_Name"], names, ("First_Name", "Last_Name"))
    for text in [*recent, *exact]:
        query = coql.parse(text)  # at most 25 criteria, bracketed pairwise, `in` of at most 50 values
        assert query.limit == RECENT_NAMES
    assert all("order by Modified_Time desc" in q for q in recent)
    # 100 callers' first and last words are at most four `in` criteria of 50: one query.
    assert len(recent) == 1 and COQL_CRITERIA_MAX >= 4
