"""The webhook target: each call is one JSON document POSTed to the tenant's URL, signed per Standard
Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`, through the `standardwebhooks` package).

A webhook is not a CRM: it keeps nothing callsync can search or read back. So `find` finds nothing, `read`
reads nothing, and the engine (which sees `read_back=False` in the capabilities) sends the whole call as
one `write`: the document is the request's `fields`, and its `webhook-id` is derived from the request's
idempotency key, the same for every retry and replay of that document, so receivers can drop an id they
have already seen. A 2xx is *delivered*, never *confirmed*: nothing says what the receiver did with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from callsync.crm.errors import CRMError, PermanentError
from callsync.crm.http.transport import CRMTransport
from callsync.crm.protocol import (
    CRMRecord,
    IdentityCandidates,
    IdentityQuery,
    RecordRef,
    WriteRequest,
    WriteResult,
)
from callsync.crm.spec import AdapterContext
from callsync.crm.webhook.settings import WebhookSettings
from callsync.crm.webhook.wire import WebhookVendor


def event_id_for(idempotency_key: str) -> str:
    """The `webhook-id` of a document: derived from its idempotency key, so every retry, a crashed step
    run again and a replay of a dead letter send the same id."""
    return "msg_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def encode(event_type: str, event_id: str, data: dict[str, Any]) -> bytes:
    """The body: Standard Webhooks' envelope (`type`, `timestamp`, `data`). The same document always
    encodes to the same bytes (sorted keys), so a retry differs from the first send only in its
    `webhook-timestamp` header and signature."""
    at = data.get("observed_at") or data.get("timestamp")
    envelope = {"type": event_type, "id": event_id, "timestamp": at, "data": data}
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), default=str).encode()


class WebhookAdapter:
    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        event_type: str = "call.processed",
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        parts = urlsplit(url)
        self.url = url
        self.event_type = event_type
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            self._signer = Webhook(secret)
        except Exception as exc:  # a secret that is not base64 (whsec_...): a configuration error
            raise PermanentError(f"the webhook signing secret is not usable: {exc}") from exc
        self.http = CRMTransport(
            WebhookVendor(), f"{parts.scheme}://{parts.netloc}", "", timeout_s=timeout_s, transport=transport
        )

    @classmethod
    def from_settings(cls, settings: WebhookSettings, context: AdapterContext) -> WebhookAdapter:
        return cls(
            settings.url,
            settings.token(),
            event_type=settings.event_type,
            timeout_s=settings.timeout_s,
            transport=context.transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def ensure_schema(self, object_type: str, custom_fields: Sequence[str]) -> None:
        return None  # a receiver has no schema: the document carries every field by name

    async def find(self, query: IdentityQuery) -> IdentityCandidates:
        return IdentityCandidates()  # nothing to search (capabilities: search=False)

    async def read(self, ref: RecordRef, fields: Sequence[str]) -> CRMRecord | None:
        return None  # nothing to read back (capabilities: read_back=False)

    async def write(self, request: WriteRequest) -> WriteResult:
        """POST one document (`request.fields`), signed now; a 2xx is delivered."""
        if request.record_id is not None:
            raise PermanentError("a webhook target has no records to update: each call is one new document")
        if not request.idempotency_key:
            raise PermanentError("a webhook document needs an idempotency key (its webhook-id comes from it)")
        event_id = event_id_for(request.idempotency_key)
        body = encode(self.event_type, event_id, request.fields)
        sent_at = datetime.now(UTC)
        headers = {
            "webhook-id": event_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": self._signer.sign(event_id, sent_at, body),
            "content-type": "application/json",
        }
        response = await self.http.request("POST", self._path, content=body, headers=headers)
        request_id = self.http.request_id(response) or event_id
        return WriteResult(RecordRef(request.object_type, event_id), created=True, request_id=request_id)

    async def write_batch(self, requests: Sequence[WriteRequest]) -> list[WriteResult | CRMError]:
        results: list[WriteResult | CRMError] = []
        for request in requests:
            try:
                results.append(await self.write(request))
            except CRMError as exc:
                results.append(exc)
        return results

    async def associate(self, source: RecordRef, target: RecordRef) -> None:
        return None  # the document names every link itself (`links`): there is nothing to link afterwards
