"""The Zoho CRM adapter against the emulator, in process: Leads vs Contacts, conversion, upsert, credits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from callsync.crm.http.budget import BudgetKey, BudgetSettings, CreditBudget, MemoryBudgetStore
from callsync.crm.protocol import (
    ConflictError,
    IdentityQuery,
    PermanentError,
    RateLimited,
    RecordRef,
    TransientError,
    WriteRequest,
    WriteResult,
)
from callsync.crm.zoho.adapter import ATTEMPT_CREDITS, ZohoAdapter, criteria_value
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.zoho import ZohoSandbox

STAMP, LAST = "callsync_origin_call_id", "callsync_last_call_id"
FIELDS = ("Email", "Phone", "First_Name", "Last_Name", "Company", "Designation", STAMP, LAST)
DANA = "dana.whitfield@northwind.com"


def adapter(sandbox: ZohoSandbox, budget: CreditBudget | None = None, **kw: Any) -> ZohoAdapter:
    transport = httpx.ASGITransport(app=sandbox.app())
    # A fresh account per adapter: field metadata is cached per account for the process, and
    # id(sandbox) is reused once an earlier sandbox is collected (that inherited a stale cache).
    kw.setdefault("account", f"acct-{uuid.uuid4().hex}")
    return ZohoAdapter("t", "http://zoho.test", transport=transport, budget=budget, **kw)


def budget(limit: int | None, reserve: int = 0, **kw: Any) -> CreditBudget:
    return CreditBudget(
        BudgetKey("zoho", "a", "zoho test"), BudgetSettings(limit, reserve, **kw), store=MemoryBudgetStore()
    )


@pytest.fixture
def sandbox() -> ZohoSandbox:
    return ZohoSandbox(token="t")


@pytest.fixture
async def zoho(sandbox: ZohoSandbox) -> AsyncIterator[ZohoAdapter]:
    a = adapter(sandbox)
    await a.ensure_schema("Leads", [STAMP, LAST])
    yield a
    await a.aclose()


def query(**kw: Any) -> IdentityQuery:
    return IdentityQuery(object_types=("Leads", "Contacts"), stamp_field=STAMP, fields=FIELDS, **kw)


async def test_criteria_values_are_escaped(sandbox: ZohoSandbox, zoho: ZohoAdapter) -> None:
    assert criteria_value("a(b),c\\d") == "a\\(b\\)\\,c\\\\d"
    tricky = "x)or(Email:equals:dana@northwind.com"
    sandbox.insert("Leads", {"Last_Name": "W", "Email": DANA})
    assert (await zoho.find(query(email=tricky))).by_email == ()


async def test_missing_or_non_unique_stamp_is_a_clear_permanent_error() -> None:
    bare = ZohoSandbox(token="t", custom_fields={"Leads": [{"api_name": STAMP}], "Contacts": []})
    a = adapter(bare)
    with pytest.raises(PermanentError) as error:
        await a.ensure_schema("Leads", [STAMP, LAST])
    text = str(error.value)
    assert f"Leads.{STAMP} must not allow duplicate values" in text and f"Contacts.{STAMP} is missing" in text
    assert (a._account, "Leads") not in a._fields, "the next attempt reads the fields again"
    await a.aclose()


async def test_find_by_email_phone_and_stamp_in_both_modules(sandbox: ZohoSandbox, zoho: ZohoAdapter) -> None:
    lead = sandbox.insert(
        "Leads", {"Last_Name": "W", "Email": "Dana.Whitfield@northwind.com", "Company": "N"}
    )
    contact = sandbox.insert("Contacts", {"Last_Name": "R", "Mobile": "(617) 555-0148"})
    stamped = sandbox.insert("Leads", {"Last_Name": "S", STAMP: "c-9"})
    found = await zoho.find(query(email=DANA, phone="+16175550148", origin_call_id="c-9"))
    assert [r.ref for r in found.by_email] == [RecordRef("Leads", lead)]
    assert [r.ref for r in found.by_phone] == [RecordRef("Contacts", contact)]
    assert [r.ref for r in found.by_origin] == [RecordRef("Leads", stamped)]
    assert (await zoho.find(query(email="nobody@x.com"))).by_email == (), "204 No Content is an empty result"


async def test_a_converted_lead_is_followed_to_its_contact(sandbox: ZohoSandbox, zoho: ZohoAdapter) -> None:
    lead = sandbox.insert(
        "Leads", {"Last_Name": "W", "Email": DANA, "Company": "Northwind", "Designation": "COO"}
    )
    contact = sandbox.convert_lead(lead)["Contacts"]["id"]
    stamp_only = await zoho.find(IdentityQuery(object_types=("Leads",), email=DANA, fields=FIELDS))
    (record,) = stamp_only.by_email
    assert record.ref == RecordRef("Contacts", contact)
    assert record.fields["Company"] == "Northwind" and record.fields["Designation"] == "COO"
    fresh = adapter(sandbox)  # another attempt, which has not seen the conversion
    read = await fresh.read(RecordRef("Leads", lead), FIELDS)
    assert read is not None and read.ref == RecordRef("Contacts", contact)
    result = await fresh.write(WriteRequest("Leads", {"First_Name": "Dana", LAST: "c-2"}, lead))
    assert result.ref == RecordRef("Contacts", contact)
    (row,) = sandbox.records("Contacts")
    assert (row["First_Name"], row[LAST]) == ("Dana", "c-2")
    await fresh.aclose()


async def test_create_upserts_on_the_stamp_so_a_retry_does_not_duplicate(
    sandbox: ZohoSandbox, zoho: ZohoAdapter
) -> None:
    request = WriteRequest("Leads", {"Last_Name": "Lee", STAMP: "c-1", LAST: "c-1"})
    first = await zoho.write(request)
    again = await zoho.write(request)
    assert first.created and not again.created and first.ref == again.ref
    assert len(sandbox.records("Leads")) == 1
    with pytest.raises(ConflictError) as conflict:
        await zoho.write(WriteRequest("Leads", {"Last_Name": "X", "Email": DANA, STAMP: "c-2"}))
        await zoho.write(WriteRequest("Leads", {"Last_Name": "Y", "Email": DANA, STAMP: "c-3"}))
    assert conflict.value.existing_id is not None


async def test_lead_fields_on_a_contact_go_through_the_orgs_conversion_mapping(
    sandbox: ZohoSandbox, zoho: ZohoAdapter
) -> None:
    contact = sandbox.insert("Contacts", {"Last_Name": "W", "Email": DANA})
    await zoho.find(query(email=DANA))
    await zoho.write(WriteRequest("Leads", {"Company": "Northwind", "Designation": "COO"}, contact))
    other = sandbox.insert("Contacts", {"Last_Name": "X", "Email": "x@northwind.com"})
    await zoho.find(query(email="x@northwind.com"))
    await zoho.write(WriteRequest("Leads", {"Company": "Northwind"}, other))
    (account,) = sandbox.records("Accounts")
    assert account["Account_Name"] == "Northwind", "the Account is upserted on its name: one per company"
    record = await zoho.read(RecordRef("Leads", contact), ("Company", "Designation"))
    assert record is not None and record.fields == {"Company": "Northwind", "Designation": "COO"}
    with pytest.raises(PermanentError, match="Lead_Status"):
        await zoho.write(WriteRequest("Leads", {"Lead_Status": "Contacted"}, contact))
    with pytest.raises(PermanentError, match="would ignore it silently"):
        await zoho.write(WriteRequest("Leads", {"Last_Name": "W", "no_such_field": "x"}))


async def test_batch_writes_100_a_call_with_per_record_results(
    sandbox: ZohoSandbox, zoho: ZohoAdapter
) -> None:
    existing = sandbox.insert("Leads", {"Last_Name": "E", "Email": DANA})
    await zoho.read(RecordRef("Leads", existing), ("Last_Name",))
    requests = [WriteRequest("Leads", {"Last_Name": f"L{i}", STAMP: f"c-{i}"}) for i in range(150)]
    requests += [
        WriteRequest("Leads", {"Designation": "COO"}, existing),
        WriteRequest("Leads", {"Last_Name": "D", "Email": DANA, STAMP: "c-dup"}),
    ]
    results = await zoho.write_batch(requests)
    assert all(isinstance(r, WriteResult) and r.created for r in results[:150])
    assert isinstance(results[150], WriteResult) and not results[150].created
    assert isinstance(results[151], ConflictError) and results[151].existing_id == existing
    assert sandbox.count_requests("POST", "/crm/v8/Leads/upsert") == 2
    assert sandbox.count_requests("PUT", "/crm/v8/Leads") == 1


async def test_a_batch_write_spends_what_zoho_charges_one_credit_per_ten_records(
    sandbox: ZohoSandbox,
) -> None:
    spent = budget(10_000)
    zoho = adapter(sandbox, spent)
    await zoho.ensure_schema("Leads", [STAMP, LAST])
    sandbox.reset_credits()
    before = sum(spent.state().spent.values())
    await zoho.write_batch(
        [WriteRequest("Leads", {"Last_Name": f"L{i}", STAMP: f"c-{i}"}) for i in range(125)]
    )
    # 100 records cost 10 credits and 25 cost 3: counted as Zoho counts them, not 1 a request.
    assert sandbox.credits.used() == 13
    assert sum(spent.state().spent.values()) - before == 13
    await zoho.aclose()


async def test_a_locked_record_in_a_batch_is_retryable() -> None:
    plan = FaultPlan.model_validate(
        {"rules": [{"path": ".*/upsert", "fault": "partial_batch", "fail_ratio": 0.5}]}
    )
    sandbox = ZohoSandbox(token="t", faults=plan)
    zoho = adapter(sandbox)
    await zoho.ensure_schema("Leads", [STAMP, LAST])
    results = await zoho.write_batch(
        [WriteRequest("Leads", {"Last_Name": f"L{i}", STAMP: f"c-{i}"}) for i in range(2)]
    )
    assert sorted(type(r).__name__ for r in results) == ["TransientError", "WriteResult"]
    await zoho.aclose()


async def test_associations_set_lookups(sandbox: ZohoSandbox, zoho: ZohoAdapter) -> None:
    account = sandbox.insert("Accounts", {"Account_Name": "Northwind"})
    contact = sandbox.insert("Contacts", {"Last_Name": "W"})
    deal = sandbox.insert("Deals", {"Deal_Name": "Renewal", "Stage": "Qualification"})
    call = await zoho.write(
        WriteRequest(
            "Calls",
            {"Subject": "Call", "Call_Type": "Inbound", "Call_Start_Time": "2026-11-20T21:03:00+00:00"},
            associations=(RecordRef("Contacts", contact), RecordRef("Deals", deal)),
        )
    )
    (row,) = sandbox.records("Calls")
    assert row["Who_Id"]["id"] == contact and row["What_Id"]["id"] == deal and row["$se_module"] == "Deals"
    assert call.ref.object_type == "Calls"
    await zoho.associate(RecordRef("Deals", deal), RecordRef("Contacts", contact))
    await zoho.associate(RecordRef("Contacts", contact), RecordRef("Accounts", account))
    assert sandbox.records("Deals")[0]["Contact_Name"]["id"] == contact
    assert sandbox.records("Contacts")[0]["Account_Name"]["id"] == account


async def test_every_request_spends_from_the_shared_budget_and_new_work_keeps_the_reserve() -> None:
    sandbox = ZohoSandbox(token="t")
    credits = budget(limit=ATTEMPT_CREDITS + 4, reserve=2)
    zoho = adapter(sandbox, credits)
    await zoho.ensure_schema("Leads", [STAMP, LAST])  # 2 credits: the field metadata of both modules
    result = await zoho.write(WriteRequest("Leads", {"Last_Name": "Lee", STAMP: "c-1"}))
    assert credits.state().spent and sum(credits.state().spent.values()) == sandbox.credits.used() == 3
    second = adapter(
        sandbox, credits, account=zoho._account
    )  # a new attempt: needs a whole attempt's credits
    with pytest.raises(RateLimited) as waiting:
        await second.read(result.ref, ("Last_Name",))
    assert waiting.value.retry_after > 0 and "kept for urgent writes" in str(waiting.value)
    # The attempt that has written may spend the reserve to confirm its write.
    while sum(credits.state().spent.values()) < ATTEMPT_CREDITS + 4:
        assert await zoho.read(result.ref, ("Last_Name",)) is not None
    with pytest.raises(RateLimited):
        await zoho.read(result.ref, ("Last_Name",))
    await zoho.aclose()
    await second.aclose()


async def test_credit_exhaustion_from_zoho_pauses_every_attempt() -> None:
    sandbox = ZohoSandbox(token="t", credits_per_day=2)
    credits = budget(limit=None, retry_s=120)
    zoho = adapter(sandbox, credits)
    await zoho.fields("Leads")
    await zoho.fields("Contacts")
    with pytest.raises(RateLimited) as refused:
        await zoho.read(RecordRef("Leads", "1"), ("Last_Name",))
    assert refused.value.retry_after == 120 and refused.value.policy == "LIMIT_REACHED"
    other = adapter(sandbox, credits, account=zoho._account)
    with pytest.raises(RateLimited, match="Zoho refused"):
        await other.read(RecordRef("Leads", "1"), ("Last_Name",))
    assert sandbox.count_requests(status=429) == 1
    await zoho.aclose()
    await other.aclose()


async def test_concurrency_cap_and_outages_map_to_short_waits_and_retries() -> None:
    plan = FaultPlan.model_validate(
        {
            "rules": [
                {"path": ".*", "fault": "status", "status": 429, "times": 1},
                # A read is repeated twice in place, so an outage shows after three 500s in a row.
                {"path": ".*", "fault": "status", "status": 500, "times": 3},
            ]
        }
    )
    zoho = adapter(ZohoSandbox(token="t", faults=plan))
    with pytest.raises(RateLimited) as throttled:
        await zoho.fields("Leads")
    assert throttled.value.retry_after == 1.0
    with pytest.raises(TransientError):
        await zoho.fields("Leads")
    assert "Email" in await zoho.fields("Leads")
    await zoho.aclose()


async def test_look_alike_names_unbatched_are_the_recent_ones_and_the_whole_name(
    sandbox: ZohoSandbox,
) -> None:
    """Without batching the lookup is the same COQL pair: the most recently modified page of records
    sharing a word of the name, then (more matched) the records with the whole name."""
    exact = sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": "Whitfield", "Company": "N"})
    for i in range(230):
        sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": f"Other{i}", "Company": "N"})
    for row in sandbox.org.records["Leads"].values():  # all but the exact name changed a minute ago
        row["Modified_Time"] = (
            "2026-01-01T10:00:00+00:00" if row["id"] == exact else "2026-01-01T10:01:00+00:00"
        )
    recent = sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": "Whitfeldt", "Company": "N"})
    a = adapter(sandbox)
    before = len(sandbox.request_log)
    found = await a.find(IdentityQuery(object_types=("Leads",), name="Dana Whitfield", fields=FIELDS))
    ids = {r.ref.record_id for r in found.by_name}
    assert {exact, recent} <= ids and len(ids) <= 201
    sent = [(m, p) for m, p, _ in sandbox.request_log[before:] if "/settings/" not in p]
    assert sent == [("POST", "/crm/v8/coql")] * 2, sent  # no criteria search pages through every Dana
    await a.aclose()
