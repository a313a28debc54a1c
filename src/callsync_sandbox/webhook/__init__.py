"""A webhook receiver for the demo and the tests: it verifies each delivery's Standard Webhooks signature
(with the `standardwebhooks` package, as a customer's endpoint would) and records what it received.

`POST <any path>`: a delivery. A bad or missing signature is refused 401 and not recorded. A good one is
recorded (every arrival, under its `webhook-id`) and answered 200; `fail_first=N` answers the first N
deliveries 500 instead (recorded as arrivals, not accepted), and a fault plan (docs/sandbox.md) works as on
the CRM emulators (`status`, `drop_response_after_commit`, `timeout_after_commit`, `connection_reset`,
`latency`). `GET /deliveries` (bearer: the secret) lists the accepted events, one per id.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from dataclasses import dataclass
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from callsync_sandbox.faults import COMMITTING_FAULTS, FaultInjector, FaultPlan
from callsync_sandbox.jsonapi import ApiReply, ApiRequest, JsonApp, RequestLog

# The sandbox's signing secret (Standard Webhooks form: whsec_ + base64 of the key bytes).
SANDBOX_SECRET = "whsec_" + base64.b64encode(b"callsync-sandbox-webhook-secret!").decode()


@dataclass(frozen=True)
class Arrival:
    """One POST that carried a valid signature, whatever the receiver answered."""

    event_id: str
    timestamp: str
    status: int
    body: dict[str, Any]


class WebhookReceiver:
    def __init__(
        self,
        *,
        secret: str = SANDBOX_SECRET,
        fail_first: int = 0,
        fail_status: int = 500,
        faults: FaultPlan | None = None,
        token: str | None = None,
    ) -> None:
        """`token` is accepted as another name for `secret` (the sandbox CLI passes its --token)."""
        self.secret = token or secret
        self._verifier = Webhook(self.secret)
        self.fail_first = fail_first
        self.fail_status = fail_status
        self._faults = FaultInjector(faults)
        self.lock = threading.Lock()
        self.arrivals: list[Arrival] = []
        self.refused = 0  # deliveries whose signature did not verify
        self.log = RequestLog()

    def app(self) -> JsonApp:
        return JsonApp(self._respond, self.log)

    # -- what tests read ---------------------------------------------------------------------------------

    def event_ids(self) -> list[str]:
        """The `webhook-id` of every signed arrival, in order (a retried event appears once per try)."""
        with self.lock:
            return [a.event_id for a in self.arrivals]

    def events(self) -> list[dict[str, Any]]:
        """The accepted (2xx) events, one per id, as received: `{"type", "id", "timestamp", "data"}`."""
        with self.lock:
            seen: dict[str, dict[str, Any]] = {}
            for a in self.arrivals:
                if 200 <= a.status < 300 and a.event_id not in seen:
                    seen[a.event_id] = a.body
            return list(seen.values())

    def records(self, object_type: str = "events") -> list[dict[str, Any]]:
        """The accepted events flattened for inspection: id, call id, and the contact's field values."""
        out = []
        for event in self.events():
            data = event.get("data", {})
            objects: dict[str, Any] = data.get("objects", {})
            contact: dict[str, Any] = objects.get("contact") or next(iter(objects.values()), {})
            values = {name: f.get("value") for name, f in contact.get("fields", {}).items()}
            out.append({"id": event.get("id"), "call_id": data.get("call_id"), **values,
                        **contact.get("defaults", {})})  # fmt: skip
        return out

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        return self.log.entries

    def count_requests(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> int:
        return self.log.count(method, path, status)

    # -- the front door -----------------------------------------------------------------------------------

    async def _respond(self, request: ApiRequest) -> tuple[ApiReply, bool]:
        if request.method == "GET" and request.path.rstrip("/") == "/deliveries":
            if request.header("authorization") != f"Bearer {self.secret}":
                return ApiReply(401, {"error": "send the receiver's secret as the bearer token"}), False
            return ApiReply(200, {"events": self.records()}), False
        if request.method != "POST":
            return ApiReply(405, {"error": "POST a signed delivery"}), False
        try:
            self._verifier.verify(request.body, request.headers)
            body = json.loads(request.body)
        except (WebhookVerificationError, ValueError) as exc:
            with self.lock:
                self.refused += 1
            return ApiReply(401, {"error": f"signature not verified: {exc}"}), False
        action = self._faults.act(request.method, request.path)
        if action.delay_s:
            await asyncio.sleep(action.delay_s)
        rule = action.rule
        event_id = request.header("webhook-id") or ""
        stamp = request.header("webhook-timestamp") or ""
        if rule is not None and rule.fault == "connection_reset":
            return ApiReply(599), True
        with self.lock:
            failing = len(self.arrivals) < self.fail_first
            status = self.fail_status if failing else 200
            if rule is not None and rule.fault in ("status", "partial_batch"):
                status = rule.status
            self.arrivals.append(Arrival(event_id, stamp, status, body))
        if rule is not None and rule.fault == "timeout_after_commit":
            await asyncio.sleep(action.hold_s)
        reply = ApiReply(status, {"received": event_id} if status < 300 else {"error": "receiver failed"})
        if status == 429:
            reply.headers["Retry-After"] = "1"
        return reply, rule is not None and rule.fault in COMMITTING_FAULTS and status < 300
