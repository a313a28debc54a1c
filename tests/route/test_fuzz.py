"""Fuzzing every ingest endpoint: no 500s, answers as the OpenAPI description says, and nothing lost.

- schemathesis drives every operation of the app's own OpenAPI description (FastAPI's /openapi.json),
  unsigned and with arbitrary headers: every answer must conform (status, content type, schema);
- the same generated bodies, then arbitrary bytes and arbitrary JSON, are sent *validly signed*, so they get
  past authentication: still no 500, and every 202 is backed by a stored call or a quarantine row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from callsync.capture.platforms import PLATFORMS
from callsync.route.app import create_app
from callsync.store.db import Database
from callsync.store.tables import CallRow, QuarantineRow
from tests.route.conftest import ACME_SECRET, Ingest, acme, globex
from tests.route.payloads import signed


@pytest.fixture
def app(sqlite_db: Database, secrets_env: None) -> FastAPI:
    return create_app(sqlite_db, {"acme": acme(), "globex": globex()})


OPERATIONS = ["/healthz", *(f"/v1/webhooks/{p}" for p in PLATFORMS)]


def operation(app: FastAPI, path: str) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return next(r.ok() for r in schema.get_all_operations() if r.ok().path == path)


@pytest.mark.parametrize(
    ("path", "mode"),
    [
        (p, m)
        for p in OPERATIONS
        for m in schemathesis.GenerationMode
        if p != "/healthz" or m.value == "positive"
    ],
)  # /healthz takes no input: there is nothing negative to generate
def test_every_endpoint_conforms_to_its_openapi_description(app: FastAPI, path: str, mode: Any) -> None:
    @given(case=operation(app, path).as_strategy(mode))
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        response = case.call()
        assert response.status_code < 500, response.text
        case.validate_response(response)

    check()


def assert_nothing_lost(db: Database, answer: dict[str, Any]) -> None:
    """A 202 means the payload is stored: as a call, or whole in quarantine."""
    with db.session() as s:
        if answer["status"] == "quarantined":
            assert s.get(QuarantineRow, answer["quarantine_id"]) is not None
        else:
            assert s.scalars(select(CallRow).where(CallRow.call_id == answer["call_id"])).first() is not None


@pytest.mark.parametrize("platform", PLATFORMS)
def test_signed_generated_bodies_never_fail_and_are_never_lost(
    sqlite_db: Database, app: FastAPI, platform: str
) -> None:
    """The description's own bodies, validly signed: past authentication, into conversion and storage."""
    client = TestClient(app)

    @given(case=operation(app, f"/v1/webhooks/{platform}").as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        url = f"http://testserver/v1/webhooks/{platform}"
        if case.media_type == "application/x-www-form-urlencoded":
            body = urlencode(case.body).encode()
        else:
            body = json.dumps(case.body).encode()
            if platform == "twilio":
                url += f"?bodySHA256={hashlib.sha256(body).hexdigest()}"
        headers = signed(platform, body, ACME_SECRET, url=url, content_type=case.media_type)
        response = client.post(url.removeprefix("http://testserver"), content=body, headers=headers)
        assert response.status_code not in (401, 500), response.text
        case.validate_response(response)
        if response.status_code == 202:
            assert_nothing_lost(sqlite_db, response.json())

    check()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
# Plausible keys at plausible places make the fuzzer reach conversion, routing and storage, not only parsing.
KEYS = ["message", "call", "type", "event", "id", "call_id", "data", "conversation_id", "turns", "speaker",
        "text", "from", "to", "direction", "started_at", "artifact", "messages", "role", "transcript_object",
        "CallSid", "CallStatus", "RecordingStatus", "transcript_sid", "sentences", "inbound", "transcripts"]  # fmt: skip
shaped = st.recursive(
    st.sampled_from(["end-of-call-report", "call_analyzed", "post_call_transcription", "completed", "caller",
                     "agent", "inbound", "+14155550100", "2026-03-02T15:20:01Z", "x"]) | json_values,
    lambda children: st.dictionaries(st.sampled_from(KEYS), children, max_size=6) | st.lists(children, max_size=3),
    max_leaves=25,
)  # fmt: skip


@pytest.fixture
def fuzz_client(sqlite_db: Database, app: FastAPI) -> Iterator[Ingest]:
    with TestClient(app) as client:
        yield Ingest(sqlite_db, client, {})


@given(platform=st.sampled_from(PLATFORMS), payload=shaped)
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_signed_arbitrary_json_never_fails_and_is_never_lost(
    fuzz_client: Ingest, platform: str, payload: Any
) -> None:
    body = json.dumps(payload).encode()
    r = fuzz_client.post(platform, body)
    assert r.status_code in (200, 202, 400, 422), r.text
    answer = r.json()
    if r.status_code == 202:
        assert answer["status"] in ("queued", "duplicate", "updated", "quarantined")
        assert_nothing_lost(fuzz_client.db, answer)
    elif r.status_code >= 400:
        assert set(answer) == {"error", "detail"}


@given(platform=st.sampled_from(PLATFORMS), body=st.binary(max_size=200))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_signed_arbitrary_bytes_never_fail(fuzz_client: Ingest, platform: str, body: bytes) -> None:
    content_type = "application/x-www-form-urlencoded" if platform == "twilio" else "application/json"
    r = fuzz_client.post(platform, body, content_type=content_type)
    assert r.status_code in (200, 202, 400, 422), r.text
    if r.status_code == 202:
        assert_nothing_lost(fuzz_client.db, r.json())
