"""Realistic payloads of every platform (shapes from the shared voice-webhooks.md), and how each signs them."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from callsync.route import signatures as sig

CALLER = "+14155550123"
BUSINESS = "+14155550100"
TWILIO_URL = "http://testserver/v1/webhooks/twilio"

DANA_SAYS = [
    ("agent", "Thanks for calling Acme Dental, who am I speaking with?"),
    ("caller", "hi this is dana whitfield, my email is dana dot whitfield at northwind dot com"),
]


def generic(call_id: str = "c-1", **extra: Any) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "platform": "generic",
        "direction": "inbound",
        "from": CALLER,
        "to": BUSINESS,
        "started_at": "2026-03-02T15:20:01Z",
        "ended_at": "2026-03-02T15:22:04Z",
        "turns": [{"speaker": s, "text": t} for s, t in DANA_SAYS],
        **extra,
    }


def vapi(call_id: str = "9b7c6a1e-3f0d", assistant: str = "asst_1", **message: Any) -> dict[str, Any]:
    return {
        "message": {
            "type": "end-of-call-report",
            "timestamp": 1767000125000,
            "endedReason": "customer-ended-call",
            "startedAt": "2026-03-02T15:20:01.120Z",
            "endedAt": "2026-03-02T15:22:04.870Z",
            "phoneNumber": {"id": "pn_4f1", "number": BUSINESS},
            "customer": {"number": CALLER},
            "call": {"id": call_id, "type": "inboundPhoneCall", "assistantId": assistant, "status": "ended"},
            "analysis": {
                "summary": "Dana asked to reschedule.",
                "structuredData": {"email": "dana.whitfield@northwind.com", "budget": 50000},
            },
            "artifact": {
                "transcript": "AI: Thanks for calling.\nUser: hi this is dana",
                "messages": [
                    {"role": "system", "message": "You are...", "time": 1767000001120, "secondsFromStart": 0},
                    *[
                        {"role": "bot" if s == "agent" else "user", "message": t, "time": 1767000002300 + 4000 * i,
                         "endTime": 1767000004100 + 4000 * i, "secondsFromStart": 1.18 + 4 * i}
                        for i, (s, t) in enumerate(DANA_SAYS)
                    ],
                ],
                "recording": {"mono": {"combinedUrl": "https://recordings.example.com/vapi/9b7c.wav"}},
            },
            **message,
        }
    }  # fmt: skip


def retell(
    call_id: str = "call_5e2f8a9c", event: str = "call_analyzed", agent: str = "agent_31ab"
) -> dict[str, Any]:
    call: dict[str, Any] = {
        "call_id": call_id,
        "call_type": "phone_call",
        "agent_id": agent,
        "call_status": "ended",
        "direction": "inbound",
        "from_number": CALLER,
        "to_number": BUSINESS,
        "start_timestamp": 1767000001120,
        "end_timestamp": 1767000124870,
        "transcript_object": [
            {"role": "agent" if s == "agent" else "user", "content": t,
             "words": [{"word": t.split()[0], "start": 0.4 + 4 * i, "end": 0.6 + 4 * i},
                       {"word": t.split()[-1], "start": 2.0 + 4 * i, "end": 2.3 + 4 * i}]}
            for i, (s, t) in enumerate(DANA_SAYS)
        ],
        "recording_url": "https://recordings.example.com/retell/call.wav",
    }  # fmt: skip
    if event == "call_analyzed":
        call["call_analysis"] = {
            "call_summary": "Dana wants a demo.",
            "user_sentiment": "Positive",
            "custom_analysis_data": {"company": "Northwind", "budget": "10-20k"},
        }
    return {"event": event, "call": call}


def bland(call_id: str = "1f0c9b2e-7a6d", **extra: Any) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "created_at": "2026-03-02T15:19:55.000Z",
        "started_at": "2026-03-02T15:20:01.000Z",
        "call_length": 2.06,
        "to": BUSINESS,
        "from": CALLER,
        "inbound": True,
        "completed": True,
        "status": "completed",
        "pathway_id": "pw_1",
        "summary": "Dana called.",
        "analysis": {"email": "dana.whitfield@northwind.com"},
        "variables": {"phone_number": CALLER},
        "concatenated_transcript": "assistant: Thanks \n user: hi",
        "transcripts": [
            {"id": 101 + i, "user": "assistant" if s == "agent" else "user", "text": t,
             "created_at": f"2026-03-02T15:20:0{2 + 3 * i}.300Z"}
            for i, (s, t) in enumerate(DANA_SAYS)
        ],
        **extra,
    }  # fmt: skip


def elevenlabs(conversation_id: str = "conv_01jx9v4w3y", agent: str = "agent_7h2k") -> dict[str, Any]:
    return {
        "type": "post_call_transcription",
        "event_timestamp": 1767000130,
        "data": {
            "agent_id": agent,
            "conversation_id": conversation_id,
            "status": "done",
            "transcript": [
                {"role": "agent" if s == "agent" else "user", "message": t, "time_in_call_secs": 4 * i}
                for i, (s, t) in enumerate(DANA_SAYS)
            ],
            "metadata": {
                "start_time_unix_secs": 1767000001,
                "call_duration_secs": 124,
                "phone_call": {"type": "twilio", "direction": "inbound", "agent_number": BUSINESS,
                               "external_number": CALLER, "call_sid": "CA7d3b"},
            },
            "analysis": {
                "call_successful": "success",
                "transcript_summary": "Dana called.",
                "data_collection_results": {"email": {"data_collection_id": "email", "value": "dana@wrong.example"}},
            },
        },
    }  # fmt: skip


def twilio_status(
    call_sid: str = "CA7d3b42", status: str = "completed", account: str = "AC1f2e"
) -> dict[str, str]:
    return {
        "AccountSid": account,
        "CallSid": call_sid,
        "From": CALLER,
        "To": BUSINESS,
        "Direction": "inbound",
        "CallStatus": status,
        "CallDuration": "124",
        "Timestamp": "Mon, 02 Mar 2026 15:22:05 +0000",
        "SequenceNumber": "3",
        "ApiVersion": "2010-04-01",
    }


def twilio_recording(call_sid: str = "CA7d3b42", account: str = "AC1f2e") -> dict[str, str]:
    return {
        "AccountSid": account,
        "CallSid": call_sid,
        "RecordingSid": "RE55a",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1f2e/Recordings/RE55a",
        "RecordingStatus": "completed",
        "RecordingDuration": "121",
        "RecordingChannels": "2",
    }


def twilio_transcript(call_sid: str = "CA7d3b42", account: str = "AC1f2e") -> dict[str, Any]:
    return {
        "event_type": "voice_intelligence_transcript_available",
        "transcript_sid": "GT9c1",
        "service_sid": "GA1",
        "account_sid": account,
        "customer_key": call_sid,
        "sentences": [
            {"media_channel": 2 if s == "agent" else 1, "sentence_index": i, "start_time": str(4.0 * i),
             "end_time": str(4.0 * i + 3), "transcript": t}
            for i, (s, t) in enumerate(DANA_SAYS)
        ],
    }  # fmt: skip


PAYLOADS = {
    "generic": generic,
    "vapi": vapi,
    "retell": retell,
    "bland": bland,
    "elevenlabs": elevenlabs,
    "twilio": twilio_status,
}


def encode(platform: str, payload: dict[str, Any]) -> tuple[bytes, str]:
    """The body bytes and content type the platform sends."""
    if platform == "twilio" and "event_type" not in payload:
        return urlencode(payload).encode(), "application/x-www-form-urlencoded"
    return json.dumps(payload).encode(), "application/json"


def signed(
    platform: str,
    body: bytes,
    secret: str,
    *,
    now: float | None = None,
    content_type: str = "application/json",
    url: str = TWILIO_URL,
) -> dict[str, str]:
    """Headers (content type + signature) exactly as the platform would send them."""
    ts = int(time.time() if now is None else now)
    headers = {"content-type": content_type}
    if platform == "generic":
        return headers | sig.sign_callsync(body, secret, ts)
    if platform == "vapi":
        return headers | sig.sign_vapi(body, secret, ts)
    if platform == "retell":
        return headers | sig.sign_retell(body, secret, ts * 1000)
    if platform == "bland":
        return headers | sig.sign_bland(body, secret)
    if platform == "elevenlabs":
        return headers | sig.sign_elevenlabs(body, secret, ts)
    if platform == "twilio":
        return headers | sig.sign_twilio(url, body, secret, content_type)
    raise ValueError(platform)
