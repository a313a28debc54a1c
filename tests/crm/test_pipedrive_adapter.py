"""The Pipedrive adapter against the emulator, in process: hash-keyed custom fields, exact lookups, no
orphan deals, burst windows and the daily token budget."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from callsync.crm.errors import AuthenticationError, BudgetExhausted
from callsync.crm.http.budget import BudgetKey, BudgetSettings, CreditBudget, MemoryBudgetStore
from callsync.crm.pipedrive.adapter import PipedriveAdapter, resolve_field
from callsync.crm.pipedrive.wire import token_cost
from callsync.crm.protocol import (
    IdentityQuery,
    PermanentError,
    RateLimited,
    RecordRef,
    UnknownFieldError,
    WriteRequest,
)
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.pipedrive import PipedriveSandbox

STAMP, LAST = "callsync_origin_call_id", "callsync_last_call_id"
FIELDS = ("email", "phone", "first_name", "last_name", "name", STAMP, LAST)
DANA = "dana.whitfield@northwind.com"
_accounts = itertools.count()


def adapter(sandbox: PipedriveSandbox, budget: CreditBudget | None = None, **kw: Any) -> PipedriveAdapter:
    transport = httpx.ASGITransport(app=sandbox.app())
    # A fresh account per adapter unless told: field lists are cached per account for the process.
    kw.setdefault("account", f"pd-test-{next(_accounts)}")
    return PipedriveAdapter("t", "http://pipedrive.test", transport=transport, budget=budget, **kw)


def budget(limit: int | None, reserve: int = 0, **kw: Any) -> CreditBudget:
    return CreditBudget(
        BudgetKey("pipedrive", f"b-{next(_accounts)}", "pipedrive test"),
        BudgetSettings(limit, reserve, **kw),
        store=MemoryBudgetStore(),
    )


@pytest.fixture
def sandbox() -> PipedriveSandbox:
    return PipedriveSandbox(
        token="t", custom_fields={"persons": [{"name": "Lead source", "field_type": "varchar"}]}
    )


@pytest.fixture
async def pd(sandbox: PipedriveSandbox) -> AsyncIterator[PipedriveAdapter]:
    a = adapter(sandbox)
    await a.ensure_schema("persons", [STAMP, LAST])
    yield a
    await a.aclose()


def query(**kw: Any) -> IdentityQuery:
    return IdentityQuery(object_types=("persons",), stamp_field=STAMP, fields=FIELDS, **kw)


async def person(pd: PipedriveAdapter, call: str, **fields: Any) -> str:
    values = {"first_name": "Dana", "last_name": "Whitfield", STAMP: call, LAST: call, **fields}
    return (await pd.write(WriteRequest("persons", values, None, f"k:{call}"))).ref.record_id


# -- custom fields ---------------------------------------------------------------------------------------


async def test_ensure_schema_creates_the_stamps_once_as_searchable_hash_keyed_fields(
    sandbox: PipedriveSandbox, pd: PipedriveAdapter
) -> None:
    key = sandbox.field_key("persons", STAMP)
    assert key is not None and len(key) == 40 and all(c in "0123456789abcdef" for c in key)
    assert sandbox.count_requests("POST", "/v1/personFields") == 2
    again = adapter(sandbox)
    await again.ensure_schema("persons", [STAMP, LAST])
    assert sandbox.count_requests("POST", "/v1/personFields") == 2, "found by label: not created twice"
    await again.aclose()
    field = next(f for f in sandbox.company.fields["persons"] if f["key"] == key)
    assert field["field_type"] == "varchar"  # a type the search endpoints look into


async def test_a_custom_field_is_named_by_label_or_by_key_and_sent_under_its_key(
    sandbox: PipedriveSandbox, pd: PipedriveAdapter
) -> None:
    key = sandbox.field_key("persons", "Lead source")
    assert key is not None
    by_label = await person(pd, "c-1", **{"Lead source": "voice agent"})
    by_key = await person(pd, "c-2", **{key: "web"})
    stored = {r["id"]: r["custom_fields"][key] for r in sandbox.company.live("persons")}
    assert stored == {int(by_label): "voice agent", int(by_key): "web"}
    record = await pd.read(RecordRef("persons", by_label), ("Lead source", key, STAMP))
    assert record is not None
    assert record.fields == {"Lead source": "voice agent", key: "voice agent", STAMP: "c-1"}


async def test_concurrent_attempts_create_the_stamps_once(sandbox: PipedriveSandbox) -> None:
    import asyncio

    shared = adapter(sandbox)
    attempts = [shared.attempt() for _ in range(5)]
    await asyncio.gather(*(a.ensure_schema("persons", [STAMP, LAST]) for a in attempts))
    assert sandbox.count_requests("POST", "/v1/personFields") == 2
    await person(attempts[0], "c-1")
    await shared.aclose()


async def test_field_lists_are_read_once_per_account(sandbox: PipedriveSandbox) -> None:
    first = adapter(sandbox, account="shared-account")
    second = adapter(sandbox, account="shared-account")
    await first.ensure_schema("persons", [STAMP, LAST])
    await second.ensure_schema("persons", [STAMP, LAST])
    await person(second, "c-1")
    assert sandbox.count_requests("GET", "/v1/personFields") == 1
    await first.aclose()
    await second.aclose()


async def test_an_unknown_field_is_refused_before_anything_is_sent(
    sandbox: PipedriveSandbox, pd: PipedriveAdapter
) -> None:
    with pytest.raises(UnknownFieldError) as refused:
        await person(pd, "c-1", **{"Budget": 5000, "Lead sorce": "x", "email": DANA})
    assert refused.value.fields == ("Budget", "Lead sorce")
    assert sandbox.count_requests("POST", "/api/v2/persons") == 0 and sandbox.records("persons") == []


async def test_check_mapping_names_what_the_company_lacks(pd: PipedriveAdapter) -> None:
    problems = await pd.check_mapping(
        {
            "persons": ["email", "First name", "Lead source", "lead source", "Budget"],
            "deals": ["title", "Budjet"],
        }
    )
    assert problems == {"persons": ("Budget",), "deals": ("Budjet",)}


def test_labels_resolve_exactly_else_case_insensitively_when_unambiguous() -> None:
    from callsync.crm.pipedrive.adapter import Field

    fields = {
        "a" * 40: Field("a" * 40, "Source", "varchar", True),
        "b" * 40: Field("b" * 40, "source", "varchar", True),
        "c" * 40: Field("c" * 40, "Budget", "double", True),
    }
    assert resolve_field(fields, "Source") == fields["a" * 40]
    assert resolve_field(fields, "SOURCE") is None, "two labels fold to it: ambiguous"
    twice = {**fields, "d" * 40: Field("d" * 40, "Budget", "double", True)}
    assert resolve_field(twice, "Budget") == fields["c" * 40], "the same label twice: the first created"
    assert resolve_field(fields, "budget") == fields["c" * 40]
    assert resolve_field(fields, "c" * 40) == fields["c" * 40]


# -- identity ----------------------------------------------------------------------------------------------


async def test_persons_are_found_by_exact_email_then_phone_never_by_name(
    sandbox: PipedriveSandbox, pd: PipedriveAdapter
) -> None:
    sandbox.insert("persons", {"name": "Dana Whitfield", "emails": [{"value": f"x{DANA}", "primary": True}]})
    mine = await person(pd, "c-1", email=DANA.upper())
    by_phone = sandbox.insert(
        "persons", {"name": "Sam Lee", "phones": [{"value": "617-555-0148", "primary": True}]}
    )
    found = await pd.find(query(email=DANA, phone="+16175550148"))
    assert [r.ref.record_id for r in found.by_email] == [mine], "exact, case aside: not x" + DANA
    assert [r.ref.record_id for r in found.by_phone] == [str(by_phone)]
    assert found.by_email[0].fields["email"] == DANA.upper() and found.by_email[0].fields[STAMP] == "c-1"
    searches = [p for m, p, _ in sandbox.request_log if p.endswith("/search")]
    assert searches and all(p == "/api/v2/persons/search" for p in searches)
    named = await pd.find(IdentityQuery(object_types=("persons",), name="Dana Whitfield", fields=FIELDS))
    assert named.by_email == named.by_phone == named.by_origin == ()
    assert {r.ref.record_id for r in named.by_name} == {mine, "1"}, "look-alikes for review only"


async def test_the_first_phone_shape_found_ends_the_phone_search(
    sandbox: PipedriveSandbox, pd: PipedriveAdapter
) -> None:
    await person(pd, "c-1", phone="+16175550148")
    before = sandbox.count_requests("GET", "/api/v2/persons/search")
    found = await pd.find(query(phone="+16175550148"))
    assert len(found.by_phone) == 1
    assert sandbox.count_requests("GET", "/api/v2/persons/search") == before + 1


async def test_organizations_are_found_by_their_exact_name(sandbox: PipedriveSandbox) -> None:
    pd = adapter(sandbox)
    await pd.ensure_schema("organizations", [STAMP])
    exact = await pd.write(WriteRequest("organizations", {"name": "Northwind", STAMP: "c-1"}))
    await pd.write(WriteRequest("organizations", {"name": "Northwind Traders", STAMP: "c-2"}))
    found = await pd.find(IdentityQuery(object_types=("organizations",), name="northwind", fields=("name",)))
    assert [(r.ref.record_id, r.fields["name"]) for r in found.by_name] == [
        (exact.ref.record_id, "Northwind")
    ]
    mine = await pd.find(
        IdentityQuery(
            object_types=("organizations",), origin_call_id="c-2", stamp_field=STAMP, fields=("name",)
        )
    )
    assert [r.fields["name"] for r in mine.by_origin] == ["Northwind Traders"]
    await pd.aclose()


async def test_an_update_keeps_the_other_emails_and_rebuilds_the_name(
    sandbox: PipedriveSandbox, pd: PipedriveAdapter
) -> None:
    pid = await person(pd, "c-1", email=DANA)
    await pd.write(WriteRequest("persons", {"email": "dana@contoso.com", "first_name": "Danielle"}, pid))
    (row,) = sandbox.company.live("persons")
    assert row["name"] == "Danielle Whitfield"
    assert [(e["value"], e["primary"]) for e in row["emails"]] == [("dana@contoso.com", True), (DANA, False)]
    record = await pd.read(RecordRef("persons", pid), FIELDS)
    assert record is not None and record.fields["email"] == "dana@contoso.com"
    assert (record.fields["first_name"], record.fields["last_name"]) == ("Danielle", "Whitfield")


# -- no orphan deals ---------------------------------------------------------------------------------------


async def test_a_deal_without_its_person_and_organization_is_refused_and_nothing_lands(
    sandbox: PipedriveSandbox, pd: PipedriveAdapter
) -> None:
    await pd.ensure_schema("deals", [STAMP])
    pid = await person(pd, "c-1")
    org = (await pd.write(WriteRequest("organizations", {"name": "Northwind"}))).ref
    for request in (
        WriteRequest("deals", {"title": "Northwind - Dana", STAMP: "c-1"}),
        WriteRequest("deals", {"title": "Northwind - Dana"}, associations=(RecordRef("persons", pid),)),
        WriteRequest("deals", {"title": "Northwind - Dana", "org_id": int(org.record_id)}),
    ):
        with pytest.raises(PermanentError, match="orphan"):
            await pd.write(request)
    assert sandbox.records("deals") == [] and sandbox.count_requests("POST", "/api/v2/deals") == 0
    deal = await pd.write(
        WriteRequest(
            "deals",
            {"title": "Northwind - Dana", "value": 50000, STAMP: "c-1"},
            associations=(RecordRef("persons", pid), org),
        )
    )
    (row,) = sandbox.records("deals")
    assert (row["person_id"], row["org_id"]) == (int(pid), int(org.record_id))
    with pytest.raises(PermanentError, match="orphan"):
        await pd.write(WriteRequest("deals", {"org_id": None}, deal.ref.record_id))
    assert sandbox.records("deals")[0]["org_id"] == int(org.record_id)
    # The engine links after writing: a link the deal already holds costs no request.
    patches = sandbox.count_requests("PATCH")
    await pd.associate(deal.ref, RecordRef("persons", pid))
    await pd.associate(deal.ref, org)
    assert sandbox.count_requests("PATCH") == patches


async def test_associate_sets_the_person_s_organization(
    sandbox: PipedriveSandbox, pd: PipedriveAdapter
) -> None:
    pid = await person(pd, "c-1")
    org = (await pd.write(WriteRequest("organizations", {"name": "Northwind"}))).ref
    await pd.associate(org, RecordRef("persons", pid))  # either order
    assert sandbox.records("persons")[0]["org_id"] == int(org.record_id)
    with pytest.raises(PermanentError):
        await pd.associate(RecordRef("persons", pid), RecordRef("persons", pid))


# -- limits -------------------------------------------------------------------------------------------------


def test_token_costs_follow_the_spec() -> None:
    assert token_cost("GET", "/api/v2/persons/search") == 20
    assert token_cost("GET", "/api/v2/persons/7") == 1
    assert token_cost("GET", "/api/v2/persons") == 10
    assert token_cost("POST", "/api/v2/deals") == 5
    assert token_cost("PATCH", "/api/v2/organizations/3") == 5
    assert token_cost("DELETE", "/api/v2/persons/3") == 3
    assert token_cost("GET", "/v1/personFields") == 20
    assert token_cost("POST", "/v1/personFields") == 10


async def test_the_daily_budget_counts_each_request_s_token_cost(sandbox: PipedriveSandbox) -> None:
    spent = budget(10_000)
    pd = adapter(sandbox, spent)
    await pd.ensure_schema("persons", [STAMP])  # field list 20 + create field 10
    await pd.find(query(email=DANA))  # one search, nothing found: 20
    from callsync.crm.http.budget import used

    assert used(spent.state(), spent.clock(), spent.settings) == 50 == sandbox.tokens_used()
    await pd.aclose()


async def test_new_work_waits_when_the_counted_budget_cannot_cover_an_attempt(
    sandbox: PipedriveSandbox,
) -> None:
    pd = adapter(sandbox, budget(100))
    with pytest.raises(BudgetExhausted):
        await pd.find(query(email=DANA))  # an attempt needs about 120 tokens: not started
    assert sandbox.request_log == []
    await pd.aclose()


async def test_pipedrive_s_daily_refusal_pauses_every_worker() -> None:
    sandbox = PipedriveSandbox(token="t", tokens_per_day=40)
    shared = budget(None, retry_s=60.0)
    pd = adapter(sandbox, shared)
    await pd.find(query(email=DANA))
    await pd.find(query(email=DANA))
    with pytest.raises(BudgetExhausted) as refused:
        await pd.find(query(email=DANA))
    assert refused.value.retry_after == 60.0 and "Daily API token limit" in refused.value.reason
    asked = len(sandbox.request_log)
    other = adapter(sandbox, shared)  # another worker of the account
    with pytest.raises(BudgetExhausted):
        await other.find(query(email=DANA))
    assert len(sandbox.request_log) == asked
    await pd.aclose()
    await other.aclose()


async def test_the_limit_headers_pace_requests_and_a_burst_429_waits_the_window_s_reset() -> None:
    sandbox = PipedriveSandbox(token="t", burst=2)
    pd = adapter(sandbox, burst_requests=50)  # callsync's guess too high: the headers correct it
    await pd.read(RecordRef("persons", "1"), ())
    await pd.read(RecordRef("persons", "2"), ())
    assert pd.http.limiters["default"].max_requests == 2
    other = adapter(sandbox)  # another app on the same token spends the window meanwhile
    with pytest.raises(RateLimited) as limited:
        await other.read(RecordRef("persons", "3"), ())
    assert limited.value.policy == "BURST" and 0 < limited.value.retry_after <= 2
    assert sandbox.count_requests(status=429) == 1
    await pd.read(RecordRef("persons", "4"), ())  # paced: waits for the window instead of a 429
    assert sandbox.count_requests(status=429) == 1
    await pd.aclose()
    await other.aclose()


async def test_cloudflare_s_block_page_is_a_wait_not_a_refusal() -> None:
    sandbox = PipedriveSandbox(token="t", burst=1, hammer_limit=1, block_s=30)
    first, second, third = adapter(sandbox), adapter(sandbox), adapter(sandbox)
    await first.read(RecordRef("persons", "1"), ())
    with pytest.raises(RateLimited):
        await second.read(RecordRef("persons", "1"), ())  # a 429: enough to be blocked here
    with pytest.raises(RateLimited) as blocked:
        await third.read(RecordRef("persons", "1"), ())
    assert (
        blocked.value.status == 403 and blocked.value.policy == "BLOCKED" and blocked.value.retry_after >= 30
    )
    for a in (first, second, third):
        await a.aclose()


async def test_a_5xx_on_a_create_is_ambiguous_and_the_retry_lands_on_the_first(
    sandbox: PipedriveSandbox,
) -> None:
    faulty = PipedriveSandbox(
        token="t",
        faults=FaultPlan.model_validate(
            {"rules": [{"method": "POST", "path": "/api/v2/persons", "fault": "drop_response_after_commit"}]}
        ),
    )
    from callsync_sandbox.server import SandboxServer

    with SandboxServer(faulty.app()) as server:
        pd = PipedriveAdapter("t", server.base_url, account=f"pd-test-{next(_accounts)}", timeout_s=2.0)
        await pd.ensure_schema("persons", [STAMP, LAST])
        from callsync.crm.errors import AmbiguousWriteError

        with pytest.raises(AmbiguousWriteError):
            await person(pd, "c-1", email=DANA)
        again = await pd.write(WriteRequest("persons", {"first_name": "Dana", STAMP: "c-1"}))
        assert not again.created and len(faulty.records("persons")) == 1
        await pd.aclose()


# -- auth ---------------------------------------------------------------------------------------------------


async def test_api_token_and_oauth_headers(sandbox: PipedriveSandbox) -> None:
    transport = httpx.ASGITransport(app=sandbox.app())
    oauth = PipedriveAdapter("t", "http://p.test", auth="oauth", transport=transport, account="oauth-acct")
    assert await oauth.read(RecordRef("persons", "9"), ()) is None
    wrong = PipedriveAdapter("nope", "http://p.test", transport=transport, account="wrong-acct")
    with pytest.raises(AuthenticationError):
        await wrong.read(RecordRef("persons", "9"), ())
    await oauth.aclose()
    await wrong.aclose()


# -- the mapping, checked at load ----------------------------------------------------------------------------


async def test_the_example_mapping_resolves_against_a_company_s_fields(sandbox: PipedriveSandbox) -> None:
    from callsync.config import EXAMPLES_DIR
    from callsync.crm.pipedrive.mapping import check_mapping_fields
    from callsync.structure.mapping import load_mapping

    pd = adapter(sandbox)
    await check_mapping_fields(
        pd, load_mapping(EXAMPLES_DIR / "pipedrive.yaml")
    )  # stamps aside: created later
    await pd.aclose()


async def test_a_mapping_naming_a_field_the_company_lacks_is_refused_with_file_line_and_reason(
    sandbox: PipedriveSandbox, tmp_path: Any
) -> None:
    from callsync.config import EXAMPLES_DIR
    from callsync.crm.pipedrive.mapping import check_mapping_fields
    from callsync.errors import ConfigError
    from callsync.structure.mapping import load_mapping

    text = (EXAMPLES_DIR / "pipedrive.yaml").read_text(encoding="utf-8")
    text = text.replace("      last_name:  {from: last_name,  policy: fill_if_empty}\n",
                        "      last_name:  {from: last_name,  policy: fill_if_empty}\n"
                        "      Lead sorce: {from: intent,     policy: call_wins}\n")  # fmt: skip
    path = tmp_path / "pipedrive.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "Lead sorce" in row)
    pd = adapter(sandbox)
    with pytest.raises(ConfigError) as refused:
        await check_mapping_fields(pd, load_mapping(path))
    error = refused.value
    assert (error.source, error.line, error.field) == (str(path), line, "objects.contact.fields.Lead sorce")
    assert "no field 'Lead sorce'" in error.message and "Lead source" in error.message, (
        "names the labels it has"
    )
    assert str(error).startswith(f"{path}:{line}: ")
    await pd.aclose()


async def test_a_call_log_is_an_activity_linked_to_the_person_and_deal(
    sandbox: PipedriveSandbox, pd: PipedriveAdapter
) -> None:
    pid = await person(pd, "c-1")
    org = (await pd.write(WriteRequest("organizations", {"name": "Northwind"}))).ref
    deal = await pd.write(
        WriteRequest("deals", {"title": "Northwind"}, associations=(RecordRef("persons", pid), org))
    )
    call = await pd.write(
        WriteRequest(
            "activities",
            {"subject": "Inbound call", "type": "call", "done": True, "note": "<p>wants a demo</p>"},
            associations=(RecordRef("persons", pid), deal.ref),
        )
    )
    follow_up = await pd.write(
        WriteRequest(
            "activities",
            {"subject": "Send the quote", "type": "task", "done": False, "due_date": "2026-12-08"},
        )
    )
    await pd.associate(follow_up.ref, RecordRef("persons", pid))
    rows = {str(r["id"]): r for r in sandbox.records("activities")}
    assert (rows[call.ref.record_id]["person_id"], rows[call.ref.record_id]["deal_id"]) == (
        int(pid),
        int(deal.ref.record_id),
    )
    assert rows[call.ref.record_id]["done"] is True and rows[follow_up.ref.record_id]["person_id"] == int(pid)
    back = await pd.read(call.ref, ("subject", "type", "note"))
    assert back is not None and back.fields == {
        "subject": "Inbound call",
        "type": "call",
        "note": "<p>wants a demo</p>",
    }
