"""The webhook target: Standard Webhooks signatures a receiver verifies with the reference package, one id
per document across retries, https only, and the sandbox receiver's refusals and listing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from callsync.crm.errors import AuthenticationError, PermanentError, RateLimited, TransientError
from callsync.crm.protocol import IdentityQuery, RecordRef, WriteRequest
from callsync.crm.webhook.adapter import WebhookAdapter, event_id_for
from callsync.crm.webhook.settings import WebhookSettings
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.listing import ListError, list_records
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.webhook import SANDBOX_SECRET, WebhookReceiver

DOCUMENT = {"call_id": "c-1", "objects": {"contact": {"fields": {"email": {"value": "a@example.com"}}}}}


def adapter_for(receiver: WebhookReceiver, secret: str = SANDBOX_SECRET) -> WebhookAdapter:
    return WebhookAdapter(
        "http://receiver.test/hooks/calls", secret, transport=httpx.ASGITransport(app=receiver.app())
    )


def request(key: str = "t1:webhook:c-1:document:abc") -> WriteRequest:
    return WriteRequest("contact", DOCUMENT, None, key)


async def test_a_delivery_verifies_with_the_standardwebhooks_package_and_keeps_its_id_on_retry() -> None:
    receiver = WebhookReceiver(fail_first=1)
    adapter = adapter_for(receiver)
    with pytest.raises(TransientError):
        await adapter.write(request())
    result = await adapter.write(request())
    await adapter.aclose()
    first, second = receiver.arrivals
    assert (
        first.event_id == second.event_id == result.ref.record_id == event_id_for(request().idempotency_key)
    )
    assert (first.status, second.status) == (500, 200)
    assert first.body == second.body, "the same document, byte for byte; only the timestamp header differs"
    (event,) = receiver.events()
    assert event["data"] == DOCUMENT and event["type"] == "call.processed"


async def test_a_signature_made_with_another_secret_is_refused_and_not_recorded() -> None:
    receiver = WebhookReceiver()
    other = "whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA=="
    adapter = adapter_for(receiver, other)
    with pytest.raises(AuthenticationError, match="refused the signature"):
        await adapter.write(request())
    await adapter.aclose()
    assert receiver.arrivals == [] and receiver.refused == 1


def test_the_receiver_accepts_what_a_standard_webhooks_sender_signs() -> None:
    """Signed here with the package alone, not with callsync: the receiver is not checked by our own code."""
    receiver = WebhookReceiver()
    body = json.dumps({"type": "t", "id": "msg_1", "timestamp": None, "data": {"call_id": "x"}}).encode()
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SANDBOX_SECRET).sign("msg_1", now, body),
    }
    with SandboxServer(receiver.app()) as server:
        ok = httpx.post(f"{server.base_url}/hooks/calls", content=body, headers=headers)
        forged = httpx.post(f"{server.base_url}/hooks/calls", content=body + b" ", headers=headers)
    assert (ok.status_code, forged.status_code) == (200, 401)
    assert receiver.event_ids() == ["msg_1"]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (410, PermanentError),
        (429, RateLimited),
        (503, TransientError),
        (408, TransientError),
        (400, PermanentError),
    ],
)
async def test_what_a_receiver_s_answer_means(status: int, error: type[Exception]) -> None:
    receiver = WebhookReceiver(
        faults=FaultPlan.model_validate({"rules": [{"path": ".*", "fault": "status", "status": status}]})
    )
    adapter = adapter_for(receiver)
    with pytest.raises(error) as raised:
        await adapter.write(request())
    await adapter.aclose()
    if status == 410:
        assert "no more deliveries" in str(raised.value)


async def test_nothing_is_searched_or_read_back_and_no_record_is_updated() -> None:
    receiver = WebhookReceiver()
    adapter = adapter_for(receiver)
    found = await adapter.find(IdentityQuery(object_types=("contact",), email="a@example.com"))
    assert found.by_email == found.by_phone == found.by_origin == ()
    assert await adapter.read(RecordRef("contact", "msg_x"), ("email",)) is None
    with pytest.raises(PermanentError, match="no records to update"):
        await adapter.write(WriteRequest("contact", DOCUMENT, "msg_x", "k"))
    await adapter.aclose()
    assert receiver.request_log == [], "not one request"


@pytest.mark.parametrize(
    "url", ["http://hooks.example.com/x", "ftp://hooks.example.com/x", "http://10.0.0.5/x", "not a url"]
)
def test_a_url_that_is_not_https_to_another_machine_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="not"):
        WebhookSettings(url=url)


def test_https_and_this_machine_s_http_are_accepted() -> None:
    for url in ("https://hooks.zapier.com/hooks/catch/1/abc/", "http://127.0.0.1:9/x", "http://localhost/x"):
        assert WebhookSettings(url=url).url == url


def test_the_sandbox_lists_the_events_it_accepted_only_for_its_secret() -> None:
    receiver = WebhookReceiver()
    body: dict[str, Any] = {"type": "t", "id": "msg_2", "timestamp": None, "data": DOCUMENT}
    raw = json.dumps(body).encode()
    now = datetime.now(UTC)
    headers = {"webhook-id": "msg_2", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(SANDBOX_SECRET).sign("msg_2", now, raw)}  # fmt: skip
    with SandboxServer(receiver.app()) as server:
        assert httpx.post(f"{server.base_url}/hooks/calls", content=raw, headers=headers).status_code == 200
        port = int(server.base_url.rsplit(":", 1)[1])
        listing = list_records("webhook", port, SANDBOX_SECRET)
        with pytest.raises(ListError, match="refused the secret"):
            list_records("webhook", port, "whsec_" + "d3Jvbmc=")
    assert listing.object_type == "events"
    assert [row[0] for row in listing.rows] == ["msg_2"] and "a@example.com" in listing.rows[0]
