"""The polling fallback against an emulator of Vapi's and Retell's list-calls endpoints: it pulls ended
calls since its cursor, leaves calls in progress for later, and is idempotent with webhooks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from callsync.route.poller import poll
from callsync.store.events import get_cursor
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.voice import VoiceSandbox
from tests.route.conftest import Ingest, acme, globex
from tests.route.payloads import retell, vapi

TOKEN = "voice-sandbox-token"


@pytest.fixture
def voice(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[VoiceSandbox, str]]:
    monkeypatch.setenv("TEST_ACME_VAPI_KEY", TOKEN)
    monkeypatch.setenv("TEST_ACME_RETELL_KEY", TOKEN)
    sandbox = VoiceSandbox(TOKEN)
    with SandboxServer(sandbox.app()) as server:
        yield sandbox, server.base_url


def tenants() -> dict[str, Any]:
    a = acme().model_copy(
        update={"api_keys": {"vapi": "TEST_ACME_VAPI_KEY", "retell": "TEST_ACME_RETELL_KEY"}}
    )
    return {"acme": a, "globex": globex()}


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def vapi_call(call_id: str, minutes_ago: float, *, ended: bool = True) -> dict[str, Any]:
    message = vapi(call_id)["message"]
    start = time.time() - minutes_ago * 60
    return {**message["call"], "status": "ended" if ended else "in-progress", "customer": message["customer"],
            "phoneNumber": message["phoneNumber"], "artifact": message["artifact"], "analysis": message["analysis"],
            "createdAt": iso(start), "startedAt": iso(start), "endedAt": iso(start + 120) if ended else None}  # fmt: skip


def test_vapi_poll_ingests_ended_calls_and_is_idempotent_with_webhooks(
    ingest: Ingest, voice: tuple[VoiceSandbox, str]
) -> None:
    sandbox, base_url = voice
    for n in range(150):  # more than one page of 100
        sandbox.add_vapi_call(vapi_call(f"v-{n:03d}", 200 - n))
    sandbox.add_vapi_call(vapi_call("v-live", 1, ended=False))
    # One of them already arrived by webhook.
    assert ingest.post("vapi", vapi("v-007")).json()["status"] == "queued"

    (result,) = poll(ingest.db, tenants(), "vapi", base_url=base_url, settle_s=30)
    assert result.counts == {"queued": 149, "duplicate": 1} and result.pending == 1
    assert ingest.count() == 150 and ingest.workflows("sync:acme:v-007") == ["sync:acme:v-007"]
    # The cursor stopped at the last settled call before the live one.
    assert get_cursor(ingest.db, "acme", "vapi") == sandbox.vapi_calls[149]["createdAt"]

    # The live call ends; the next poll takes it, and everything else is a duplicate of the overlap.
    sandbox.add_vapi_call(vapi_call("v-live", 3))
    (again,) = poll(ingest.db, tenants(), "vapi", base_url=base_url, settle_s=30)
    assert again.counts["queued"] == 1 and again.pending == 0
    assert ingest.count() == 151
    # And a webhook for a polled call is a duplicate.
    assert ingest.post("vapi", vapi("v-100")).json()["status"] == "duplicate"


def test_retell_poll_pages_with_the_pagination_key_and_later_analysis_updates(
    ingest: Ingest, voice: tuple[VoiceSandbox, str]
) -> None:
    sandbox, base_url = voice
    now_ms = int(time.time() * 1000)
    for n in range(120):
        call = retell(f"r-{n:03d}", "call_ended")["call"]
        call |= {"start_timestamp": now_ms - (300 - n) * 1000, "end_timestamp": now_ms - (250 - n) * 1000}
        sandbox.add_retell_call(call)
    (first,) = poll(ingest.db, tenants(), "retell", base_url=base_url, settle_s=10)
    assert first.counts == {"queued": 120}
    assert get_cursor(ingest.db, "acme", "retell") == str(now_ms - 181 * 1000)

    # The analysis of one call lands later: the poll sees it within the overlap and re-plans that call once.
    analyzed = retell("r-119")["call"] | {
        "start_timestamp": now_ms - 181_000,
        "end_timestamp": now_ms - 131_000,
    }
    sandbox.add_retell_call(analyzed)
    (second,) = poll(ingest.db, tenants(), "retell", base_url=base_url, settle_s=10)
    assert second.counts["updated"] == 1 and second.counts["duplicate"] >= 1
    assert ingest.workflows("sync:acme:r-119") == ["sync:acme:r-119", "sync:acme:r-119:1"]
    # The webhook of the same analysis afterwards changes nothing.
    assert ingest.post("retell", retell("r-119")).json()["status"] == "duplicate"


def test_polled_calls_of_an_unknown_assistant_are_quarantined(
    ingest: Ingest, voice: tuple[VoiceSandbox, str]
) -> None:
    sandbox, base_url = voice
    stray = vapi_call("v-stray", 10) | {
        "assistantId": "asst_unknown",
        "phoneNumber": {"number": "+13125550100"},
    }
    sandbox.add_vapi_call(stray)
    (result,) = poll(ingest.db, tenants(), "vapi", base_url=base_url, settle_s=30)
    assert result.counts == {"quarantined": 1}
    assert "unroutable" in ingest.quarantined()[0].reason


def test_a_wrong_api_key_is_an_http_error(
    ingest: Ingest, voice: tuple[VoiceSandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    monkeypatch.setenv("TEST_ACME_VAPI_KEY", "wrong")
    with pytest.raises(httpx.HTTPStatusError):
        poll(ingest.db, tenants(), "vapi", base_url=voice[1])
    assert get_cursor(ingest.db, "acme", "vapi") is None


def test_first_poll_looks_back_a_day_by_default(ingest: Ingest, voice: tuple[VoiceSandbox, str]) -> None:
    sandbox, base_url = voice
    sandbox.add_vapi_call(vapi_call("v-old", 60 * 30))  # 30 hours ago
    sandbox.add_vapi_call(vapi_call("v-new", 60))
    (result,) = poll(ingest.db, tenants(), "vapi", base_url=base_url)
    assert result.counts == {"queued": 1}
    assert [c.call_id for c in ingest.calls()] == ["v-new"]
