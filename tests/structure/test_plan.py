"""The plan of what a call creates and links is data, computed before any write."""

from __future__ import annotations

from pathlib import Path

from callsync.capture.extract import extract_call
from callsync.capture.platforms.generic import parse_generic_call
from callsync.structure.mapping import load_mapping
from callsync.structure.plan import plan_call

MAPPING = load_mapping(Path(__file__).parents[2] / "examples" / "hubspot.yaml")


def plan_for(*caller_lines: str) -> dict:  # type: ignore[type-arg]
    turns = []
    for line in caller_lines:
        turns += [{"speaker": "agent", "text": "How can I help?"}, {"speaker": "caller", "text": line}]
    call = parse_generic_call({"call_id": "c-1", "from": "+14155550123", "turns": turns})
    return plan_call(MAPPING, call, extract_call(call)).to_json()


SALES = "i'd like a quote for the enterprise plan for my team"


def test_sales_call_naming_a_company_plans_contact_company_and_linked_deal() -> None:
    p = plan_for(
        "this is dana whitfield from northwind", SALES, "email dana dot whitfield at northwind dot com"
    )
    assert list(p["objects"]) == ["contact", "company", "deal"]
    assert p["objects"]["deal"]["fields"]["dealname"]["value"] == "Northwind - Dana Whitfield"
    assert p["objects"]["deal"]["defaults"] == {"pipeline": "default", "dealstage": "appointmentscheduled"}
    assert sorted(map(tuple, p["links"])) == [
        ("company", "contact"),
        ("deal", "company"),
        ("deal", "contact"),
    ]
    assert p["waiting"] == []


def test_deal_without_a_resolvable_company_waits_in_review_instead_of_being_orphaned() -> None:
    p = plan_for("my name is dana whitfield", SALES, "email dana dot whitfield at northwind dot com")
    assert "deal" not in p["objects"]
    (waiting,) = p["waiting"]
    assert waiting["object"] == "deal"
    assert "cannot be linked to company" in waiting["reason"]


def test_calls_that_are_not_sales_create_no_deal() -> None:
    p = plan_for("this is dana whitfield from northwind", "i'm calling about my invoice from last month")
    assert "deal" not in p["objects"]
    assert "create_when not met" in p["skipped"]["deal"]
