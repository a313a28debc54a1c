"""The Salesforce adapter in batching mode against the emulator over HTTP: concurrent attempts share SOQL
queries and sObject Collections, and each still gets its own answer (a refused record, a lost answer, a
request refused whole)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from callsync.config import EXAMPLES_DIR, CRMConnection, TenantConfig
from callsync.crm.pool import AdapterPool
from callsync.crm.protocol import (
    ActionKind,
    ActionOutcome,
    ActionRequest,
    AmbiguousWriteError,
    IdentityQuery,
    PermanentError,
    RecordRef,
    TransientError,
    WriteRequest,
    WriteResult,
)
from callsync.crm.salesforce.adapter import NAME_PAGE, SalesforceAdapter
from callsync.crm.salesforce.batches import matched, query_chunks, rounds
from callsync.pipeline.worker import drain, running_worker
from callsync.store.db import Database
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.salesforce import SalesforceSandbox
from callsync_sandbox.server import SandboxServer
from tests.crm.harness import KITS, HarnessFactory
from tests.pipeline.test_engine import call_payload

TOKEN = "sandbox-token"
V = "/services/data/v62.0"
STAMP, LAST = "callsync_origin_call_id__c", "callsync_last_call_id__c"
FIELDS = ("Email", "Phone", "FirstName", "LastName", "Company", STAMP, LAST)
UPSERT = f"{V}/composite/sobjects/Lead/{STAMP}"


@pytest.fixture
def org() -> Iterator[Callable[..., tuple[SalesforceSandbox, str]]]:
    servers: list[SandboxServer] = []

    def make(faults: list[dict[str, Any]] | None = None, **kw: Any) -> tuple[SalesforceSandbox, str]:
        plan = FaultPlan.model_validate({"rules": faults}) if faults else None
        sandbox = SalesforceSandbox(token=TOKEN, faults=plan, **kw)
        server = SandboxServer(sandbox.app())
        server.__enter__()
        servers.append(server)
        return sandbox, server.base_url

    yield make
    for server in servers:
        server.__exit__(None, None, None)


def run(base_url: str, body: Callable[[SalesforceAdapter], Awaitable[Any]], *, batching: bool = True) -> Any:
    async def scenario() -> Any:
        root = SalesforceAdapter(TOKEN, base_url, timeout_s=2.0, batching=batching)
        try:
            await root.ensure_schema("Lead", [STAMP, LAST])
            return await body(root)
        finally:
            await root.aclose()

    return asyncio.run(scenario())


def logged(sandbox: SalesforceSandbox, at_least: int) -> list[tuple[str, str, int]]:
    """The request log once it holds `at_least` entries (the emulator logs a request as its answer
    leaves, so the client may see the answer first; bounded wait)."""
    for _ in range(100):
        if len(sandbox.request_log) >= at_least:
            break
        time.sleep(0.02)
    time.sleep(0.1)
    return sandbox.request_log


def person(i: int) -> dict[str, Any]:
    return {
        "Email": f"caller{i}@example.com",
        "Phone": f"+1415555{i:04d}",
        "FirstName": f"First{i}",
        "LastName": f"Last{i}",
        "Company": "Northwind",
        STAMP: f"call-{i}",
        LAST: f"call-{i}",
    }


def create(i: int, **fields: Any) -> WriteRequest:
    return WriteRequest("Lead", person(i) | fields, None, f"t:salesforce:call-{i}:create")


def lookup(i: int) -> IdentityQuery:
    p = person(i)
    return IdentityQuery(("Lead", "Contact"), p["Email"], p["Phone"], p[STAMP], STAMP, FIELDS)


def test_ten_concurrent_attempts_share_one_query_per_lookup_and_one_collection(org: Any) -> None:
    sandbox, url = org()

    async def attempt(adapter: SalesforceAdapter, i: int) -> None:
        found = await adapter.find(lookup(i))
        assert found.by_email == found.by_phone == found.by_origin == ()
        result = await adapter.write(create(i))
        assert result.created
        back = await adapter.read(result.ref, FIELDS)
        assert back is not None and back.fields["Email"] == f"caller{i}@example.com"

    async def body(root: SalesforceAdapter) -> int:
        before = len(logged(sandbox, 0))
        # Each attempt has its own adapter view, as the pool hands them out: the batches are shared.
        await asyncio.gather(*(attempt(root.attempt(), i) for i in range(10)))
        return before

    before = run(url, body)
    sent = [(m, p) for m, p, _ in logged(sandbox, before + 4)[before:]]
    assert sent.count(("PATCH", UPSERT)) == 1, sent
    # The keys of every caller in Leads, the same in Contacts, then the read-back of every create.
    assert sent.count(("GET", f"{V}/query")) == 3, sent
    assert len(sent) == 4
    assert sorted(r["Email"] for r in sandbox.records("Lead")) == sorted(
        f"caller{i}@example.com" for i in range(10)
    )


def test_lookups_in_one_query_each_get_their_own_records(org: Any) -> None:
    sandbox, url = org()
    typed = sandbox.insert("Lead", {**person(1), "Phone": "(415) 555-0001"})  # as a rep types it
    contact = {k: v for k, v in person(2).items() if k != "Company"} | {"Phone": None}
    mobile = sandbox.insert("Contact", {**contact, "MobilePhone": "+1 415-555-0002"})
    stamped = sandbox.insert("Lead", person(3))

    async def body(root: SalesforceAdapter) -> list[Any]:
        before = len(logged(sandbox, 0))
        queries = [
            IdentityQuery(("Lead", "Contact"), None, "+14155550001", fields=FIELDS),
            IdentityQuery(("Lead", "Contact"), None, "+14155550002", fields=FIELDS),
            IdentityQuery(("Lead", "Contact"), "CALLER3@example.com", None, fields=FIELDS),
            IdentityQuery(("Lead", "Contact"), "nobody@example.com", "+14155559999", "call-9", STAMP, FIELDS),
            IdentityQuery(("Lead", "Contact"), None, None, "call-3", STAMP, FIELDS),
        ]
        found = await asyncio.gather(*(root.attempt().find(q) for q in queries))
        queried = [p for _, p, _ in logged(sandbox, before + 2)[before:] if p == f"{V}/query"]
        assert len(queried) == 2, "one query in Leads and one in Contacts for all five callers"
        return found

    found = run(url, body)
    assert [r.ref.record_id for r in found[0].by_phone] == [typed]
    assert [r.ref.record_id for r in found[1].by_phone] == [mobile]
    assert [r.ref.record_id for r in found[2].by_email] == [stamped]
    assert found[3].by_email == found[3].by_phone == found[3].by_origin == ()
    assert [r.ref.record_id for r in found[4].by_origin] == [stamped]
    assert found[4].by_email == (), "a record found by its stamp is not an email hit of another lookup"


def test_a_refused_record_gets_its_own_error_and_the_rest_of_the_collection_lands(org: Any) -> None:
    sandbox, url = org()

    async def body(root: SalesforceAdapter) -> list[Any]:
        return await asyncio.gather(
            root.attempt().write(create(1)),
            root.attempt().write(create(2, Email="not an email")),
            root.attempt().write(create(3)),
            return_exceptions=True,
        )

    first, bad, third = run(url, body)
    assert isinstance(first, WriteResult) and isinstance(third, WriteResult)
    assert isinstance(bad, PermanentError) and "INVALID_EMAIL_ADDRESS" in str(bad)
    assert sandbox.count_requests("PATCH", UPSERT) == 1
    assert sorted(r[STAMP] for r in sandbox.records("Lead")) == ["call-1", "call-3"]


def test_a_record_the_duplicate_rule_blocks_names_the_match_and_only_it_fails(org: Any) -> None:
    sandbox, url = org(duplicate_rules={"Lead": "block"})
    existing = sandbox.insert("Lead", person(7))

    async def body(root: SalesforceAdapter) -> list[Any]:
        return await asyncio.gather(
            root.attempt().write(create(1)),
            root.attempt().write(create(2, Email="caller7@example.com")),
            return_exceptions=True,
        )

    landed, blocked = run(url, body)
    assert isinstance(landed, WriteResult)
    assert isinstance(blocked, PermanentError) and existing in str(blocked), blocked
    assert sandbox.count_requests("PATCH", UPSERT) == 1


def test_a_locked_record_is_retryable_for_its_own_call_only(org: Any) -> None:
    rule = {"path": UPSERT, "fault": "partial_batch", "fail_ratio": 0.34, "times": 1}
    sandbox, url = org([rule])

    async def body(root: SalesforceAdapter) -> list[Any]:
        return await asyncio.gather(
            *(root.attempt().write(create(i)) for i in range(3)), return_exceptions=True
        )

    results = run(url, body)
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], TransientError)
    assert len(sandbox.records("Lead")) == 2


def test_a_lost_collection_answer_is_ambiguous_for_all_and_the_stamp_finds_each_once(org: Any) -> None:
    rule = {"method": "PATCH", "path": UPSERT, "fault": "drop_response_after_commit", "times": 1}
    sandbox, url = org([rule])

    async def body(root: SalesforceAdapter) -> None:
        results = await asyncio.gather(
            *(root.attempt().write(create(i)) for i in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, AmbiguousWriteError) for r in results), results

        # The next attempts look for their stamps first, as the engine does: each finds its own record...
        async def retry(i: int) -> str:
            adapter = root.attempt()
            (record,) = (await adapter.find(lookup(i))).by_origin
            # ... and a create sent again all the same lands on it (an upsert on the stamp).
            again = await adapter.write(create(i))
            assert not again.created and again.ref == record.ref
            return record.ref.record_id

        ids = await asyncio.gather(*(retry(i) for i in range(3)))
        assert len(set(ids)) == 3

    run(url, body)
    assert sorted(r[STAMP] for r in sandbox.records("Lead")) == ["call-0", "call-1", "call-2"]


def test_a_collection_refused_whole_is_split_and_each_record_answered_alone(org: Any) -> None:
    refused = {"method": "PATCH", "path": UPSERT, "fault": "status", "status": 400, "times": 1}
    sandbox, url = org([refused])

    async def body(root: SalesforceAdapter) -> list[Any]:
        return await asyncio.gather(*(root.attempt().write(create(i)) for i in range(3)))

    results = run(url, body)
    assert all(r.created for r in results)
    logged(sandbox, 3)
    assert sandbox.count_requests("PATCH", UPSERT) == 1
    assert sandbox.count_requests("PATCH", f"{V}/sobjects/Lead/{STAMP}/call-.") == 3
    assert len(sandbox.records("Lead")) == 3


def test_updates_of_one_record_go_in_separate_collections_and_both_land(org: Any) -> None:
    sandbox, url = org()
    one = sandbox.insert("Lead", person(1))
    two = sandbox.insert("Lead", person(2))
    three = sandbox.insert("Lead", person(3))

    async def body(root: SalesforceAdapter) -> None:
        await asyncio.gather(
            root.attempt().write(WriteRequest("Lead", {"FirstName": "Ann"}, one)),
            root.attempt().write(WriteRequest("Lead", {"Title": "CEO"}, one)),
            root.attempt().write(WriteRequest("Lead", {"Title": "CTO"}, two)),
            root.attempt().write(WriteRequest("Lead", {"Title": "CFO"}, three)),
        )

    run(url, body)
    logged(sandbox, 2)
    # A record named twice in one collection is refused for both: the second update waits for the next.
    assert sandbox.count_requests("PATCH", f"{V}/composite/sobjects") == 1
    assert sandbox.count_requests("PATCH", f"{V}/sobjects/Lead/.*") == 1
    by_id = {r["Id"]: r for r in sandbox.records("Lead")}
    assert (by_id[one]["FirstName"], by_id[one]["Title"]) == ("Ann", "CEO")
    assert (by_id[two]["Title"], by_id[three]["Title"]) == ("CTO", "CFO")


def test_an_update_in_a_collection_to_a_lead_converted_since_goes_to_its_contact(org: Any) -> None:
    sandbox, url = org()
    converted = sandbox.insert("Lead", person(1))
    other = sandbox.insert("Lead", person(2))
    contact = sandbox.convert_lead(converted)["contactId"]

    async def body(root: SalesforceAdapter) -> list[Any]:
        return await asyncio.gather(
            root.attempt().write(WriteRequest("Lead", {LAST: "call-9"}, converted)),
            root.attempt().write(WriteRequest("Lead", {LAST: "call-9"}, other)),
        )

    to_contact, to_lead = run(url, body)
    assert to_contact.ref == RecordRef("Contact", contact) and to_lead.ref == RecordRef("Lead", other)
    assert sandbox.count_requests("PATCH", f"{V}/composite/sobjects") == 1
    assert [c[LAST] for c in sandbox.records("Contact")] == ["call-9"]


@pytest.mark.parametrize("account_latency_ms", [0, 300])
def test_contacts_created_together_look_their_accounts_up_in_one_query(
    org: Any, account_latency_ms: int
) -> None:
    slow = [
        {
            "fault": "latency",
            "method": "POST",
            "path": f"{V}/sobjects/Account",
            "times": None,
            "latency": {"ms": account_latency_ms},
        }
    ]
    sandbox, url = org(slow if account_latency_ms else None)
    northwind = sandbox.insert("Account", {"Name": "Northwind"})
    sandbox.insert("Account", {"Name": "northwind"})  # a later one of the same name: the oldest wins

    def contact(i: int, company: str) -> WriteRequest:
        fields = {"LastName": f"Last{i}", "Account.Name": company, STAMP: f"call-{i}", LAST: f"call-{i}"}
        return WriteRequest("Contact", fields, None, f"t:salesforce:call-{i}:create")

    async def body(root: SalesforceAdapter) -> None:
        before = len(logged(sandbox, 0))
        await asyncio.gather(
            *(root.attempt().write(contact(i, c)) for i, c in enumerate(["Northwind", "NORTHWIND", "Globex"]))
        )
        sent = [(m, p) for m, p, _ in logged(sandbox, before + 3)[before:]]
        assert sent.count(("GET", f"{V}/query")) == 1, sent
        assert sent.count(("POST", f"{V}/sobjects/Account")) == 1, "only the new company is created"
        # The two contacts of a found Account leave together. The third waits on its Account's creation,
        # so it joins them only when that round trip beats the batch's linger (a timing, not a rule); a
        # slow creation never holds the others back.
        assert sent.count(("PATCH", f"{V}/composite/sobjects/Contact/{STAMP}")) == 1, sent
        alone = ("PATCH", f"{V}/sobjects/Contact/{STAMP}/call-2")
        if account_latency_ms:
            assert len(sent) == 4 and sent[-1] == alone, sent
        else:
            assert len(sent) == 3 or (len(sent) == 4 and alone in sent), sent

    run(url, body)
    accounts = {a["Id"]: a["Name"] for a in sandbox.records("Account")}
    linked = sorted(accounts[c["AccountId"]] for c in sandbox.records("Contact"))
    assert linked == ["Globex", "Northwind", "Northwind"]
    assert sum(1 for c in sandbox.records("Contact") if c["AccountId"] == northwind) == 2


def test_links_set_together_go_in_one_collection_of_updates(org: Any) -> None:
    sandbox, url = org()
    accounts = [sandbox.insert("Account", {"Name": f"A{i}"}) for i in range(3)]
    contacts = [sandbox.insert("Contact", {"LastName": f"C{i}"}) for i in range(3)]

    async def body(root: SalesforceAdapter) -> None:
        before = len(logged(sandbox, 0))
        await asyncio.gather(
            *(
                root.attempt().associate(RecordRef("Contact", c), RecordRef("Account", a))
                for c, a in zip(contacts, accounts, strict=True)
            )
        )
        sent = [(m, p) for m, p, _ in logged(sandbox, before + 1)[before:]]
        assert sent == [("PATCH", f"{V}/composite/sobjects")], sent

    run(url, body)
    links = {c["Id"]: c["AccountId"] for c in sandbox.records("Contact")}
    assert [links[c] for c in contacts] == accounts


def test_look_alike_names_and_reads_of_several_callers_come_from_one_query_each(org: Any) -> None:
    sandbox, url = org()
    dana = sandbox.insert("Lead", {**person(1), "FirstName": "Dana", "LastName": "Whitfield"})
    priya = sandbox.insert("Lead", {**person(2), "FirstName": "Priya", "LastName": "Raman"})

    async def body(root: SalesforceAdapter) -> None:
        before = len(logged(sandbox, 0))
        names = await asyncio.gather(
            root.attempt().find(IdentityQuery(("Lead",), name="dana whitfeld")),
            root.attempt().find(IdentityQuery(("Lead",), name="Prya Raman")),
            root.attempt().find(IdentityQuery(("Lead",), name="Zed Quinn")),
        )
        assert [r.ref.record_id for r in names[0].by_name] == [dana]
        assert [r.ref.record_id for r in names[1].by_name] == [priya]
        assert names[2].by_name == ()
        reads = await asyncio.gather(
            *(root.attempt().read(RecordRef("Lead", i), FIELDS) for i in (dana, priya, dana[:15]))
        )
        assert [r.ref.record_id if r else None for r in reads] == [dana, priya, dana]
        assert len(logged(sandbox, before + 2)) - before == 2

    run(url, body)


@pytest.mark.parametrize("batching", [True, False])
def test_a_look_alike_name_lookup_in_a_large_org_reads_the_recent_ones_and_the_exact_names_not_all(
    org: Any, batching: bool
) -> None:
    """Every "Dana" shares a word with a new Dana Whitfield: the lookup reads the most recently modified
    NAME_PAGE of them and every record with the whole name, not all 452 (batched or not)."""
    sandbox, url = org()
    exact = sandbox.insert("Lead", {**person(1), "FirstName": "Dana", "LastName": "Whitfield"})
    for i in range(450):
        sandbox.insert("Lead", {**person(100 + i), "FirstName": "Dana", "LastName": f"Other{i}"})
    time.sleep(1.1)  # the emulator stamps LastModifiedDate to the second
    recent = sandbox.insert("Lead", {**person(2), "FirstName": "Dana", "LastName": "Whitfeldt"})

    async def body(root: SalesforceAdapter) -> None:
        before = len(logged(sandbox, 0))
        found = await root.attempt().find(IdentityQuery(("Lead",), name="Dana Whitfield"))
        ids = {r.ref.record_id for r in found.by_name}
        assert {exact, recent} <= ids, "the exact name, and the recent misspelling"
        assert len(ids) <= NAME_PAGE + 2, len(ids)
        queries = [p for _, p, _ in logged(sandbox, before + 2)[before:] if p.endswith("/query")]
        assert len(queries) == 2, queries  # the recent look-alikes, then the exact name

    run(url, body, batching=batching)


def test_call_logs_of_concurrent_calls_share_one_lookup_one_collection_and_one_read_back(org: Any) -> None:
    sandbox, url = org()
    leads = [sandbox.insert("Lead", person(i)) for i in range(6)]

    async def body(root: SalesforceAdapter) -> list[Any]:
        await root.ensure_schema("Task", ["callsync_action_key__c"])
        before = len(logged(sandbox, 0))
        requests = [
            ActionRequest(
                ActionKind.LOG_CALL, f"callsync:t:call-{i}:call_log", RecordRef("Lead", lead), "Call"
            )
            for i, lead in enumerate(leads)
        ]
        results = await asyncio.gather(*(root.attempt().act(r) for r in requests))
        sent = [(m, p) for m, p, _ in logged(sandbox, before + 3)[before:]]
        assert sent.count(("PATCH", f"{V}/composite/sobjects/Task/callsync_action_key__c")) == 1, sent
        assert sent.count(("GET", f"{V}/query")) == 2 and len(sent) == 3, sent
        again = await asyncio.gather(*(root.attempt().act(r) for r in requests))
        assert {a.outcome for a in again} == {ActionOutcome.FOUND}
        assert [a.ref for a in again] == [r.ref for r in results]
        return results

    results = run(url, body)
    assert {r.outcome for r in results} == {ActionOutcome.CREATED}
    tasks = sandbox.records("Task")
    assert sorted(t["WhoId"] for t in tasks) == sorted(leads), "one call log each, on its own lead"


def test_many_lookups_are_split_into_queries_the_org_accepts(org: Any) -> None:
    sandbox, url = org()
    ids = [sandbox.insert("Lead", person(i)) for i in range(0, 160, 4)]

    async def body(root: SalesforceAdapter) -> list[Any]:
        before = len(logged(sandbox, 0))
        found = await asyncio.gather(*(root.attempt().find(lookup(i)) for i in range(160)))
        sent = logged(sandbox, before + 4)[before:]
        assert all(status == 200 for _, _, status in sent), sent
        queries = sum(1 for _, p, _ in sent if p == f"{V}/query")
        # Each caller's keys are some 300 bytes of URL: a few dozen callers a query, a query per object.
        assert 2 < queries <= 20, f"a few queries, not 320: {queries}"
        return found

    found = run(url, body)
    hits = [(i, [r.ref.record_id for r in f.by_phone]) for i, f in enumerate(found) if f.by_phone]
    assert hits == [(i, [ids[i // 4]]) for i in range(0, 160, 4)]


def test_query_chunks_keep_each_query_under_the_limit_and_a_lookup_whole() -> None:
    lookups = {
        i: (("Phone", (f"+1415555{i:04d}", f"(415) 555-{i:04d}")), ("Email", (f"c{i}@x.com",)))
        for i in range(50)
    }
    lookups["huge"] = (("Email", tuple(f"{i}@x.com" for i in range(100))),)
    queries, too_long = query_chunks("SELECT Id FROM Lead", lookups, "IsConverted = false", limit=600)
    assert too_long == ["huge"], "a lookup no query can hold fails alone"
    assert len(queries) > 1
    assert all(len(quote_plus(q)) <= 600 for q in queries)
    assert all(q.endswith("AND IsConverted = false") for q in queries)
    for i in range(50):  # each lookup's values all in one query
        (home,) = [q for q in queries if f"c{i}@x.com'" in q]
        assert f"+1415555{i:04d}" in home and f"(415) 555-{i:04d}" in home


def test_rows_are_matched_back_by_value_without_case_and_ids_by_their_short_form() -> None:
    rows = [
        {"Id": "00Q000000000001AAA", "Email": "A@X.com", "Phone": None},
        {"Id": "00Q000000000002AAA", "Email": "b@x.com", "Phone": "555"},
    ]
    answers = matched(
        rows,
        {
            "a": (("Email", ("a@x.com",)),),
            "b": (("Email", ("nobody@x.com",)), ("Phone", ("555",))),
            "short": (("Id", ("00Q000000000001",)),),
            "none": (("Email", ("c@x.com",)),),
        },
    )
    assert answers["a"] == [rows[0]] and answers["b"] == [rows[1]] and answers["short"] == [rows[0]]
    assert answers["none"] == []


def test_rounds_never_put_one_key_twice_in_a_request_nor_more_than_200() -> None:
    entries = [("x", 1), ("y", 2), ("x", 3)] + [(f"k{i}", i) for i in range(250)]
    out = rounds(entries, lambda e: e[0])
    assert all(len(r) <= 200 for r in out)
    assert all(len({e[0] for e in r}) == len(r) for r in out)
    assert sorted(e for r in out for e in r) == sorted(entries)


def test_the_pool_gives_every_write_attempt_of_an_org_the_same_batches(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, url = org()
    monkeypatch.setenv("CALLSYNC_TEST_SF_TOKEN", TOKEN)
    tenant = TenantConfig(
        name="t-batches",
        crm=CRMConnection(kind="salesforce", instance_url=url, token_env="CALLSYNC_TEST_SF_TOKEN"),
    )

    async def scenario() -> None:
        pool = AdapterPool()
        first, _ = pool.for_attempt(tenant)
        second, _ = pool.for_attempt(tenant)
        assert isinstance(first, SalesforceAdapter) and isinstance(second, SalesforceAdapter)
        assert first is not second and first.batches is not None and first.batches is second.batches
        await first.ensure_schema("Lead", [STAMP, LAST])
        await asyncio.gather(first.write(create(1)), second.write(create(2)))
        for adapter, _loop in list(pool._shared.values()):
            await adapter.aclose()

    asyncio.run(scenario())
    assert sandbox.count_requests("PATCH", UPSERT) == 1
    assert len(sandbox.records("Lead")) == 2


# -- the engine ----------------------------------------------------------------------------------------


@pytest.fixture
def make_harness(sqlite_db: Database) -> Iterator[HarnessFactory]:
    factory = HarnessFactory(sqlite_db)
    yield factory
    for server in factory.servers:
        server.stop()


def test_many_calls_sync_to_salesforce_with_fewer_requests_than_calls(
    make_harness: Any, tmp_path: Path
) -> None:
    # The example mapping without its workflow actions (a call-log Task per call is not batched).
    example = (EXAMPLES_DIR / "salesforce.yaml").read_text()
    mapping = tmp_path / "salesforce.yaml"
    mapping.write_text(example.split("\nactions:")[0] + "\n")
    # With the CRM's latency, the attempts that arrive while a request is out wait and leave together;
    # without it, a loaded test runner spreads the calls so that few requests meet.
    latency = {"rules": [{"fault": "latency", "path": ".*", "latency": {"ms": 300}}]}
    h = make_harness(KITS["salesforce"], latency, mapping=str(mapping))
    calls = 24
    for i in range(calls):
        lines = [f"hi my name is dana{chr(97 + i)} whitfield", f"my email is caller{i} at northwind dot com"]
        h.ingest(call_payload(f"c-{i}", lines, from_=f"+1415555{i:04d}"))
    with running_worker(h.runtime(), poll_s=0.05, concurrency=calls):
        state = drain(h.db, timeout_s=120)
    assert (state.confirmed, state.dead_letter) == (calls, 0)
    people = h.people()
    assert sorted(p["stamp"] for p in people) == sorted(f"c-{i}" for i in range(calls)), "one lead each"
    requests = h.sandbox.count_requests()
    assert requests < calls, f"{requests} requests for {calls} calls: {h.sandbox.request_log}"
    assert h.sandbox.count_requests("PATCH", f"{V}/composite/sobjects/Lead/{STAMP}") >= 1
