"""Platform analysis values are checked against the spoken transcript and never accepted on their own."""

from __future__ import annotations

from callsync.capture.extract import extract_call
from callsync.capture.extract.grounding import canonical_key
from callsync.capture.platforms.generic import parse_generic_call
from callsync.models import CallRecord, FieldStatus
from tests.capture import make_call, said

PHONE_TURNS = (
    ("agent", "What's the best number for you?"),
    ("caller", "six one seven five five five oh one four eight"),
)


def test_platform_value_nobody_said_needs_review_not_in_transcript() -> None:
    call = make_call(
        ("agent", "How can I help?"), ("caller", "just a question"), structured={"phone": "+12065550163"}
    )
    fv = extract_call(call).fields["phone"]
    assert (fv.value, fv.status, fv.reason) == ("+12065550163", FieldStatus.NEEDS_REVIEW, "not_in_transcript")
    assert fv.evidence == () and fv.extractor == "platform@1"


def test_caller_id_nobody_spoke_is_not_accepted() -> None:
    call = make_call(
        ("agent", "Hi"), ("caller", "hi"), caller="+12145550165", structured={"phone": "+12145550165"}
    )
    assert extract_call(call).fields["phone"].status is FieldStatus.NEEDS_REVIEW


def test_platform_value_equal_to_ours_raises_confidence() -> None:
    # The rules' raw confidence rises; the calibrated one (a step function of it) never falls.
    plain = extract_call(make_call(*PHONE_TURNS), calibrated=False).fields["phone"]
    structured = {"phone_number": "(617) 555-0148"}
    agreed = extract_call(make_call(*PHONE_TURNS, structured=structured), calibrated=False).fields["phone"]
    assert agreed.value == plain.value == "+16175550148"
    assert agreed.confidence > plain.confidence
    calibrated_plain = extract_call(make_call(*PHONE_TURNS)).fields["phone"]
    calibrated_agreed = extract_call(make_call(*PHONE_TURNS, structured=structured)).fields["phone"]
    assert calibrated_agreed.confidence >= calibrated_plain.confidence
    assert agreed.extractor == "phone@1"


def test_platform_value_different_from_ours_leaves_ours() -> None:
    fv = extract_call(make_call(*PHONE_TURNS, structured={"phone": "+16175550167"})).fields["phone"]
    assert fv.value == "+16175550148" and fv.status is FieldStatus.ACCEPTED


def test_platform_value_said_but_missed_by_us_is_added_for_review_with_evidence() -> None:
    call = make_call(
        ("agent", "How can I help?"),
        ("caller", "we are tallgrass freight and we need a quote"),
        structured={"company": "Tallgrass Freight"},
    )
    fv = extract_call(call).fields["company"]
    assert (fv.status, fv.reason) == (FieldStatus.NEEDS_REVIEW, "platform_only")
    assert said(call, fv.evidence) == [(1, "tallgrass freight")]


def test_only_agent_said_value_is_grounded_but_still_never_accepted() -> None:
    call = make_call(
        ("agent", "And your phone number, is it 412-555-0153?"),
        ("caller", "hmm"),
        structured={"phone": "+14125550153"},
    )
    fv = extract_call(call).fields["phone"]
    assert fv.status is FieldStatus.NEEDS_REVIEW and fv.reason == "platform_only"


def test_planted_surname_does_not_touch_the_name_we_heard() -> None:
    call = make_call(
        ("agent", "Who am I speaking with?"),
        ("caller", "its bianca"),
        ("agent", "Thanks, Bianca."),
        structured={"customer_name": "Bianca Torres"},
    )
    fields = extract_call(call).fields
    assert fields["full_name"].value == "Bianca"
    assert "last_name" not in fields


def test_planted_name_alone_is_not_in_transcript() -> None:
    call = make_call(
        ("caller", "the person you are trying to reach is not available"),
        ("agent", "Hi, this message is for Marisol."),
        direction="outbound",
        structured={"lead_name": "Marisol Vega", "email": "marisol@brightpathcoaching.com"},
    )
    fields = extract_call(call).fields
    assert fields["full_name"].reason == "not_in_transcript"
    assert fields["email"].reason == "not_in_transcript"
    # Everything from the transcript or the platform waits; only the caller's line is not speech.
    assert all(fv.status is FieldStatus.NEEDS_REVIEW for k, fv in fields.items() if k != "caller_id")


def test_spelled_form_counts_as_said() -> None:
    call = make_call(
        ("agent", "Spell it?"),
        ("caller", "s i o b h a n"),
        structured={"first_name": "Siobhan"},
    )
    fv = extract_call(call).fields["first_name"]
    assert fv.reason == "platform_only"
    assert fv.evidence


def test_other_peoples_names_and_unmapped_keys_are_ignored() -> None:
    assert canonical_key("adjuster_name") is None
    assert canonical_key("referring_doctor") is None
    assert canonical_key("Customer Name") == "full_name"
    call = make_call(
        ("agent", "Hi"), ("caller", "hi"), structured={"adjuster_name": "Linda Park", "vehicle": "Civic"}
    )
    extraction = extract_call(call)
    assert set(extraction.fields) <= {"caller_id"}
    # ... but they are still checked, and reported as never said.
    assert {(p.key, p.field, p.reason) for p in extraction.platform_values} == {
        ("adjuster_name", None, "not_in_transcript"),
        ("vehicle", None, "not_in_transcript"),
    }


def test_invalid_platform_value_is_kept_for_review() -> None:
    call = make_call(("agent", "Hi"), ("caller", "hi"), structured={"email": "not an email"})
    fv = extract_call(call).fields["email"]
    assert (fv.status, fv.reason) == (FieldStatus.NEEDS_REVIEW, "invalid_platform_value")


def _with_analysis(analysis: dict[str, object], *turns: tuple[str, str]) -> CallRecord:
    payload = {
        "call_id": "t-2",
        "from": "+16175550148",
        "to": "+16175550100",
        "started_at": "2026-10-16T15:20:24Z",
        "timezone": "America/New_York",
        "turns": [{"speaker": s, "text": t} for s, t in turns],
        "analysis": analysis,
    }
    return parse_generic_call(payload)


BUDGET_TURNS = (
    ("agent", "And do you have a budget range for this?"),
    ("caller", "were looking at like between twenty and thirty thousand a year"),
)


def test_the_midpoint_of_a_stated_range_is_not_in_transcript() -> None:
    extraction = extract_call(_with_analysis({"structured_data": {"budget": 25000}}, *BUDGET_TURNS))
    (report,) = extraction.platform_values
    assert (report.field, report.said, report.reason) == ("amount", False, "not_in_transcript")
    assert extraction.fields["amount"].status is FieldStatus.NEEDS_REVIEW
    assert extraction.fields["amount_range"].value == [20000, 30000]


def test_numbers_and_words_said_in_speech_count_as_said() -> None:
    extraction = extract_call(
        _with_analysis(
            {"structured_data": {"seats": 40, "vehicle": "2019 Accord", "lender": "Rocket Mortgage"}},
            ("caller", "uh around forty across finance and ops and i drive a twenty nineteen accord"),
        )
    )
    said = {p.key: p.said for p in extraction.platform_values}
    assert said == {"seats": True, "vehicle": True, "lender": False}


def test_vapi_and_retell_shapes_are_checked_too() -> None:
    vapi = _with_analysis({"structuredData": {"phone": "+12065550163"}}, ("caller", "hi"))
    retell = _with_analysis(
        {"custom_analysis_data": {"customer_name": "Bianca Torres"}}, ("caller", "its bianca")
    )
    outputs = _with_analysis(
        {"structuredOutputs": {"so_1": {"name": "lead", "result": {"email": "x@y.com"}}}}, ("caller", "hi")
    )
    for call in (vapi, retell, outputs):
        assert [p.reason for p in extract_call(call).platform_values] == ["not_in_transcript"]


def test_dates_and_times_are_grounded_against_relative_words() -> None:
    call = _with_analysis(
        {
            "structured_data": {
                "demo_date": "2026-10-21",
                "callback_time": "09:00",
                "appointment": "2026-10-21T14:00",
            }
        },
        ("agent", "How's next Wednesday at 2 PM Eastern?"),
        ("caller", "next wednesday at two works"),
        ("agent", "You're set for Wednesday, October 21st at 2 PM."),
    )
    report = {(p.key, p.field): (p.said, p.effect) for p in extract_call(call).platform_values}
    assert report[("demo_date", "date")] == (True, "raised_confidence")
    assert report[("callback_time", "time")][0] is False
    assert report[("appointment", "date")] == (True, "raised_confidence")
    assert report[("appointment", "time")] == (True, "raised_confidence")


def test_report_is_in_the_extraction_json() -> None:
    data = extract_call(
        _with_analysis({"structured_data": {"insurance": "Delta Dental"}}, ("caller", "hi"))
    ).to_json()
    assert data["platform_values"] == [
        {
            "key": "insurance",
            "value": "Delta Dental",
            "field": None,
            "said": False,
            "status": "needs_review",
            "reason": "not_in_transcript",
            "effect": "none",
            "evidence": [],
        }
    ]


def test_booleans_cannot_be_checked_and_are_reported_so() -> None:
    call = _with_analysis({"structured_data": {"demo_booked": True}}, ("caller", "hi"))
    (report,) = extract_call(call).platform_values
    assert (report.reason, report.said) == ("not_checkable", False)
