"""OpenAPI descriptions of the ingest endpoints. The endpoints read their raw body themselves (signatures
cover the exact bytes), so request bodies and signature headers are declared here, not inferred."""

from __future__ import annotations

from typing import Any

from callsync.capture.platforms import elevenlabs, retell, twilio, vapi

_NULLABLE_STRING = {"type": ["string", "null"]}

GENERIC_CALL: dict[str, Any] = {
    "type": "object",
    "description": "The generic call JSON (DESIGN.md). Unknown top-level keys are kept in the stored payload.",
    "required": ["call_id", "turns"],
    "properties": {
        "call_id": {"type": "string", "minLength": 1, "maxLength": 200},
        "platform": {"type": "string", "maxLength": 40, "default": "generic"},
        "direction": {"type": "string", "enum": ["inbound", "outbound"], "default": "inbound"},
        "from": _NULLABLE_STRING,
        "to": _NULLABLE_STRING,
        "started_at": {"type": ["string", "null"], "format": "date-time"},
        "ended_at": {"type": ["string", "null"], "format": "date-time"},
        "timezone": {"type": ["string", "null"], "description": "IANA time zone name"},
        "recording_url": _NULLABLE_STRING,
        "turns": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["speaker", "text"],
                "properties": {
                    "speaker": {"type": "string", "enum": ["caller", "agent"]},
                    "text": {"type": "string"},
                    "start": {"type": ["number", "null"]},
                    "end": {"type": ["number", "null"]},
                },
            },
        },
        "analysis": {"type": "object", "description": "The platform's own analysis: checked, never trusted."},
    },
    "example": {
        "call_id": "c-1",
        "direction": "inbound",
        "from": "+14155550123",
        "to": "+14155559876",
        "turns": [
            {"speaker": "agent", "text": "Thanks for calling, who am I speaking with?"},
            {"speaker": "caller", "text": "Hi, it's Dana Whitfield from Northwind."},
        ],
    },
}


def _platform_body(description: str, example: dict[str, Any], *shapes: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "object", "description": description, "example": example}
    if len(shapes) == 1:
        body |= shapes[0]
    elif shapes:
        body["anyOf"] = list(shapes)
    return body


_ID = {"type": "string", "pattern": "\\S"}


def _event(key: str, events: list[str], exclusive: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object whose `key` names a known event (an unknown one is refused with 422)."""
    shape: dict[str, Any] = {"required": [key], "properties": {key: {"type": "string", "enum": events}}}
    if exclusive:
        shape["not"] = {"anyOf": [{"required": [k]} for k in exclusive]}
    return shape


def _call_object(id_key: str, *envelope: str) -> dict[str, Any]:
    """A call object as the platform's API returns it (a manual re-delivery of a polled call)."""
    return {
        "required": [id_key],
        "properties": {id_key: _ID},
        "not": {"anyOf": [{"required": [k]} for k in envelope]},
    }


VAPI_TYPES = [vapi.END_OF_CALL, *sorted(vapi.OTHER_MESSAGES)]
RETELL_EVENTS = [*retell.CALL_EVENTS, *sorted(retell.OTHER_EVENTS)]
ELEVENLABS_EVENTS = [elevenlabs.TRANSCRIPTION, *sorted(elevenlabs.OTHER_EVENTS)]

TWILIO_PARAMS = (
    "AccountSid",
    "CallSid",
    "From",
    "To",
    "Direction",
    "CallStatus",
    "CallDuration",
    "Timestamp",
    "RecordingSid",
    "RecordingUrl",
    "RecordingStatus",
)
TWILIO_CALL_STATUSES = ["completed", *sorted(twilio.CALL_STATUSES)]
TWILIO_RECORDING_STATUSES = ["completed", *sorted(twilio.RECORDING_STATUSES)]
TWILIO_TRANSCRIPT = ("transcript_sid", "event_type")

BODIES: dict[str, dict[str, Any]] = {
    "generic": {"application/json": {"schema": GENERIC_CALL}},
    "vapi": {
        "application/json": {
            "schema": _platform_body(
                "A Vapi server message (`end-of-call-report` is stored, other known types are ignored), or a "
                "call object as `GET /call/{id}` returns it (a manual re-delivery).",
                {
                    "message": {
                        "type": "end-of-call-report",
                        "call": {"id": "9b7c6a1e", "type": "inboundPhoneCall"},
                        "phoneNumber": {"number": "+14155550100"},
                        "customer": {"number": "+14155550123"},
                        "artifact": {"messages": [{"role": "user", "message": "Hi, it's Dana."}]},
                    }
                },
                {
                    "required": ["message"],
                    "properties": {"message": {"type": "object", **_event("type", VAPI_TYPES)}},
                },
                _call_object("id", "message"),
            )
        }
    },
    "retell": {
        "application/json": {
            "schema": _platform_body(
                "A Retell webhook (`call_ended` and `call_analyzed` are stored as one call, others ignored), "
                "or a call object as `GET /v2/get-call/{id}` returns it.",
                {
                    "event": "call_analyzed",
                    "call": {
                        "call_id": "call_5e2f",
                        "agent_id": "agent_31ab",
                        "direction": "inbound",
                        "from_number": "+14155550123",
                        "to_number": "+14155550100",
                        "transcript_object": [{"role": "user", "content": "Hi, it's Dana."}],
                    },
                },
                _event("event", RETELL_EVENTS),
                _event("event_type", RETELL_EVENTS, exclusive=("event",)),
                _call_object("call_id", "event", "event_type"),
            )
        }
    },
    "bland": {
        "application/json": {
            "schema": _platform_body(
                "Bland's post-call webhook: the call-details object.",
                {
                    "call_id": "1f0c9b2e",
                    "inbound": True,
                    "from": "+14155550123",
                    "to": "+14155550100",
                    "completed": True,
                    "transcripts": [{"user": "user", "text": "Hi, it's Dana."}],
                },
            )
        }
    },
    "elevenlabs": {
        "application/json": {
            "schema": _platform_body(
                "An ElevenLabs Agents webhook; `post_call_transcription` is stored, others ignored.",
                {
                    "type": "post_call_transcription",
                    "event_timestamp": 1767000130,
                    "data": {
                        "conversation_id": "conv_01",
                        "agent_id": "agent_7h2k",
                        "transcript": [{"role": "user", "message": "Hi, it's Dana."}],
                    },
                },
                _event("type", ELEVENLABS_EVENTS),
            )
        }
    },
    "twilio": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "description": "A call status callback (CallStatus=completed is stored), a recording status "
                "callback (RecordingStatus=completed), or a Conversational Intelligence transcript event.",
                "properties": {k: {"type": "string"} for k in TWILIO_PARAMS},
                "additionalProperties": {"type": "string"},
                "anyOf": [
                    _event(
                        "CallStatus", TWILIO_CALL_STATUSES, exclusive=("RecordingStatus", *TWILIO_TRANSCRIPT)
                    ),
                    _event("RecordingStatus", TWILIO_RECORDING_STATUSES, exclusive=TWILIO_TRANSCRIPT),
                    {
                        "required": ["transcript_sid"],
                        "properties": {"transcript_sid": _ID},
                        "not": {"required": ["event_type"]},
                    },
                ],
            }
        },
        "application/json": {
            "schema": _platform_body(
                "A Conversational Intelligence transcript event (URL carries bodySHA256).",
                {
                    "event_type": "voice_intelligence_transcript_available",
                    "transcript_sid": "GT1",
                    "customer_key": "CA1",
                    "account_sid": "AC1",
                },
                {
                    "required": ["transcript_sid"],
                    "properties": {
                        "transcript_sid": _ID,
                        "event_type": {
                            "type": ["string", "null"],
                            "enum": [twilio.TRANSCRIPT_AVAILABLE, None],
                        },
                    },
                },
            )
        },
    },
}

HEADERS: dict[str, list[tuple[str, bool, str]]] = {
    "generic": [
        ("X-Callsync-Timestamp", True, "Unix seconds; 300 s tolerance."),
        ("X-Callsync-Signature", True, 'sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>'),
    ],
    "vapi": [
        ("x-signature", False, "HMAC credential: hex HMAC-SHA256(secret, timestamp + '.' + body)."),
        ("x-timestamp", False, "HMAC credential: the signed timestamp (s or ms); 300 s tolerance."),
        ("Authorization", False, "Bearer credential: `Bearer <token>`."),
        ("X-Vapi-Secret", False, "Legacy shared-secret credential."),
    ],
    "retell": [("X-Retell-Signature", True, "v=<unix ms>,d=<hex HMAC-SHA256(api key, body + v)>; 5 min.")],
    "bland": [("X-Webhook-Signature", True, "hex HMAC-SHA256(secret, body).")],
    "elevenlabs": [
        ("ElevenLabs-Signature", True, "t=<unix s>,v0=<hex HMAC-SHA256(secret, t + '.' + body)>.")
    ],
    "twilio": [("X-Twilio-Signature", True, "base64 HMAC-SHA1(auth token, URL + sorted POST params).")],
}

SUMMARIES = {
    "generic": "Receive a call in the generic call JSON (a fixed contract)",
    "vapi": "Receive a Vapi end-of-call report",
    "retell": "Receive a Retell call_ended / call_analyzed event",
    "twilio": "Receive a Twilio call status, recording status or Intelligence transcript callback",
    "bland": "Receive a Bland post-call webhook",
    "elevenlabs": "Receive an ElevenLabs post_call_transcription webhook",
}

_ACCEPTED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["call_id", "status"],
    "properties": {
        "call_id": _NULLABLE_STRING,
        "status": {"type": "string", "enum": ["queued", "duplicate", "updated", "quarantined", "ignored"]},
        "quarantine_id": {"type": "integer"},
        "reason": {"type": "string"},
    },
}
ACCEPTED: dict[str, Any] = {
    "description": "Stored (call and sync workflow committed): queued, duplicate (already stored), updated (a "
    "later event re-planned the sync), or quarantined with the reason (signed, but not a usable call).",
    "content": {"application/json": {"schema": _ACCEPTED_SCHEMA}},
}
IGNORED: dict[str, Any] = {
    "description": "A known event that is not a finished call (e.g. a status update): nothing stored.",
    "content": {"application/json": {"schema": _ACCEPTED_SCHEMA}},
}
ERROR: dict[str, Any] = {
    "description": "Refused, nothing stored: 400 malformed body, 401 missing/stale/wrong signature, 413 body "
    "too large, 415 wrong content type, 422 unknown event type, 503 storage unavailable (retry).",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error", "detail"],
                "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
            }
        }
    },
}


def platform_operation(platform: str) -> dict[str, Any]:
    """summary, tags, extra responses and the request description (headers, body) of one endpoint."""
    return {
        "summary": SUMMARIES[platform],
        "tags": ["webhooks"],
        "responses": {200: IGNORED, 202: ACCEPTED, **{s: ERROR for s in (400, 401, 413, 415, 422, 503)}},
        "openapi_extra": {
            "parameters": [
                {
                    "name": name,
                    "in": "header",
                    "required": required,
                    "description": d,
                    "schema": {"type": "string"},
                }
                for name, required, d in HEADERS[platform]
            ],
            "requestBody": {"required": True, "content": BODIES[platform]},
        },
    }
