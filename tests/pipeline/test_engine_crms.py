"""The end-to-end tests HubSpot passes (tests/write/test_engine.py), for Salesforce and Zoho CRM, plus what
a lead model adds: a caller who exists as a Lead, a caller whose Lead was converted, and the daily API
allowance running out mid-run.

Each runs the real engine (DBOS worker) against the CRM's emulator over HTTP, with the example mapping
(examples/salesforce.yaml, examples/zoho.yaml: new callers become Leads, both person objects searched).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from callsync.cli.status import crm_budget_waits
from callsync.store.db import Database
from callsync.store.tables import CrmBudgetRow, DeadLetterRow, LedgerRow, ReviewItemRow
from tests.crm.harness import KITS, TARGETS, HarnessFactory, Kit
from tests.pipeline.test_engine import DANA, call_payload

CRMS = pytest.mark.parametrize("kit", [KITS["salesforce"], KITS["zoho"]], ids=["salesforce", "zoho"])
# Lead-conversion cases behave the same in both CRMs' engine paths: one CRM shows them.
SALESFORCE_ONLY = pytest.mark.parametrize("kit", [KITS["salesforce"]], ids=["salesforce"])
PRIYA = ["my name is priya raman", "email priya dot raman at gmail dot com"]


@pytest.fixture
def make_harness(sqlite_db: Database) -> Iterator[HarnessFactory]:
    factory = HarnessFactory(sqlite_db)
    yield factory
    for server in factory.servers:
        server.stop()


# -- what HubSpot passes -------------------------------------------------------------------------------


@CRMS
def test_call_lands_once_as_a_lead_with_fields_confirmed_and_ledgered(make_harness: Any, kit: Kit) -> None:
    h = make_harness(kit)
    h.ingest(call_payload("c-1", DANA))
    state = h.sync()
    assert (state.confirmed, state.queued, state.dead_letter) == (1, 0, 0)
    (lead,) = h.people()
    assert lead["email"] == "dana.whitfield@northwind.com"
    assert lead["first"].lower() == "dana" and lead["last"].lower() == "whitfield"
    assert lead["company"].lower() == "northwind"
    assert lead["stamp"] == "c-1" and lead["last_call"] == "c-1"
    assert h.people(kit.other_person) == []
    ledger = {r.field: r for r in h.rows(LedgerRow)}
    assert {kit.names["email"], kit.names["first"], kit.names["last"]} <= set(ledger)
    for row in ledger.values():
        assert row.record_id == lead["id"] and row.call_id == "c-1" and row.crm == kit.kind
        assert row.confirmed_at is not None
    assert ledger[kit.names["email"]].evidence, "a transcript value must carry its evidence"


@CRMS
def test_create_committed_but_response_lost_leaves_exactly_one_lead_even_when_rerun(
    make_harness: Any, kit: Kit
) -> None:
    rule = {"method": kit.create_method, "path": kit.create_path, "fault": "drop_response_after_commit"}
    h = make_harness(kit, {"rules": [rule]})
    h.ingest(call_payload("c-lost", DANA))
    assert h.sync().confirmed == 1
    assert len(h.people()) == 1
    assert h.sandbox.count_requests(kit.create_method, kit.create_path) == 1, "the retry found the record"
    assert h.rerun("c-lost") == "confirmed"
    assert len(h.people()) == 1
    assert len([r for r in h.rows(LedgerRow) if r.field == kit.names["email"]]) == 1


@pytest.mark.parametrize("kit", [KITS["zoho"]], ids=["zoho"])
def test_a_retried_create_is_an_upsert_on_the_origin_stamp(make_harness: Any, kit: Kit) -> None:
    """The retry cannot find the first create (Zoho's search lags; Salesforce's SOQL does not, so the test
    above covers it): the upsert on the stamp makes the second create an update of the first."""
    rule = {"method": kit.create_method, "path": kit.create_path, "fault": "drop_response_after_commit"}
    h = make_harness(kit, {"rules": [rule]}, search_lag_s=30.0)
    h.ingest(call_payload("c-lag", ["my name is marcus lee", "call me at three one two five five five zero one seven eight"],
                          from_="+13125550142"))  # fmt: skip
    assert h.sync().confirmed == 1
    (lead,) = h.people()
    assert lead["phone"] == "+13125550178" and lead["stamp"] == "c-lag"


@CRMS
def test_throttling_is_waited_out_and_every_write_lands(make_harness: Any, kit: Kit) -> None:
    burst = {"path": kit.write_paths, "fault": "status", "status": kit.burst_status, "times": 2}
    h = make_harness(kit, {"rules": [burst]})
    h.ingest(call_payload("c-a", DANA), call_payload("c-b", PRIYA, from_="+16175550148"))
    state = h.sync()
    assert (state.confirmed, state.dead_letter) == (2, 0)
    assert h.sandbox.count_requests(status=kit.burst_status) == 2
    assert len(h.people()) == 2


@CRMS
def test_unavailable_crm_exhausts_attempts_into_a_dead_letter_with_the_request(
    make_harness: Any, kit: Kit
) -> None:
    down = {"path": kit.write_paths, "fault": "status", "status": 503, "times": None}
    h = make_harness(kit, {"rules": [down]})
    h.ingest(call_payload("c-down", DANA))
    state = h.sync()
    assert (state.dead_letter, state.queued) == (1, 0)
    (dead,) = h.rows(DeadLetterRow)
    assert dead.call_id == "c-down" and dead.attempts == 3 and "503" in dead.last_error
    assert dead.request["plan"]["fields"][kit.names["email"]]["value"] == "dana.whitfield@northwind.com"
    assert h.people() == []


@CRMS
def test_repeat_caller_updates_the_same_lead_by_policy(make_harness: Any, kit: Kit) -> None:
    h = make_harness(kit)
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    later = [
        "my name is dana whitfield and i work at contoso now",
        "email dana dot whitfield at northwind dot com",
    ]
    h.ingest(call_payload("c-2", later, started_at="2026-11-22T17:30:00Z", ended_at="2026-11-22T17:33:00Z"))
    assert h.sync().confirmed == 2
    (lead,) = h.people()
    assert lead["company"].lower() == "contoso"  # call_wins
    assert (lead["stamp"], lead["last_call"]) == ("c-1", "c-2")
    company = [r for r in h.rows(LedgerRow) if r.field == kit.names["company"]]
    assert [(r.call_id, r.new_value.lower()) for r in company] == [("c-1", "northwind"), ("c-2", "contoso")]


@CRMS
def test_value_a_person_typed_is_never_overwritten_and_goes_to_review(make_harness: Any, kit: Kit) -> None:
    h = make_harness(kit)
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    (lead,) = h.people()
    h.edit(lead["id"], {kit.names["company"]: "Northwind Traders Ltd"})
    later = ["this is dana whitfield from contoso", "email dana dot whitfield at northwind dot com"]
    h.ingest(call_payload("c-2", later, ended_at="2026-11-22T17:33:00Z"))
    h.sync()
    (lead,) = h.people()
    assert lead["company"] == "Northwind Traders Ltd"
    reviews = [r for r in h.rows(ReviewItemRow) if r.kind == "protected_field"]
    assert [(r.field, r.proposed_value.lower(), r.current_value) for r in reviews] == [
        (kit.names["company"], "contoso", "Northwind Traders Ltd")
    ]


@pytest.mark.parametrize("kit", [KITS["zoho"]], ids=["zoho"])
def test_one_sync_on_postgres_spending_the_shared_credit_budget(
    make_harness: Any, kit: Kit, pg_url: str
) -> None:
    db = Database(pg_url)
    db.migrate()
    try:
        h = make_harness(
            kit,
            db=db,
            connection={"credit_reserve": 5} | ({"daily_credits": 1000} if kit.kind == "zoho" else {}),
        )
        h.ingest(call_payload("c-pg", DANA))
        assert h.sync().confirmed == 1
        assert len(h.people()) == 1
        assert {r.field for r in h.rows(LedgerRow)} >= {kit.names["email"], kit.names["last"]}
        if kit.kind == "zoho":
            (budget,) = h.rows(CrmBudgetRow)
            assert sum(budget.spent.values()) == h.sandbox.credits.used() and budget.tenants == ["t1"]
    finally:
        db.dispose()


# -- what a lead model adds --------------------------------------------------------------------------


def seed_lead(h: Any, **fields: Any) -> str:
    """A lead a rep entered in the CRM before the call (without a first name, which the call fills)."""
    names = h.kit.names
    values = {names["last"]: "Whitfield", names["email"]: "dana.whitfield@northwind.com",
              names["company"]: "Northwind"} | fields  # fmt: skip
    return str(h.sandbox.insert(h.kit.person, values))


def convert(h: Any, lead_id: str) -> str:
    """A rep converts the lead; returns the Contact it became."""
    result = h.sandbox.convert_lead(lead_id)
    return str(result["contactId"] if h.kit.kind == "salesforce" else result["Contacts"]["id"])


@CRMS
def test_caller_who_exists_as_a_lead_and_caller_whose_lead_was_converted_are_found_not_created(
    make_harness: Any, kit: Kit
) -> None:
    """Dana is an open Lead a rep entered; Priya's lead was converted: her call goes to the Contact it
    became (followed from the lead), and neither caller is created again."""
    h = make_harness(kit)
    n = kit.names
    dana = seed_lead(h)
    priya_lead = seed_lead(
        h, **{n["last"]: "Raman", n["email"]: "priya.raman@gmail.com", n["company"]: "Contoso"}
    )
    priya = convert(h, priya_lead)
    h.ingest(call_payload("c-1", DANA), call_payload("c-2", PRIYA, from_="+16175550148"))
    assert h.sync().confirmed == 2
    (lead,) = [p for p in h.people() if p["id"] != priya_lead]
    assert lead["id"] == dana and lead["stamp"] is None and lead["last_call"] == "c-1"
    assert lead["first"].lower() == "dana"  # fill_if_empty
    (contact,) = h.people(kit.other_person)
    assert contact["id"] == priya and contact["last_call"] == "c-2" and contact["first"].lower() == "priya"
    assert contact["company"] == "Contoso"  # the converted lead's Company is the Contact's Account
    assert len(h.people()) == (2 if kit.kind == "salesforce" else 1), "never a new lead"
    assert {r.record_id for r in h.rows(LedgerRow)} == {dana, priya}


@SALESFORCE_ONLY
def test_lead_created_by_a_call_then_converted_takes_the_next_call_on_its_contact(
    make_harness: Any, kit: Kit
) -> None:
    h = make_harness(kit)
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    (lead,) = h.people()
    contact_id = convert(h, lead["id"])
    later = ["this is dana whitfield again", "email dana dot whitfield at northwind dot com"]
    h.ingest(call_payload("c-2", later, ended_at="2026-11-22T17:33:00Z"))
    assert h.sync().confirmed == 2
    (contact,) = h.people(kit.other_person)
    assert contact["id"] == contact_id
    assert [p for p in h.people() if p["id"] != lead["id"]] == [], "never a new lead"
    assert [r for r in h.rows(ReviewItemRow) if r.call_id == "c-2"] == [], "no identity conflict"


@SALESFORCE_ONLY
def test_repeat_caller_found_as_a_contact_updates_it_by_policy(make_harness: Any, kit: Kit) -> None:
    """Lead mapping, caller is a Contact (no account yet): the call's company becomes its Account, and a
    later call replaces callsync's own value (call_wins) rather than asking a reviewer."""
    h = make_harness(kit)
    names = {"salesforce": ("LastName", "Email"), "zoho": ("Last_Name", "Email")}[kit.kind]
    contact_id = h.sandbox.insert(
        kit.other_person, {names[0]: "Whitfield", names[1]: "dana.whitfield@northwind.com"}
    )
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    later = [
        "my name is dana whitfield and i work at contoso now",
        "email dana dot whitfield at northwind dot com",
    ]
    h.ingest(call_payload("c-2", later, started_at="2026-11-22T17:30:00Z", ended_at="2026-11-22T17:33:00Z"))
    assert h.sync().confirmed == 2
    (contact,) = h.people(kit.other_person)
    assert contact["id"] == contact_id and contact["company"] == "contoso".title()
    assert h.people() == []


@CRMS
def test_mapping_that_creates_contacts_links_their_company_and_still_finds_a_caller_who_is_a_lead(
    make_harness: Any, kit: Kit, tmp_path: Any
) -> None:
    """`crm_object: Contact` with a company object linked to it: a new caller becomes a Contact linked to
    its company's Account (the engine's related objects, through the adapter's lookups); a caller who is an
    open Lead is updated as that Lead, not created again as a Contact."""
    account, name = {"salesforce": ("Account", "Name"), "zoho": ("Accounts", "Account_Name")}[kit.kind]
    n = kit.names
    mapping = tmp_path / "contacts.yaml"
    mapping.write_text(
        f"crm: {kit.kind}\nobjects:\n  contact:\n    crm_object: {kit.other_person}\n"
        f"    match_objects: [{kit.other_person}, {kit.person}]\n"
        f"    stamp_field: {kit.stamp}\n    last_call_field: {kit.last_call}\n    fields:\n"
        f"      {n['email']}: {{from: email, policy: fill_if_empty, type: email}}\n"
        f"      {n['first']}: {{from: first_name, policy: fill_if_empty}}\n"
        f"      {n['last']}: {{from: last_name, policy: fill_if_empty}}\n"
        f"    required:\n      {n['last']}: {{default: '(unknown caller)'}}\n"
        f"  company:\n    crm_object: {account}\n    match_on: [name]\n    stamp_field: {kit.stamp}\n"
        f"    fields:\n      {name}: {{from: company, policy: fill_if_empty}}\n    links: [contact]\n"
    )
    h = make_harness(kit, mapping=str(mapping))
    lead_id = seed_lead(h)
    dana = ["hi my name is dana whitfield", "my email is dana dot whitfield at northwind dot com"]
    priya = ["my name is priya raman from contoso", "email priya dot raman at gmail dot com"]
    h.ingest(call_payload("c-1", dana), call_payload("c-2", priya, from_="+16175550148"))
    assert h.sync().confirmed == 2
    (lead,) = h.people()
    assert lead["id"] == lead_id and lead["last_call"] == "c-1" and lead["first"].lower() == "dana"
    (contact,) = h.people(kit.other_person)
    assert contact["email"] == "priya.raman@gmail.com" and contact["stamp"] == "c-2"
    assert contact["company"].lower() == "contoso", "the new Contact is linked to its company's Account"
    (company,) = h.sandbox.records(account)
    assert company[kit.stamp] == "c-2"


def _watcher(h: Any, seen: list[tuple[int, list[str]]]) -> Any:
    """Records what `callsync status` shows while calls wait for the CRM budget: the count and why."""

    def watch(counts: dict[str, int]) -> None:
        if counts["waiting_for_crm_budget"]:
            seen.append((counts["waiting_for_crm_budget"], [why for _, why in crm_budget_waits(h.db)]))

    return watch


def test_zoho_daily_credits_run_out_mid_run_writes_wait_and_status_says_why(make_harness: Any) -> None:
    """The tenant's shared credit budget (1.5-second window here, 24 h in production) runs out after the
    first calls: the others wait for credits, `callsync status` counts them, nothing is dropped."""
    window = {"daily_credits": 14, "credit_reserve": 2, "budget_window_s": 1.5}
    h = make_harness(KITS["zoho"], connection=window, credits_per_day=14, credit_window_s=1.5)
    marcus = ["my name is marcus lee", "email marcus at lee dot dev"]
    h.ingest(call_payload("c-1", DANA), call_payload("c-2", PRIYA, from_="+16175550148"),
             call_payload("c-3", marcus, from_="+13125550142"))  # fmt: skip
    seen: list[tuple[int, list[str]]] = []
    state = h.sync_watching(_watcher(h, seen))
    assert (state.confirmed, state.dead_letter, state.queued) == (3, 0, 0)
    assert len(h.people()) == 3
    assert seen, "status must show calls waiting for the CRM budget while they wait"
    assert any("API credits used" in why for _, reasons in seen for why in reasons)
    (budget,) = h.rows(CrmBudgetRow)
    assert budget.tenants == ["t1"]
    assert h.sandbox.count_requests(status=429) == 0, "callsync's own count stopped it before Zoho had to"


def test_salesforce_daily_limit_exceeded_mid_run_writes_wait_and_status_says_why(make_harness: Any) -> None:
    """The org's rolling allocation (10 requests per 1.5 s here) is used up mid-run: Salesforce answers 403
    REQUEST_LIMIT_EXCEEDED, every worker pauses for the org, status counts the waiting calls, and all
    writes land once the allocation comes back."""
    h = make_harness(KITS["salesforce"], connection={"limit_retry_s": 0.3}, daily_max=10, window_s=1.5)
    marcus = ["my name is marcus lee", "email marcus at lee dot dev"]
    h.ingest(call_payload("c-1", DANA), call_payload("c-2", PRIYA, from_="+16175550148"),
             call_payload("c-3", marcus, from_="+13125550142"))  # fmt: skip
    seen: list[tuple[int, list[str]]] = []
    # One call at a time: in-flight attempts racing for the last requests would only make the test slower.
    state = h.sync_watching(_watcher(h, seen), concurrency=1)
    assert (state.confirmed, state.dead_letter, state.queued) == (3, 0, 0)
    assert len(h.people()) == 3
    assert h.sandbox.count_requests(status=403) >= 1
    assert seen, "status must show calls waiting for the CRM budget while they wait"
    assert any("TotalRequests Limit exceeded" in why for _, reasons in seen for why in reasons)


# -- what every target passes (hubspot, salesforce, zoho, pipedrive, gohighlevel, webhook) ----------------

EVERY_TARGET = pytest.mark.parametrize("kit", list(TARGETS.values()), ids=list(TARGETS))


def _landed(h: Any, state: Any) -> int:
    """Calls that reached the target: confirmed by read-back, or delivered (2xx) where there is none."""
    return int(state.confirmed if h.kit.read_back else state.delivered)


@EVERY_TARGET
def test_every_target_gets_the_call_once_with_its_fields_ledgered_and_honestly_stated(
    make_harness: Any, kit: Kit
) -> None:
    h = make_harness(kit)
    h.ingest(call_payload("c-1", DANA))
    state = h.sync()
    assert (_landed(h, state), state.queued, state.dead_letter, state.review) == (1, 0, 0, 0)
    assert (state.confirmed, state.delivered) == ((1, 0) if kit.read_back else (0, 1))
    (person,) = h.people()
    assert person["email"] == "dana.whitfield@northwind.com" and person["stamp"] == "c-1"
    ledger = [r for r in h.rows(LedgerRow) if r.field == kit.names["email"]]
    (row,) = ledger
    assert row.record_id == person["id"] and row.call_id == "c-1" and row.evidence
    assert row.sent_at is not None and row.acknowledged_at is not None
    # A target that cannot be read back is never said to have confirmed anything.
    assert (row.confirmed_at is not None) == kit.read_back


@EVERY_TARGET
def test_every_target_keeps_one_record_when_a_create_s_answer_is_lost_and_the_call_is_rerun(
    make_harness: Any, kit: Kit
) -> None:
    rule = {"method": kit.create_method, "path": kit.create_path, "fault": "drop_response_after_commit"}
    h = make_harness(kit, {"rules": [rule]})
    h.ingest(call_payload("c-lost", DANA))
    state = h.sync()
    assert (_landed(h, state), state.dead_letter) == (1, 0)
    assert h.rerun("c-lost") == ("confirmed" if kit.read_back else "delivered")
    people = h.people()
    assert len(people) == 1 and people[0]["stamp"] == "c-lost"
    assert len({r.record_id for r in h.rows(LedgerRow) if r.field == kit.names["email"]}) == 1
    if not kit.read_back:  # a receiver sees the same webhook-id every time, and dedupes on it
        assert len(set(h.sandbox.event_ids())) == 1 and len(h.sandbox.event_ids()) >= 2


def test_a_receiver_answering_500_twice_then_200_gets_one_event_id_three_times_and_one_delivery(
    make_harness: Any,
) -> None:
    h = make_harness(TARGETS["webhook"], fail_first=2)
    h.ingest(call_payload("c-500", DANA))
    state = h.sync()
    assert (state.delivered, state.confirmed, state.dead_letter) == (1, 0, 0)
    ids = h.sandbox.event_ids()
    assert len(ids) == 3 and len(set(ids)) == 1, ids
    assert [a.status for a in h.sandbox.arrivals] == [500, 500, 200]
    rows = h.rows(LedgerRow)
    assert {r.record_id for r in rows} == set(ids), "the ledger's record is the event id"
    assert len([r for r in rows if r.field == "email"]) == 1, "one delivery, ledgered once"
    assert all(r.confirmed_at is None and r.acknowledged_at is not None for r in rows)


def test_a_receiver_that_answers_410_gone_stops_the_deliveries_into_a_dead_letter(make_harness: Any) -> None:
    gone = {"path": "/hooks/.*", "fault": "status", "status": 410, "times": None}
    h = make_harness(TARGETS["webhook"], {"rules": [gone]})
    h.ingest(call_payload("c-gone", DANA))
    state = h.sync()
    assert (state.dead_letter, state.delivered) == (1, 0)
    assert len(h.sandbox.event_ids()) == 1, "410 is permanent: never sent again"
    (dead,) = h.rows(DeadLetterRow)
    assert "410" in dead.last_error and dead.attempts == 1


def test_status_and_trace_say_delivered_not_confirmed_and_status_shows_the_hop_latency(
    make_harness: Any,
) -> None:
    from datetime import UTC, datetime, timedelta

    from callsync.services.status import status
    from callsync.services.trace import field_trace, moments

    h = make_harness(TARGETS["webhook"])
    ended = datetime.now(UTC) - timedelta(seconds=5)
    h.ingest(call_payload("c-hop", DANA, ended_at=ended.isoformat().replace("+00:00", "Z")))
    assert h.sync().delivered == 1
    report = status(h.db)
    assert (report.counts["delivered"], report.counts["confirmed"]) == (1, 0)
    assert report.delivery is not None and report.delivery.calls == 1
    assert 5.0 <= report.delivery.p50_s < 60.0, "call end -> the receiver's 2xx, measured"
    assert report.to_json()["delivered_hop_p95_s"] == report.delivery.p95_s
    (event_id,) = set(h.sandbox.event_ids())
    (entry,) = field_trace(h.db, "webhook", event_id, "email").entries
    said = [m.what for m in moments(entry)]
    assert entry.delivered_only and "confirmed by read-back" not in said
    assert "delivered (2xx, cannot be read back)" in said


def test_the_document_carries_fields_with_confidence_evidence_identity_and_links(make_harness: Any) -> None:
    h = make_harness(TARGETS["webhook"])
    h.ingest(call_payload("c-doc", DANA))
    h.sync()
    (event,) = h.sandbox.events()
    assert event["type"] == "call.processed" and event["id"] == h.sandbox.event_ids()[0]
    data = event["data"]
    assert data["call_id"] == "c-doc" and data["identity"]["email"] == "dana.whitfield@northwind.com"
    email = data["objects"]["contact"]["fields"]["email"]
    assert email["value"] == "dana.whitfield@northwind.com" and 0 < email["confidence"] <= 1
    assert email["evidence"] and {"turn", "start", "end"} <= set(email["evidence"][0])
    assert "text" not in email["evidence"][0], "references, never the sentence itself"


def test_reconcile_counts_delivered_calls_and_says_a_webhook_cannot_be_checked(make_harness: Any) -> None:
    import asyncio

    from callsync.trust.reconcile import reconcile

    h = make_harness(TARGETS["webhook"])
    h.ingest(call_payload("c-r", DANA))
    assert h.sync().delivered == 1
    report = asyncio.run(reconcile(h.db, {h.tenant.name: h.tenant}))
    assert (report.delivered, report.confirmed, report.queued) == (1, 0, 0)
    assert report.unreadable_tenants == [h.tenant.name] and report.records_checked == 0
    assert report.crm_requests == 0 and len(h.sandbox.event_ids()) == 1, "nothing is read or re-sent"


def test_a_webhook_call_with_nothing_to_match_on_is_delivered_once_a_reviewer_supplies_an_email(
    make_harness: Any,
) -> None:
    from callsync.services import review
    from callsync.store.tables import ReviewItemRow

    h = make_harness(TARGETS["webhook"])
    h.ingest(call_payload("c-anon", ["hi my name is marcus lee"], from_="anonymous"))
    assert h.sync().review == 1
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "no_identity"]
    decision = review.resolve(
        h.db, {h.tenant.name: h.tenant}, item.id, reviewer="alice", record=None, email="marcus@example.com"
    )
    assert (decision.status, decision.call_state) == ("resolved", "delivered")
    (event,) = h.sandbox.events()
    assert event["data"]["identity"]["email"] == "marcus@example.com"


def test_a_dead_lettered_delivery_replays_under_the_same_webhook_id(make_harness: Any) -> None:
    from callsync.pipeline.replay import replay
    from callsync.trust.dead_letters import list_dead_letters, settle_replays

    gone_once = {"path": "/hooks/.*", "fault": "status", "status": 410, "times": 1}
    h = make_harness(TARGETS["webhook"], {"rules": [gone_once]})
    h.ingest(call_payload("c-back", DANA))
    assert h.sync().dead_letter == 1
    (dead,) = list_dead_letters(h.db)
    replay(h.db, [dead.id])
    assert h.sync().delivered == 1
    (settled,) = settle_replays(h.db)
    assert (settled.status, settled.call_state) == ("resolved", "delivered")
    ids = h.sandbox.event_ids()
    assert len(ids) == 2 and len(set(ids)) == 1, "the replay is the same event: a receiver drops it if seen"
    assert [a.status for a in h.sandbox.arrivals] == [410, 200]
