"""The caller's line is a contact value of its own: vetted, never spoken, traced to the caller ID."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from callsync.capture.extract import extract_call
from callsync.capture.extract.caller_id import normalize_line, usable_caller_id
from callsync.capture.platforms.generic import parse_generic_call
from callsync.models import NO_TURN, CallRecord, Evidence, EvidenceSource, FieldStatus, FieldValue

BUSINESS = "+14155559876"


def call(
    from_: str | None, to: str | None = BUSINESS, direction: str = "inbound", **extra: Any
) -> CallRecord:
    turns = [
        {"speaker": "agent", "text": "Thanks for calling Brightline, how can I help?"},
        {"speaker": "caller", "text": "hi i just wanted to ask about your opening hours"},
    ]
    payload: dict[str, Any] = {"call_id": "c-1", "direction": direction, "turns": turns, **extra}
    if from_ is not None:
        payload["from"] = from_
    if to is not None:
        payload["to"] = to
    return parse_generic_call(payload)


def test_inbound_callers_line_becomes_an_accepted_caller_id_field_traced_to_the_caller_id() -> None:
    fv = extract_call(call("+1 (415) 555-0123")).fields["caller_id"]
    assert fv.value == "+14155550123"
    assert fv.status is FieldStatus.ACCEPTED
    assert [e.source for e in fv.evidence] == [EvidenceSource.CALLER_ID]
    assert fv.evidence[0].turn == NO_TURN and not fv.evidence[0].in_transcript


def test_outbound_call_uses_the_to_number_as_the_callers_line() -> None:
    c = call(BUSINESS, "+14155550123", direction="outbound")
    assert extract_call(c).fields["caller_id"].value == "+14155550123"


def test_caller_id_never_fills_the_spoken_phone_field() -> None:
    fields = extract_call(call("+14155550123")).fields
    assert "phone" not in fields


@pytest.mark.parametrize(
    "line",
    [
        "anonymous",
        "Anonymous",
        "restricted",
        "private",
        "unknown",
        "+266696687",
        "+7378742833",
        "+8656696",
        "+2562533",
        "",
        "  ",
        "client:alice",
        "sip:alice@example.com",
        "+1415",
        "+10000000000",
    ],
)
def test_withheld_anonymous_or_unparseable_lines_are_never_used(line: str) -> None:
    assert "caller_id" not in extract_call(call(line)).fields


def test_missing_line_gives_no_caller_id() -> None:
    assert "caller_id" not in extract_call(call(None)).fields


def test_tenants_own_numbers_are_never_the_callers_line() -> None:
    c = call("+14155550111")
    assert "caller_id" in extract_call(c).fields
    assert "caller_id" not in extract_call(c, own_numbers=["+1 415 555 0111"]).fields


def test_the_business_side_of_the_same_call_is_never_the_callers_line() -> None:
    assert usable_caller_id(call(BUSINESS, BUSINESS)) is None


def test_national_lines_are_read_in_the_tenants_region() -> None:
    assert normalize_line("020 7946 0018", "GB") == "+442079460018"
    assert normalize_line("(415) 555-0123", "US") == "+14155550123"


def test_transcript_evidence_json_keeps_its_original_shape() -> None:
    assert Evidence(2, 5, 9).to_json() == {"turn": 2, "start": 5, "end": 9}
    assert Evidence.caller_id().to_json() == {"turn": NO_TURN, "start": 0, "end": 0, "source": "caller_id"}


def test_stored_evidence_without_a_source_reads_as_transcript_and_round_trips() -> None:
    assert Evidence.from_json({"turn": 1, "start": 0, "end": 4}) == Evidence(1, 0, 4)
    for ev in (Evidence(3, 1, 2), Evidence.caller_id()):
        assert Evidence.from_json(ev.to_json()) == ev


def test_field_value_names_its_sources() -> None:
    said = FieldValue("x", 0.9, (Evidence(1, 0, 1),), "t")
    line = FieldValue("+14155550123", 0.9, (Evidence.caller_id(),), "t")
    assert said.sources == (EvidenceSource.TRANSCRIPT,)
    assert line.sources == (EvidenceSource.CALLER_ID,)


# -- properties ------------------------------------------------------------------------------------

_AREA = st.sampled_from(["212", "312", "415", "617", "646", "720", "773", "917", "206", "480"])
_SHAPE = st.sampled_from(
    ["+1{a}{x}{n}", "({a}) {x}-{n}", "{a}-{x}-{n}", "+1 {a} {x} {n}", "1{a}{x}{n}", "{a}.{x}.{n}"]
)


@settings(max_examples=200, deadline=None)
@given(area=_AREA, exchange=st.integers(200, 999), line=st.integers(0, 9999), shape=_SHAPE)
def test_any_written_shape_of_a_valid_line_gives_the_same_e164(
    area: str, exchange: int, line: int, shape: str
) -> None:
    expected = f"+1{area}{exchange}{line:04d}"
    assume(normalize_line(expected, "US") is not None)
    assert normalize_line(shape.format(a=area, x=exchange, n=f"{line:04d}"), "US") == expected


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(min_size=1, max_size=20).filter(
        lambda t: any(c.isalpha() for c in t) and not t.strip().lower().startswith("tel:")
    )
)
def test_a_line_with_letters_is_never_a_number(text: str) -> None:
    # "anonymous", "RESTRICTED", "client:alice": phonenumbers would read letters as a vanity number.
    assert normalize_line(text, "US") is None
