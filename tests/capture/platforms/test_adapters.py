"""Each platform's payload becomes the same CallRecord; the platform's own analysis is checked, never trusted."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callsync.capture.extract import extract_call
from callsync.capture.platforms import (
    ADAPTERS,
    PLATFORMS,
    IgnoredEvent,
    UnknownEvent,
    adapter,
    record_from_payloads,
    to_call_record,
)
from callsync.errors import InputError
from callsync.models import CallRecord, Direction, FieldStatus
from tests.route import payloads as p


def payload_of(platform: str) -> dict[str, Any]:
    """A fresh sample payload of a platform (the builders take different optional arguments)."""
    build: Callable[[], dict[str, Any]] = p.PAYLOADS[platform]  # type: ignore[assignment]
    return build()


EXPECTED_IDS = {
    "generic": "c-1",
    "vapi": "9b7c6a1e-3f0d",
    "retell": "call_5e2f8a9c",
    "bland": "1f0c9b2e-7a6d",
    "elevenlabs": "conv_01jx9v4w3y",
    "twilio": "CA7d3b42",
}


@pytest.mark.parametrize("platform", list(p.PAYLOADS))
def test_every_platform_gives_the_call_id_direction_numbers_and_raw_payload(platform: str) -> None:
    payload = payload_of(platform)
    info = adapter(platform).classify(payload)
    call = to_call_record(platform, payload, "acme")
    assert info.call_id == call.call_id == EXPECTED_IDS[platform]
    assert call.tenant == "acme" and call.direction is Direction.INBOUND
    assert (call.from_number, call.to_number) == (p.CALLER, p.BUSINESS)
    assert call.raw == payload
    assert info.number == p.BUSINESS or (platform in ("twilio",) and info.number == p.BUSINESS)


@pytest.mark.parametrize("platform", ["generic", "vapi", "retell", "bland", "elevenlabs"])
def test_turns_keep_who_said_what_in_order(platform: str) -> None:
    call = to_call_record(platform, payload_of(platform), "acme")
    assert [(t.speaker.value, t.text) for t in call.turns] == p.DANA_SAYS


def test_vapi_times_recording_analysis_and_turn_offsets() -> None:
    call = to_call_record("vapi", p.vapi(), "acme")
    assert call.started_at == datetime(2026, 3, 2, 15, 20, 1, 120000, tzinfo=UTC)
    assert call.recording_url == "https://recordings.example.com/vapi/9b7c.wav"
    assert call.analysis["structured_data"] == {"email": "dana.whitfield@northwind.com", "budget": 50000}
    assert call.turns[0].start == pytest.approx(1.18) and call.turns[0].end == pytest.approx(2.98)


def test_vapi_structured_outputs_join_the_structured_data_and_text_transcripts_are_a_fallback() -> None:
    payload = p.vapi()
    artifact = payload["message"]["artifact"]
    artifact["structuredOutputs"] = {"so_1": {"name": "lead", "result": {"first_name": "Dana"}}}
    artifact["messages"] = []
    call = to_call_record("vapi", payload, "acme")
    assert call.analysis["structured_data"]["first_name"] == "Dana"
    assert [(t.speaker.value, t.text) for t in call.turns] == [
        ("agent", "Thanks for calling."),
        ("caller", "hi this is dana"),
    ]


def test_a_polled_vapi_call_object_reads_like_the_webhook() -> None:
    message = p.vapi()["message"]
    polled = {**message["call"], "customer": message["customer"], "phoneNumber": message["phoneNumber"],
              "artifact": message["artifact"], "analysis": message["analysis"], "startedAt": message["startedAt"],
              "endedAt": message["endedAt"], "createdAt": message["startedAt"]}  # fmt: skip
    assert adapter("vapi").classify(polled).event_key == "end-of-call-report"
    a, b = to_call_record("vapi", polled, "t"), to_call_record("vapi", p.vapi(), "t")
    assert (a.call_id, a.from_number, a.to_number, a.turns, a.started_at) == (
        b.call_id, b.from_number, b.to_number, b.turns, b.started_at
    )  # fmt: skip
    with pytest.raises(IgnoredEvent):
        adapter("vapi").classify({**polled, "status": "in-progress"})


def test_retell_outbound_numbers_epoch_ms_and_word_times() -> None:
    payload = p.retell()
    call_obj = payload["call"]
    call_obj |= {"direction": "outbound", "from_number": p.BUSINESS, "to_number": p.CALLER}
    call = to_call_record("retell", payload, "acme")
    assert call.direction is Direction.OUTBOUND and call.caller_line == p.CALLER
    assert adapter("retell").classify(payload).number == p.BUSINESS
    assert call.started_at == datetime.fromtimestamp(1767000001.12, UTC)
    assert (call.turns[1].start, call.turns[1].end) == (4.4, 6.3)
    assert call.analysis["sentiment"] == "Positive"


def test_retell_event_type_spelling_and_ranks() -> None:
    a = adapter("retell")
    ended, analyzed = p.retell(event="call_ended"), p.retell()
    assert a.classify({"event_type": "call_ended", "call": ended["call"]}).event_key == "call_ended"
    assert a.merge([analyzed, ended]) is analyzed  # analysis wins whatever the arrival order
    assert a.merge([ended, analyzed]) is analyzed


def test_bland_minutes_and_outbound() -> None:
    payload = p.bland(inbound=False, **{"from": p.BUSINESS, "to": p.CALLER})
    call = to_call_record("bland", payload, "acme")
    assert call.direction is Direction.OUTBOUND and call.caller_line == p.CALLER
    assert call.ended_at is not None and call.started_at is not None
    assert (call.ended_at - call.started_at).total_seconds() == pytest.approx(123.6)
    assert call.turns[1].start == pytest.approx(4.3)
    with pytest.raises(IgnoredEvent):
        adapter("bland").classify(p.bland(completed=False))


def test_elevenlabs_times_and_data_collection() -> None:
    call = to_call_record("elevenlabs", p.elevenlabs(), "acme")
    assert call.started_at == datetime.fromtimestamp(1767000001, UTC)
    assert call.ended_at == datetime.fromtimestamp(1767000125, UTC)
    assert call.analysis["structured_data"] == {"email": "dana@wrong.example"}


def test_a_platform_value_nobody_said_is_never_accepted() -> None:
    # ElevenLabs "collected" an email the caller never gave: the grounding check holds it for review.
    call = to_call_record("elevenlabs", p.elevenlabs(), "acme")
    email = extract_call(call).fields["email"]
    assert email.value == "dana.whitfield@northwind.com" and email.status is FieldStatus.ACCEPTED
    planted = extract_call(_with_turns(call, [])).fields.get("email")
    assert planted is None or planted.status is not FieldStatus.ACCEPTED


def _with_turns(call: CallRecord, turns: list[Any]) -> CallRecord:
    from dataclasses import replace

    return replace(call, turns=tuple(turns))


def test_twilio_status_recording_and_transcript_merge_into_one_call() -> None:
    texts = [
        "&".join(f"{k}={v}" for k, v in p.twilio_status().items()).replace("+", "%2B").replace(" ", "+"),
        json.dumps(p.twilio_recording()),
        json.dumps(p.twilio_transcript()),
    ]
    call = record_from_payloads("twilio", texts, "acme")
    assert call.call_id == "CA7d3b42" and call.caller_line == p.CALLER
    assert call.ended_at == datetime(2026, 3, 2, 15, 22, 5, tzinfo=UTC)
    assert call.started_at == datetime(2026, 3, 2, 15, 20, 1, tzinfo=UTC)
    assert [t.speaker.value for t in call.turns] == ["agent", "caller"]
    assert call.recording_url and call.recording_url.endswith("RE55a")


def test_twilio_participant_roles_override_the_default_channels() -> None:
    transcript = p.twilio_transcript()
    transcript["channel"] = {"participants": [{"channel_participant": 1, "role": "Agent"},
                                              {"channel_participant": 2, "role": "Customer"}]}  # fmt: skip
    call = to_call_record("twilio", transcript, "acme")
    assert [t.speaker.value for t in call.turns] == ["caller", "agent"]


def test_twilio_event_keys() -> None:
    a = adapter("twilio")
    assert a.classify(p.twilio_status()).event_key == "status:completed"
    assert a.classify(p.twilio_recording()).event_key == "recording:RE55a"
    assert a.classify(p.twilio_transcript()).event_key == "transcript:GT9c1"
    with pytest.raises(IgnoredEvent):
        a.classify(p.twilio_status(status="in-progress"))
    with pytest.raises(UnknownEvent):
        a.classify(p.twilio_status(status="teleported"))
    with pytest.raises(UnknownEvent):
        a.classify({"Foo": "bar"})


def test_unreadable_values_are_input_errors_naming_the_field() -> None:
    payload = p.vapi()
    payload["message"]["startedAt"] = "yesterday"
    with pytest.raises(InputError) as exc:
        to_call_record("vapi", payload, "acme")
    assert exc.value.field == "startedAt"


def test_unknown_platform_is_an_input_error() -> None:
    with pytest.raises(InputError):
        to_call_record("skype", {}, "acme")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=15,
)


@given(platform=st.sampled_from(PLATFORMS), base=st.sampled_from(list(p.PAYLOADS)), key=st.text(max_size=12),
       value=json_values)  # fmt: skip
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_mutation_of_a_payload_is_a_record_or_an_input_error(
    platform: str, base: str, key: str, value: Any
) -> None:
    """Adapters never crash on a payload: it is a CallRecord, an InputError, or a classified event."""
    payload = payload_of(base)
    target = payload.get("message") or payload.get("call") or payload.get("data") or payload
    if isinstance(target, dict) and target:
        target[key or next(iter(target))] = value
    for name in (platform, base):
        with contextlib.suppress(IgnoredEvent, UnknownEvent):
            ADAPTERS[name].classify(payload)
        with contextlib.suppress(InputError):
            assert isinstance(to_call_record(name, payload, "t"), CallRecord)
