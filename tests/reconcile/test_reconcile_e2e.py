"""Stage 5 through the whole pipeline (HubSpot sandbox over HTTP): which record a call belongs to."""

from __future__ import annotations

from typing import Any

from callsync.store.tables import IdentityLinkRow, LedgerRow, ReviewItemRow
from tests.pipeline.test_engine import DANA, call_payload

PRIYA = ["my name is priya raman", "email priya dot raman at gmail dot com"]


def test_email_and_phone_pointing_to_different_records_go_to_review_untouched(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-dana", DANA, from_="+14155550123"))
    h.ingest(call_payload("c-priya", [*PRIYA, "you can call me at four one five five five five zero one nine nine"],
                          from_="+14155550199"))  # fmt: skip
    h.sync()
    before = {c["id"]: dict(c["properties"]) for c in h.contacts()}
    # Dana's email, but Priya's phone number.
    mixed = [*DANA, "my number is four one five five five five zero one nine nine"]
    h.ingest(call_payload("c-mixed", mixed, from_="+12125550100"))
    state = h.sync()
    assert state.review == 1
    after = {c["id"]: dict(c["properties"]) for c in h.contacts()}
    assert before.keys() == after.keys()
    assert all(before[k]["lastmodifieddate"] == after[k]["lastmodifieddate"] for k in before), (
        "nothing written"
    )
    (item,) = [r for r in h.rows(ReviewItemRow) if r.call_id == "c-mixed"]
    assert item.kind == "identity_conflict"
    assert sorted(item.detail["candidates"]) == sorted(before)


def test_same_person_calling_twice_within_a_second_makes_one_contact(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(
        call_payload("c-1", DANA, started_at="2026-11-20T21:03:00Z", ended_at="2026-11-20T21:04:00.200Z"),
        call_payload("c-2", DANA, started_at="2026-11-20T21:03:01Z", ended_at="2026-11-20T21:04:00.900Z"),
    )
    assert h.sync().confirmed == 2
    assert len(h.contacts()) == 1
    assert {r.call_id for r in h.rows(LedgerRow)} == {"c-1"}, "the second call found nothing left to change"


def test_same_person_from_two_lines_at_once_still_makes_one_contact(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA, from_="+14155550123"), call_payload("c-2", DANA, from_="+16505550123"))
    assert h.sync().confirmed == 2
    assert len(h.contacts()) == 1


def test_new_phone_for_a_known_email_matches_the_record_and_links_the_number(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", [*DANA, "this number is fine"], from_="+14155550123"))
    h.sync()
    (contact,) = h.contacts()
    h.ingest(call_payload("c-2", [*DANA, "my new cell is six five zero five five five zero one four four"],
                          from_="+16505550144"))  # fmt: skip
    assert h.sync().confirmed == 2
    (again,) = h.contacts()
    assert again["id"] == contact["id"]
    assert again["properties"]["phone"] == "+14155550123", "fill_if_empty keeps the number already there"
    links = {(r.key, r.record_id) for r in h.rows(IdentityLinkRow)}
    assert ("phone:+16505550144", contact["id"]) in links, "the new number now leads to the same person"


def test_a_look_alike_name_never_matches_but_is_flagged_as_possible_duplicate(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    other = ["my name is dana whitfeld", "email dana dot w at contoso dot com"]
    h.ingest(call_payload("c-2", other, from_="+13035550100"))
    assert h.sync().confirmed == 2
    assert len(h.contacts()) == 2, "a similar name is not an identity"
    (note,) = [r for r in h.rows(ReviewItemRow) if r.kind == "possible_duplicate"]
    assert note.call_id == "c-2"
    assert note.detail["candidates"] == [h.contacts()[0]["id"]]


def test_a_tenant_that_turns_the_duplicate_check_off_spends_no_search_on_it(make_harness: Any) -> None:
    h = make_harness()
    h.tenant = h.tenant.model_copy(
        update={"delivery": h.tenant.delivery.model_copy(update={"duplicate_check": False})}
    )
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    other = ["my name is dana whitfeld", "email dana dot w at contoso dot com"]
    h.ingest(call_payload("c-2", other, from_="+13035550100"))
    assert h.sync().confirmed == 2
    assert len(h.contacts()) == 2
    assert not [r for r in h.rows(ReviewItemRow) if r.kind == "possible_duplicate"]
    searches = [r for r in h.sandbox.request_log if r[1] == "/crm/v3/objects/contacts/search"]
    assert searches == [], "people are found by email and phone: the look-alike search is the only one"


SALES = "i'd like a quote for the enterprise plan for my team"


def test_a_sales_call_creates_a_deal_linked_to_its_contact_and_company(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-sale", ["this is dana whitfield from northwind", SALES, DANA[1]]))
    assert h.sync().confirmed == 1
    (contact,) = h.contacts()
    (company,) = h.sandbox.records("companies")
    (deal,) = h.sandbox.records("deals")
    assert company["properties"]["name"].lower() == "northwind"
    assert deal["properties"]["callsync_origin_call_id"] == "c-sale"
    assert h.associated("deals", deal["id"], "contacts") == [contact["id"]]
    assert h.associated("deals", deal["id"], "companies") == [company["id"]]
    assert h.associated("companies", company["id"], "contacts") == [contact["id"]]
    objects = {r.object_type for r in h.rows(LedgerRow)}
    assert objects == {"contacts", "companies", "deals"}


def test_a_deal_whose_company_is_unknown_waits_in_review_and_is_not_created(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-sale", ["my name is dana whitfield", SALES, DANA[1]]))
    assert h.sync().confirmed == 1
    assert h.sandbox.records("deals") == []
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "waiting_object"]
    assert item.field == "deal" and "cannot be linked to company" in item.reason


def test_a_second_call_naming_the_same_company_reuses_it(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", ["this is dana whitfield from northwind", DANA[1]]))
    h.ingest(call_payload("c-2", ["this is priya raman from northwind", "email priya dot raman at northwind dot com"],
                          from_="+16175550148"))  # fmt: skip
    assert h.sync().confirmed == 2
    (company,) = h.sandbox.records("companies")
    assert sorted(h.associated("companies", company["id"], "contacts")) == sorted(
        c["id"] for c in h.contacts()
    )


def test_a_required_field_marked_review_holds_the_whole_record(make_harness: Any, tmp_path: Any) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "crm: hubspot\nobjects:\n  contact:\n    crm_object: contacts\n    fields:\n"
        "      email: {from: email, policy: fill_if_empty, type: email}\n"
        "      company: {from: company, policy: call_wins}\n"
        "    required:\n      company: {review: true}\n"
    )
    h = make_harness(mapping=str(mapping))
    h.ingest(call_payload("c-1", ["my name is dana whitfield", DANA[1]]))
    assert h.sync().review == 1
    assert h.contacts() == [], "never half-written"
    (item,) = h.rows(ReviewItemRow)
    assert item.kind == "missing_required" and "company" in item.reason
