"""The caller ID in the plan: a phone value when none was said, an identity key always, and switchable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from callsync.capture.extract import extract_call
from callsync.capture.platforms.generic import parse_generic_call
from callsync.models import EvidenceSource, FieldStatus
from callsync.structure.mapping import load_mapping, parse_mapping
from callsync.structure.plan import SyncPlan, plan_call

EXAMPLES = Path(__file__).parents[2] / "src" / "callsync" / "examples"
HUBSPOT = load_mapping(EXAMPLES / "hubspot.yaml")
LINE = "+14155550123"


def sync_plan(*caller_lines: str, from_: str = LINE, doc: Any = HUBSPOT, **kw: Any) -> SyncPlan:
    turns = []
    for line in caller_lines:
        turns += [{"speaker": "agent", "text": "How can I help?"}, {"speaker": "caller", "text": line}]
    payload: dict[str, Any] = {"call_id": "c-1", "from": from_, "to": "+14155559876", "turns": turns}
    payload.update(kw.pop("payload", {}))
    call = parse_generic_call(payload)
    return plan_call(doc, call, extract_call(call), **kw)


def test_caller_who_gives_no_contact_details_is_identified_and_phoned_by_the_caller_id() -> None:
    contact = sync_plan("hi i'm just wondering what time you close today").objects["contact"]
    assert contact.identity.present() and contact.identity.phone == LINE
    assert contact.identity_sources == {"phone": "caller_id"}
    assert contact.phone_keys == (LINE,)
    phone = contact.fields["phone"]
    assert (phone.value, phone.canonical) == (LINE, "caller_id")
    assert [e.source for e in phone.evidence] == [EvidenceSource.CALLER_ID]


def test_every_shipped_mapping_gives_the_contact_a_phone_from_the_caller_id() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        doc = load_mapping(path)
        contact = sync_plan("what time do you close", doc=doc).objects["contact"]
        assert [f.value for f in contact.fields.values() if f.canonical == "caller_id"] == [LINE], path.name
        assert contact.identity.phone == LINE, path.name


def test_a_number_the_caller_speaks_wins_the_phone_value_and_the_line_stays_a_match_key() -> None:
    contact = sync_plan(
        "my name is dana whitfield", "my cell is six one seven five five five oh one four eight"
    ).objects["contact"]
    assert contact.fields["phone"].value == "+16175550148"
    assert contact.fields["phone"].canonical == "phone"
    assert contact.identity.phone == "+16175550148"
    assert contact.identity_sources["phone"] == "transcript"
    assert contact.caller_id == LINE  # kept as a secondary key
    assert contact.match_keys == {"phone": "+16175550148"}
    assert contact.phone_keys == ("+16175550148", LINE)  # both numbers find the caller


def test_a_phone_waiting_for_review_is_not_pre_empted_by_the_caller_id() -> None:
    p = sync_plan(
        "hi i'm just wondering what time you close today",
        payload={"analysis": {"structured_data": {"phone": "+16175550199"}}},
    )
    contact = p.objects["contact"]
    assert "phone" not in contact.fields
    assert [h.crm_field for h in contact.held] == ["phone"]
    assert contact.identity.phone == LINE  # the line still identifies the caller


def test_withheld_number_gives_no_phone_and_no_identity() -> None:
    for withheld in ("anonymous", "+266696687", "restricted", ""):
        contact = sync_plan("what time do you close", from_=withheld).objects["contact"]
        assert not contact.identity.present(), withheld
        assert "phone" not in contact.fields


def test_tenants_own_numbers_passed_to_the_plan_are_never_used() -> None:
    contact = sync_plan("what time do you close", own_numbers=[LINE]).objects["contact"]
    assert not contact.identity.present()
    assert "phone" not in contact.fields and contact.caller_id is None


def _doc(top: str = "", obj: str = "") -> Any:
    return parse_mapping(
        "crm: hubspot\n"
        + top
        + "objects:\n  contact:\n    crm_object: contacts\n"
        + obj
        + "    fields:\n      phone: {from: phone, policy: fill_if_empty, type: phone}\n"
        + "      line: {from: caller_id, policy: fill_if_empty, type: phone}\n"
    )


def test_mapping_can_turn_the_caller_id_off_for_the_whole_document() -> None:
    contact = sync_plan("what time do you close", doc=_doc(top="caller_id: false\n")).objects["contact"]
    assert contact.fields == {} and not contact.identity.present() and contact.caller_id is None


def test_mapping_can_turn_the_caller_id_off_or_back_on_per_object() -> None:
    off = sync_plan("what time do you close", doc=_doc(obj="    caller_id: false\n")).objects["contact"]
    assert off.fields == {} and not off.identity.present()
    on = sync_plan(
        "what time do you close", doc=_doc(top="caller_id: false\n", obj="    caller_id: true\n")
    ).objects["contact"]
    assert set(on.fields) == {"phone", "line"} and on.identity.phone == LINE


def test_the_caller_line_alone_does_not_create_a_related_object() -> None:
    doc = parse_mapping(
        "crm: hubspot\nobjects:\n  contact:\n    crm_object: contacts\n    fields:\n"
        "      email: {from: email, policy: fill_if_empty, type: email}\n"
        "  note:\n    crm_object: notes\n    fields:\n"
        "      phone: {from: phone, policy: fill_if_empty, type: phone}\n    links: [contact]\n"
    )
    p = sync_plan("what time do you close", doc=doc)
    assert "note" not in p.objects and p.skipped["note"] == "no mapped value was said"


def test_a_caller_who_gives_an_email_is_not_matched_by_a_possibly_shared_line() -> None:
    contact = sync_plan("my email is dana dot whitfield at northwind dot com").objects["contact"]
    assert contact.identity.email == "dana.whitfield@northwind.com"
    assert contact.identity.phone is None  # an office line must not pull Dana onto a colleague's record
    assert contact.caller_id == LINE and contact.fields["phone"].value == LINE  # still her phone value
    assert contact.phone_keys == ()


def test_plan_json_never_lists_a_persons_name_as_a_match_key() -> None:
    p = sync_plan(
        "this is dana whitfield from northwind", "email dana dot whitfield at northwind dot com"
    ).to_json()
    contact, company = p["objects"]["contact"], p["objects"]["company"]
    assert contact["match"] == {"email": "dana.whitfield@northwind.com"}
    assert contact["match_sources"] == {"email": "transcript"}
    assert contact["caller_id"] == LINE
    assert contact["name_for_duplicates"] == "Dana Whitfield"
    assert company["match"] == {"name": "Northwind"}  # organisations match on their exact name
    assert contact["fields"]["phone"]["source"] == "caller_id"
    assert contact["fields"]["email"]["source"] == "transcript"


def test_caller_line_fact_is_never_a_withheld_code() -> None:
    doc = parse_mapping(
        "crm: hubspot\nobjects:\n  contact:\n    crm_object: contacts\n    fields:\n"
        "      line: {from: caller_line, policy: fill_if_empty}\n"
    )
    assert sync_plan("hello", from_="anonymous", doc=doc).objects["contact"].fields == {}
    assert sync_plan("hello", doc=doc).objects["contact"].fields["line"].value == LINE


def test_held_platform_phone_is_marked_for_review() -> None:
    call = parse_generic_call(
        {
            "call_id": "c-1",
            "from": LINE,
            "turns": [{"speaker": "caller", "text": "hello"}],
            "analysis": {"structured_data": {"phone": "+16175550199"}},
        }
    )
    assert extract_call(call).fields["phone"].status is FieldStatus.NEEDS_REVIEW
