"""One received payload → stored call (or later event), quarantine row, or a refusal. Shared by the
webhook endpoints, the poller and `callsync quarantine retry`; signatures are checked before this.

Refusals (`Refused`, a 4xx) store nothing: the sender is told what is wrong (not JSON, unknown event).
Anything well-formed and authenticated that cannot become a call (unroutable, invalid) is quarantined
whole with the reason and still answered 202: nothing received is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from callsync.capture.platforms import (
    EventInfo,
    IgnoredEvent,
    MalformedPayload,
    UnknownEvent,
    adapter,
    to_call_record,
)
from callsync.config import TenantConfig
from callsync.errors import InputError
from callsync.pipeline.intake import receive_event
from callsync.route.routing import route
from callsync.store.db import Database
from callsync.store.events import find_call_tenants, quarantine_payload

Status = Literal["queued", "duplicate", "updated", "ignored", "quarantined"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    call_id: str | None = None
    tenant: str | None = None
    quarantine_id: int | None = None
    reason: str | None = None


class Refused(Exception):
    """A request refused as a whole, before anything is stored: answered with `status` and a JSON error."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def describe(platform: str, body: str) -> tuple[dict[str, object], EventInfo]:
    """Decode and classify a body; Refused (400 / 422) or IgnoredEvent when it is not a call event."""
    a = adapter(platform)
    if "\x00" in body:
        raise Refused(400, "malformed_body", "the body contains NUL characters")
    try:
        payload = a.decode(body)
    except MalformedPayload as exc:
        raise Refused(400, "malformed_body", str(exc)) from exc
    try:
        return payload, a.classify(payload)
    except UnknownEvent as exc:
        raise Refused(422, "unknown_event", str(exc)) from exc


def _reason(exc: InputError) -> str:
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


def ingest_payload(
    db: Database,
    tenants: dict[str, TenantConfig],
    platform: str,
    body: str,
    *,
    candidates: list[str],
    source: str,
    tenant: str | None = None,
    keep: bool = True,
) -> Outcome:
    """Store one authenticated payload. `candidates`: the tenants whose secret signed it (the poller: whose
    API key fetched it). `tenant` forces the tenant (an operator's quarantine retry) instead of routing.
    `keep=False` reports a quarantine without storing the payload again (a retry of a quarantined row)."""

    def quarantined(reason: str, call_id: str | None, tenant: str | None) -> Outcome:
        qid = None
        if keep:
            qid = quarantine_payload(
                db, source=source, reason=reason, payload=body, platform=platform, tenant=tenant
            )
        return Outcome("quarantined", call_id, tenant, qid, reason)

    try:
        payload, info = describe(platform, body)
    except IgnoredEvent as exc:
        return Outcome("ignored", reason=exc.reason)
    if any("\x00" in (v or "") for v in (info.call_id, info.event_key, info.number, info.assistant_id)):
        return quarantined(
            f"invalid {platform} payload: a NUL character in the call id, event, number or assistant id",
            None,
            None,
        )
    if tenant is not None:
        chosen = tenants.get(tenant)
        if chosen is None:
            raise Refused(400, "unknown_tenant", f"no configuration for tenant {tenant!r}")
    else:
        call_id = info.call_id

        def holders() -> list[str]:
            return find_call_tenants(db, call_id, candidates) if call_id else []

        routed = route(platform, info, tenants, candidates, holders)
        if routed.tenant is None:
            return quarantined(routed.reason or "unroutable", info.call_id, None)
        chosen = routed.tenant
    try:
        call = to_call_record(platform, payload, chosen.name)
        if len(info.event_key) > 200:
            raise InputError("the event key is longer than 200 characters")
        if any("\x00" in (v or "") for v in (call.call_id, call.platform, call.from_number, call.to_number)):
            raise InputError("a NUL character in the call id, platform or a number")
    except InputError as exc:
        return quarantined(f"invalid {platform} payload: {_reason(exc)}", info.call_id, chosen.name)
    delivery = receive_event(db, call, body, source, platform=platform, event_key=info.event_key)
    return Outcome(delivery.status, call.call_id, chosen.name)
