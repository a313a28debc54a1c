"""Real signed requests for every platform: valid, wrong secret, stale timestamp, tampered body, unsigned.

Only a request that verifies is stored; every other one is a 401 and leaves no trace in the database.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from callsync.route import signatures as sig
from tests.route.conftest import ACME_SECRET, Ingest
from tests.route.payloads import PAYLOADS, TWILIO_URL, encode, signed

PLATFORMS = list(PAYLOADS)
# Schemes with a timestamp, and how old a request may be.
TOLERANCE = {"generic": 300, "vapi": 300, "retell": 300, "elevenlabs": 1800}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_validly_signed_call_is_stored(ingest: Ingest, platform: str) -> None:
    r = ingest.post(platform, PAYLOADS[platform]())
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    (row,) = ingest.calls()
    assert row.tenant == "acme" and row.payload_format == platform
    assert row.raw_payload == encode(platform, PAYLOADS[platform]())[0].decode()  # verbatim


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_wrong_secret_is_401_and_nothing_is_stored(ingest: Ingest, platform: str) -> None:
    r = ingest.post(platform, PAYLOADS[platform](), secret="not-the-secret")
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_signature", "detail": "missing, stale or wrong signature"}
    assert ingest.count() == 0 and ingest.quarantined() == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_tampered_body_is_401(ingest: Ingest, platform: str) -> None:
    body, content_type = encode(platform, PAYLOADS[platform]())
    headers = signed(platform, body, ACME_SECRET, content_type=content_type)
    tampered = body.replace(b"dana", b"mallory", 1).replace(b"CallDuration=124", b"CallDuration=999")
    assert tampered != body
    r = ingest.client.post(f"/v1/webhooks/{platform}", content=tampered, headers=headers)
    assert r.status_code == 401
    assert ingest.count() == 0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_unsigned_request_is_401(ingest: Ingest, platform: str) -> None:
    body, content_type = encode(platform, PAYLOADS[platform]())
    r = ingest.client.post(f"/v1/webhooks/{platform}", content=body, headers={"content-type": content_type})
    assert r.status_code == 401
    assert ingest.count() == 0


@pytest.mark.parametrize("platform", sorted(TOLERANCE))
def test_a_stale_timestamp_is_401_and_one_inside_the_window_is_not(ingest: Ingest, platform: str) -> None:
    stale = time.time() - TOLERANCE[platform] - 5
    assert ingest.post(platform, PAYLOADS[platform](), now=stale).status_code == 401
    future = time.time() + TOLERANCE[platform] + 5
    assert ingest.post(platform, PAYLOADS[platform](), now=future).status_code == 401
    assert ingest.count() == 0
    recent = time.time() - TOLERANCE[platform] + 30
    assert ingest.post(platform, PAYLOADS[platform](), now=recent).status_code == 202


@pytest.mark.parametrize("platform", ["bland", "twilio"])
def test_schemes_without_a_timestamp_turn_a_replay_into_a_duplicate(ingest: Ingest, platform: str) -> None:
    body, content_type = encode(platform, PAYLOADS[platform]())
    headers = signed(platform, body, ACME_SECRET, content_type=content_type)
    statuses = [ingest.client.post(f"/v1/webhooks/{platform}", content=body, headers=headers).json()["status"]
                for _ in range(3)]  # fmt: skip
    assert statuses == ["queued", "duplicate", "duplicate"]
    assert ingest.count() == 1


def test_each_tenant_is_authenticated_by_its_own_secret(ingest: Ingest) -> None:
    from tests.route.conftest import GLOBEX_SECRET
    from tests.route.payloads import generic

    r = ingest.post("generic", generic("g-1", to="+16175550100"), secret=GLOBEX_SECRET)
    assert r.status_code == 202 and r.json()["status"] == "queued"
    assert [(c.tenant, c.call_id) for c in ingest.calls()] == [("globex", "g-1")]


# -- the schemes themselves ------------------------------------------------------------------------------


def test_generic_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hmac

    body, ts = b'{"call_id":"x"}', 1767000000
    expected = hmac.new(b"k", b"1767000000." + body, hashlib.sha256).hexdigest()
    headers = sig.sign_callsync(body, "k", ts)
    assert headers == {"X-Callsync-Timestamp": "1767000000", "X-Callsync-Signature": f"sha256={expected}"}
    sig.verify_callsync(body, headers, "k", now=ts + 299)
    with pytest.raises(sig.SignatureError):
        sig.verify_callsync(body, headers, "k", now=ts + 301)
    with pytest.raises(sig.SignatureError):
        sig.verify_callsync(body, {**headers, "X-Callsync-Timestamp": "1767000001"}, "k", now=ts)


def test_retell_signature_is_body_then_milliseconds_with_no_separator() -> None:
    import hmac

    body, ms = b'{"event":"call_ended"}', 1767000000123
    digest = hmac.new(b"key", body + b"1767000000123", hashlib.sha256).hexdigest()
    sig.verify_retell(body, {"X-Retell-Signature": f"v={ms},d={digest}"}, "key", now=ms / 1000)
    with pytest.raises(sig.SignatureError):
        sig.verify_retell(body, {"X-Retell-Signature": f"v={ms},d={digest}"}, "key", now=ms / 1000 + 301)


def test_vapi_timestamp_in_milliseconds_is_accepted() -> None:
    body, ms = b"{}", 1767000000123
    sig.verify_vapi_hmac(body, sig.sign_vapi(body, "k", ms), "k", now=ms / 1000)


def test_vapi_bearer_and_legacy_secret_header() -> None:
    sig.verify_bearer({"Authorization": "Bearer tok"}, "tok")
    sig.verify_secret_header({"x-vapi-secret": "tok"}, "tok")
    for headers in ({"Authorization": "Bearer nope"}, {"Authorization": "tok"}, {}):
        with pytest.raises(sig.SignatureError):
            sig.verify_bearer(headers, "tok")
    with pytest.raises(sig.SignatureError):
        sig.verify_secret_header({"X-Vapi-Secret": "nope"}, "tok")


def test_elevenlabs_header_carries_t_and_v0() -> None:
    body = b'{"type":"post_call_transcription"}'
    headers = sig.sign_elevenlabs(body, "wsec", 1767000000)
    assert headers["ElevenLabs-Signature"].startswith("t=1767000000,v0=")
    sig.verify_elevenlabs(body, headers, "wsec", now=1767000000 + 1700)
    with pytest.raises(sig.SignatureError):
        sig.verify_elevenlabs(body, headers, "wsec", now=1767000000 + 1900)


def test_twilio_signature_matches_the_documented_example() -> None:
    # Twilio's documented example: https://mycompany.com/myapp.php?foo=1&bar=2 with these POST params and
    # auth token 12345 is signed 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030",
              "To": "+18005551212"}  # fmt: skip
    from urllib.parse import urlencode

    body = urlencode(params).encode()
    headers = {"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}
    sig.verify_twilio(url, body, "application/x-www-form-urlencoded", headers, "12345")
    # The same request as received on the explicit default port is accepted too (Twilio's port quirk).
    sig.verify_twilio(
        url.replace(".com/", ".com:443/"), body, "application/x-www-form-urlencoded", headers, "12345"
    )
    with pytest.raises(sig.SignatureError):
        sig.verify_twilio(url, body + b"&Extra=1", "application/x-www-form-urlencoded", headers, "12345")


def test_twilio_json_bodies_are_checked_by_body_sha256_in_the_url() -> None:
    body = b'{"transcript_sid":"GT1"}'
    url = f"{TWILIO_URL}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    headers = sig.sign_twilio(url, body, "tok", "application/json")
    sig.verify_twilio(url, body, "application/json", headers, "tok")
    with pytest.raises(sig.SignatureError):
        sig.verify_twilio(url, body.replace(b"GT1", b"GT2"), "application/json", headers, "tok")


def test_twilio_hmac_sha256_webhooks_rule() -> None:
    import base64
    import hmac

    body = b"CallSid=CA1&CallStatus=completed"
    digest = base64.b64encode(
        hmac.new(b"shared", (TWILIO_URL + "CallSidCA1CallStatuscompleted").encode(), hashlib.sha256).digest()
    ).decode()
    headers = {
        "X-Twilio-Signature": digest,
        "X-Twilio-Webhooks-Signature-Settings": "key=k1,algorithm=HMAC_SHA256",
    }
    sig.verify_twilio(TWILIO_URL, body, "application/x-www-form-urlencoded", headers, "shared")
