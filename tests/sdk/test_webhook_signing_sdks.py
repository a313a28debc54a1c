"""Webhooks signed by the voice platforms' own SDK helpers reach `callsync serve`'s ingest app: Twilio's
`RequestValidator` and Retell's webhook signer. A correct signature is accepted (2xx), a wrong or stale
one refused (4xx). The app is built in-process as `callsync serve` builds it (`create_app`), as
tests/route/conftest.py does; no socket is opened."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from retell import Retell
from retell.lib.webhook_auth import symmetric as retell_webhooks
from twilio.request_validator import RequestValidator

from callsync.config import TenantConfig
from callsync.route.app import create_app
from callsync.store.db import Database
from tests.route.payloads import BUSINESS, retell, twilio_status, twilio_transcript

TWILIO_AUTH_TOKEN = "twilio-auth-token-for-sdk-tests"
RETELL_API_KEY = "retell-api-key-for-sdk-tests"
LOCAL = "http://testserver"
PUBLIC = "https://hooks.example.com"


def tenant() -> TenantConfig:
    return TenantConfig.model_validate(
        {
            "name": "acme",
            "numbers": [BUSINESS],
            "assistant_ids": {"retell": ["agent_31ab"], "twilio": ["AC1f2e"]},
            "secrets": {"twilio": "SDK_TEST_TWILIO_TOKEN", "retell": "SDK_TEST_RETELL_KEY"},
        }
    )


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDK_TEST_TWILIO_TOKEN", TWILIO_AUTH_TOKEN)
    monkeypatch.setenv("SDK_TEST_RETELL_KEY", RETELL_API_KEY)


@pytest.fixture
def ingest(sqlite_db: Database, secrets: None) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_db, {"acme": tenant()})) as client:
        yield client


@pytest.fixture
def ingest_behind_proxy(sqlite_db: Database, secrets: None) -> Iterator[TestClient]:
    """`callsync serve --public-url`: Twilio signs the URL it was configured with, not the local one."""
    with TestClient(create_app(sqlite_db, {"acme": tenant()}, public_url=PUBLIC)) as client:
        yield client


# -- Twilio ---------------------------------------------------------------------------------------------


def twilio_form_post(client: TestClient, base: str, token: str = TWILIO_AUTH_TOKEN, **override: str) -> int:
    params = twilio_status() | override
    url = f"{base}/v1/webhooks/twilio"
    signature = RequestValidator(token).compute_signature(url, params)
    response = client.post(
        "/v1/webhooks/twilio",
        content=urlencode(params),
        headers={"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    return response.status_code


def test_twilio_form_callback_signed_by_twilios_validator_is_accepted(ingest: TestClient) -> None:
    assert 200 <= twilio_form_post(ingest, LOCAL) < 300


def test_twilio_form_callback_signed_with_another_token_is_refused(ingest: TestClient) -> None:
    assert twilio_form_post(ingest, LOCAL, token="not-the-auth-token") == 401


def test_twilio_signature_over_other_parameters_is_refused(ingest: TestClient) -> None:
    params = twilio_status()
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(f"{LOCAL}/v1/webhooks/twilio", params)
    tampered = params | {"CallDuration": "9999"}
    response = ingest.post(
        "/v1/webhooks/twilio",
        content=urlencode(tampered),
        headers={"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    assert response.status_code == 401


def test_twilio_signature_over_the_configured_public_url_is_accepted_behind_a_proxy(
    ingest_behind_proxy: TestClient,
) -> None:
    assert 200 <= twilio_form_post(ingest_behind_proxy, PUBLIC) < 300
    assert twilio_form_post(ingest_behind_proxy, LOCAL) == 401


def test_twilio_json_body_signed_through_body_sha256_is_accepted_and_a_changed_body_refused(
    ingest: TestClient,
) -> None:
    validator = RequestValidator(TWILIO_AUTH_TOKEN)
    body = json.dumps(twilio_transcript())
    query = f"bodySHA256={validator.compute_hash(body)}"
    signature = validator.compute_signature(f"{LOCAL}/v1/webhooks/twilio?{query}", {})
    assert validator.validate(f"{LOCAL}/v1/webhooks/twilio?{query}", body, signature)  # the SDK's own check

    headers = {"content-type": "application/json", "X-Twilio-Signature": signature}
    accepted = ingest.post(f"/v1/webhooks/twilio?{query}", content=body, headers=headers)
    assert 200 <= accepted.status_code < 300, accepted.text
    changed = ingest.post(
        f"/v1/webhooks/twilio?{query}", content=body.replace("GT9c1", "GT9c2"), headers=headers
    )
    assert changed.status_code == 401


# -- Retell ---------------------------------------------------------------------------------------------


def retell_post(client: TestClient, body: str, signature: str) -> int:
    response = client.post(
        "/v1/webhooks/retell",
        content=body,
        headers={"content-type": "application/json", "X-Retell-Signature": signature},
    )
    return response.status_code


def test_retell_webhook_signed_by_retells_sdk_is_accepted(ingest: TestClient) -> None:
    body = json.dumps(retell())
    signature = retell_webhooks["sign"](body, RETELL_API_KEY)
    assert Retell(api_key=RETELL_API_KEY).verify(body, RETELL_API_KEY, signature)  # the SDK's own check
    assert 200 <= retell_post(ingest, body, signature) < 300


def test_retell_webhook_signed_with_another_key_or_over_another_body_is_refused(ingest: TestClient) -> None:
    body = json.dumps(retell(call_id="call_other"))
    assert retell_post(ingest, body, retell_webhooks["sign"](body, "some-other-key")) == 401
    signed_other = retell_webhooks["sign"](json.dumps(retell(call_id="call_third")), RETELL_API_KEY)
    assert retell_post(ingest, body, signed_other) == 401


def test_retell_signature_older_than_five_minutes_is_refused(ingest: TestClient) -> None:
    body = json.dumps(retell(call_id="call_stale"))
    stale_ms = int((time.time() - 600) * 1000)
    signature = retell_webhooks["sign"](body, RETELL_API_KEY, stale_ms)
    assert not Retell(api_key=RETELL_API_KEY).verify(body, RETELL_API_KEY, signature)  # the SDK agrees
    assert retell_post(ingest, body, signature) == 401
