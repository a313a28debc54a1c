"""The Salesforce adapter against the emulator, in process: Lead vs Contact, conversion, upsert, limits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from callsync.crm.http.budget import BudgetKey, BudgetSettings, CreditBudget, MemoryBudgetStore
from callsync.crm.protocol import (
    AmbiguousWriteError,
    AuthenticationError,
    ConflictError,
    IdentityQuery,
    PermanentError,
    RateLimited,
    RecordRef,
    TransientError,
    WriteRequest,
)
from callsync.crm.salesforce.adapter import SalesforceAdapter, soql_quote, translate
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.salesforce import SalesforceSandbox

STAMP, LAST = "callsync_origin_call_id__c", "callsync_last_call_id__c"
FIELDS = ("Email", "Phone", "FirstName", "LastName", "Company", STAMP, LAST)
DANA = "dana.whitfield@northwind.com"


def adapter(sandbox: SalesforceSandbox, **kw: Any) -> SalesforceAdapter:
    transport = httpx.ASGITransport(app=sandbox.app())
    # A fresh instance URL per test: describe results are cached per org for the process.
    return SalesforceAdapter("t", f"http://org-{uuid.uuid4().hex}.test", transport=transport, **kw)


@pytest.fixture
def sandbox() -> SalesforceSandbox:
    return SalesforceSandbox(token="t")


@pytest.fixture
async def sf(sandbox: SalesforceSandbox) -> AsyncIterator[SalesforceAdapter]:
    a = adapter(sandbox)
    await a.ensure_schema("Lead", [STAMP, LAST])
    yield a
    await a.aclose()


def query(**kw: Any) -> IdentityQuery:
    return IdentityQuery(object_types=("Lead", "Contact"), stamp_field=STAMP, fields=FIELDS, **kw)


def test_soql_values_are_escaped() -> None:
    assert soql_quote("o'brien@x.com") == "'o\\'brien@x.com'"
    assert soql_quote("a\\' OR Id != null --") == "'a\\\\\\' OR Id != null --'"
    assert (
        translate("Company", "Contact") == "Account.Name" and translate("Account.Name", "Lead") == "Company"
    )
    assert translate("Street", "Contact") == "MailingStreet" and translate("Status", "Contact") is None


async def test_a_value_with_quotes_cannot_break_out_of_the_query(
    sandbox: SalesforceSandbox, sf: SalesforceAdapter
) -> None:
    sandbox.insert("Lead", {"LastName": "O'Brien", "Company": "X", "Email": "o'brien@x.com"})
    sandbox.insert("Lead", {"LastName": "Other", "Company": "X", "Email": "other@x.com"})
    found = await sf.find(query(email="o'brien@x.com"))
    assert [r.fields["LastName"] for r in found.by_email] == ["O'Brien"]
    assert (await sf.find(query(email="x' OR Email != 'none"))).by_email == ()


async def test_missing_stamp_fields_are_a_clear_permanent_error() -> None:
    bare = SalesforceSandbox(token="t", custom_fields={"Lead": [{"name": STAMP}]})
    a = adapter(bare)
    with pytest.raises(PermanentError) as error:
        await a.ensure_schema("Lead", [STAMP, LAST])
    text = str(error.value)
    assert f"Lead.{STAMP} must be marked External ID" in text and f"Contact.{STAMP} is missing" in text
    assert f"Lead.{LAST} is missing" in text and "Metadata API" in text
    assert (a._org, "Lead") not in a._described, "the next attempt describes again (an admin may fix it)"
    await a.aclose()


async def test_find_looks_in_leads_and_contacts_by_email_phone_and_stamp(
    sandbox: SalesforceSandbox, sf: SalesforceAdapter
) -> None:
    lead = sandbox.insert("Lead", {"LastName": "W", "Company": "N", "Email": "Dana.Whitfield@northwind.com"})
    contact = sandbox.insert("Contact", {"LastName": "R", "Phone": "(617) 555-0148"})
    stamped = sandbox.insert("Lead", {"LastName": "S", "Company": "N", STAMP: "c-9"})
    found = await sf.find(query(email=DANA, phone="+16175550148", origin_call_id="c-9"))
    assert [r.ref for r in found.by_email] == [RecordRef("Lead", lead)]
    assert [r.ref for r in found.by_phone] == [RecordRef("Contact", contact)]
    assert [r.ref for r in found.by_origin] == [RecordRef("Lead", stamped)]
    assert found.by_email[0].fields["Company"] == "N"


async def test_a_converted_lead_is_followed_to_its_contact(
    sandbox: SalesforceSandbox, sf: SalesforceAdapter
) -> None:
    lead = sandbox.insert(
        "Lead", {"LastName": "W", "Company": "Northwind", "Email": DANA, "Phone": "+14155550123"}
    )
    contact = sandbox.convert_lead(lead)["contactId"]
    found = await sf.find(
        IdentityQuery(object_types=("Lead",), email=DANA, phone="+14155550123", fields=FIELDS)
    )
    assert [r.ref for r in found.by_email] == [RecordRef("Contact", str(contact))]
    assert [r.ref for r in found.by_phone] == [RecordRef("Contact", str(contact))]
    assert found.by_email[0].fields["Company"] == "Northwind", "Company is read as the Contact's Account.Name"
    record = await sf.read(RecordRef("Lead", lead), FIELDS)
    assert record is not None and record.ref == RecordRef("Contact", str(contact))
    # An update addressed to the lead (the mapping's object) goes to the contact.
    result = await sf.write(WriteRequest("Lead", {"FirstName": "Dana", LAST: "c-2"}, lead))
    assert result.ref == RecordRef("Contact", str(contact))
    (row,) = sandbox.records("Contact")
    assert (row["FirstName"], row[LAST]) == ("Dana", "c-2")


async def test_create_is_an_upsert_on_the_stamp_so_a_retry_does_not_duplicate(
    sandbox: SalesforceSandbox, sf: SalesforceAdapter
) -> None:
    request = WriteRequest("Lead", {"LastName": "Lee", "Company": "Acme", STAMP: "c-1", LAST: "c-1"})
    first = await sf.write(request)
    again = await sf.write(request)
    assert first.created and not again.created and first.ref == again.ref
    assert len(sandbox.records("Lead")) == 1
    assert sandbox.count_requests("PATCH", f".*/sobjects/Lead/{STAMP}/c-1") == 2


async def test_lead_fields_written_to_a_contact_go_through_the_conversion_mapping(
    sandbox: SalesforceSandbox, sf: SalesforceAdapter
) -> None:
    contact = sandbox.insert("Contact", {"LastName": "W", "Email": DANA})
    await sf.write(WriteRequest("Lead", {"Company": "Northwind", "Street": "1 Main St"}, contact))
    await sf.write(
        WriteRequest("Lead", {"Company": "Northwind"}, sandbox.insert("Contact", {"LastName": "X"}))
    )
    (account,) = sandbox.records("Account")
    assert account["Name"] == "Northwind", "one Account per company name"
    record = await sf.read(RecordRef("Lead", contact), ("Company", "Street"))
    assert record is not None and record.fields == {"Company": "Northwind", "Street": "1 Main St"}
    with pytest.raises(PermanentError, match="Status has no counterpart on Salesforce Contact"):
        await sf.write(WriteRequest("Lead", {"Status": "Working"}, contact))
    with pytest.raises(PermanentError, match="no_such_field"):
        await sf.write(WriteRequest("Lead", {"no_such_field": "x", "LastName": "W"}))


async def test_batch_writes_use_collections_with_per_record_results_in_order(
    sandbox: SalesforceSandbox, sf: SalesforceAdapter
) -> None:
    existing = sandbox.insert("Lead", {"LastName": "E", "Company": "C", STAMP: "taken"})
    requests = [
        WriteRequest("Lead", {"LastName": "A", "Company": "C", STAMP: "c-a"}),
        WriteRequest("Lead", {"Title": "CEO"}, existing),
        WriteRequest("Lead", {"LastName": "B", STAMP: "c-b"}),  # no Company: refused
        WriteRequest("Lead", {"LastName": "D", "Company": "C", STAMP: "c-d"}),
    ]
    results = await sf.write_batch(requests)
    assert [type(r).__name__ for r in results] == [
        "WriteResult",
        "WriteResult",
        "PermanentError",
        "WriteResult",
    ]
    assert results[0].created and not results[1].created  # type: ignore[union-attr]
    assert "REQUIRED_FIELD_MISSING" in str(results[2])
    assert sandbox.count_requests("PATCH", f".*/composite/sobjects/Lead/{STAMP}") == 1
    assert sandbox.count_requests("PATCH", ".*/composite/sobjects") == 1
    dup = await sf.write_batch([WriteRequest("Lead", {STAMP: "c-a"}, existing)])
    assert isinstance(dup[0], ConflictError) and dup[0].existing_id == results[0].ref.record_id  # type: ignore[union-attr]


async def test_a_locked_row_in_a_batch_is_retryable() -> None:
    plan = FaultPlan.model_validate(
        {"rules": [{"path": ".*/composite/sobjects.*", "fault": "partial_batch", "fail_ratio": 0.5}]}
    )
    sandbox = SalesforceSandbox(token="t", faults=plan)
    sf = adapter(sandbox)
    await sf.ensure_schema("Lead", [STAMP, LAST])
    results = await sf.write_batch(
        [WriteRequest("Lead", {"LastName": f"L{i}", "Company": "C", STAMP: f"c-{i}"}) for i in range(2)]
    )
    assert sorted(type(r).__name__ for r in results) == ["TransientError", "WriteResult"]
    await sf.aclose()


async def test_associations_set_lookups_and_contact_roles(
    sandbox: SalesforceSandbox, sf: SalesforceAdapter
) -> None:
    account = sandbox.insert("Account", {"Name": "Northwind"})
    contact = sandbox.insert("Contact", {"LastName": "W"})
    opportunity = sandbox.insert(
        "Opportunity", {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
    )
    task = await sf.write(
        WriteRequest(
            "Task",
            {"Subject": "Call", "TaskSubtype": "Call", "CallObject": "c-1"},
            associations=(RecordRef("Contact", contact), RecordRef("Opportunity", opportunity)),
        )
    )
    (row,) = sandbox.records("Task")
    assert (row["WhoId"], row["WhatId"]) == (contact, opportunity) and task.ref.object_type == "Task"
    await sf.associate(RecordRef("Contact", contact), RecordRef("Account", account))
    await sf.associate(RecordRef("Opportunity", opportunity), RecordRef("Account", account))
    for _ in range(2):
        await sf.associate(RecordRef("Opportunity", opportunity), RecordRef("Contact", contact))
    assert sandbox.records("Contact")[0]["AccountId"] == account
    assert len(sandbox.records("OpportunityContactRole")) == 1
    with pytest.raises(PermanentError):
        await sf.associate(RecordRef("Lead", "00QDn0000000001MAA"), RecordRef("Account", account))


async def test_errors_map_to_what_the_engine_understands() -> None:
    plan = FaultPlan.model_validate(
        {
            "rules": [
                # A read is repeated twice in place: one 503 is absorbed, three in a row are not.
                {"method": "GET", "path": ".*/query", "fault": "status", "status": 503, "times": 1},
                {
                    "method": "GET",
                    "path": ".*/query",
                    "fault": "status",
                    "status": 503,
                    "skip": 1,
                    "times": 3,
                },
                {"method": "PATCH", "path": ".*", "fault": "status", "status": 503, "times": 1},
            ]
        }
    )
    sandbox = SalesforceSandbox(token="t", faults=plan)
    sf = adapter(sandbox)
    await sf.describe("Lead")
    assert await sf.query("SELECT Id FROM Lead") == []  # a 503, then answered on the repeat
    with pytest.raises(TransientError):
        await sf.query("SELECT Id FROM Lead")
    assert sandbox.count_requests(status=503) == 4
    with pytest.raises(AmbiguousWriteError):
        await sf.write(WriteRequest("Lead", {"Title": "x"}, "00QDn0000000001MAA"))
    assert sandbox.count_requests(status=503) == 5, "a write is never repeated"
    await sf.aclose()
    expired = FaultPlan.model_validate(
        {"rules": [{"path": ".*", "fault": "status", "status": 401, "times": 1}]}
    )
    sf = adapter(SalesforceSandbox(token="t", faults=expired))
    with pytest.raises(AuthenticationError, match="expired"):
        await sf.query("SELECT Id FROM Lead")
    await sf.aclose()


async def test_request_limit_exceeded_pauses_the_org_for_every_attempt() -> None:
    sandbox = SalesforceSandbox(token="t", daily_max=2)
    store = MemoryBudgetStore()
    budget = CreditBudget(
        BudgetKey("salesforce", "org", "salesforce test"), BudgetSettings(None, retry_s=60), store=store
    )
    first = adapter(sandbox, budget=budget)
    await first.query("SELECT Id FROM Lead")
    await first.query("SELECT Id FROM Lead")
    with pytest.raises(RateLimited) as limited:
        await first.query("SELECT Id FROM Lead")
    assert limited.value.retry_after == 60 and limited.value.policy == "REQUEST_LIMIT_EXCEEDED"
    second = adapter(sandbox, budget=budget)
    with pytest.raises(RateLimited, match="TotalRequests Limit exceeded"):
        await second.query("SELECT Id FROM Lead")
    assert sandbox.count_requests(status=403) == 1, "the second attempt waited without asking Salesforce"
    await first.aclose()
    await second.aclose()


async def test_with_a_reserve_new_work_stops_when_only_the_reserve_is_left() -> None:
    sandbox = SalesforceSandbox(token="t", daily_max=5)
    budget = CreditBudget(
        BudgetKey("salesforce", "org2", "salesforce test"),
        BudgetSettings(None, reserve=2, retry_s=30),
        store=MemoryBudgetStore(),
    )
    running = adapter(sandbox, budget=budget, reserve=2)
    for _ in range(4):  # the in-flight attempt goes on past the reserve line
        await running.query("SELECT Id FROM Lead")
    fresh = adapter(sandbox, budget=budget, reserve=2)
    with pytest.raises(RateLimited, match="kept for urgent writes"):
        await fresh.query("SELECT Id FROM Lead")
    await running.aclose()
    await fresh.aclose()
