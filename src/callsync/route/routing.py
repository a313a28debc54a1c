"""Which tenant a call belongs to. Never a guess: an unroutable call is quarantined with the reason.

A request is first authenticated: the tenants whose secret for the platform verifies its signature are
the *candidates* (usually one; several when tenants share one platform account and secret). Then:

1. the platform assistant/agent id (Twilio: the account sid) and the business line the call reached (or,
   outbound, came from) are looked up in every tenant's `assistant_ids` and `numbers`;
2. exactly one tenant matches, and it is a candidate → that tenant. A match that is not a candidate (the
   call names another customer's number but is signed with this one's secret), two tenants matching, or
   the assistant and the number pointing at different tenants → quarantine, never another tenant;
3. nothing matches: a later event of a call a candidate already holds (Twilio's recording and transcript
   callbacks carry no numbers) goes to that tenant; a single candidate with no routing rules at all takes
   every call signed with its own secret (the `demo` tenant of `callsync serve`); otherwise quarantine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from callsync.capture.platforms import EventInfo
from callsync.config import TenantConfig
from callsync.reconcile.identity import normalize_phone


@dataclass(frozen=True)
class Routed:
    tenant: TenantConfig | None
    reason: str | None = None  # why it could not be routed


def business_line(raw: str | None) -> str | None:
    if not raw:
        return None
    line = normalize_phone(raw, "US")
    if line is None and raw.strip().startswith("+"):
        line = "+" + re.sub(r"\D", "", raw)
    return line


def has_rules(tenant: TenantConfig) -> bool:
    return bool(tenant.numbers) or any(tenant.assistant_ids.values())


def route(
    platform: str,
    info: EventInfo,
    tenants: dict[str, TenantConfig],
    candidates: list[str],
    holders: Callable[[], list[str]] = list,
) -> Routed:
    """Route one event. `candidates`: tenants whose secret signed it; `holders()`: candidates that already
    hold a call with this id, asked only when neither the assistant nor the number matches (it is a database
    look-up, and most events carry a routing key)."""
    line = business_line(info.number)
    by_assistant = sorted(
        name
        for name, t in tenants.items()
        if info.assistant_id and info.assistant_id in t.assistant_ids.get(platform, [])  # type: ignore[call-overload]
    )
    by_number = sorted(name for name, t in tenants.items() if line and line in t.numbers)
    what = " and ".join(
        x
        for x in (
            f"{platform} assistant {info.assistant_id}" if by_assistant else "",
            f"number {line}" if by_number else "",
        )
        if x
    )
    if by_assistant and by_number and set(by_assistant) != set(by_number):
        return Routed(None, f"{platform} assistant {info.assistant_id} belongs to {', '.join(by_assistant)} but "
                            f"number {line} to {', '.join(by_number)}")  # fmt: skip
    matched = by_assistant or by_number
    if len(matched) > 1:
        return Routed(None, f"{what} matches several tenants: {', '.join(matched)}")
    if matched:
        if matched[0] in candidates:
            return Routed(tenants[matched[0]])
        return Routed(None, f"{what} belongs to tenant {matched[0]!r}, but the request was signed with the "
                            f"secret of {', '.join(repr(c) for c in candidates)}")  # fmt: skip
    held = sorted(set(holders()) & set(candidates))
    if len(held) == 1:
        return Routed(tenants[held[0]])
    if len(candidates) == 1 and not has_rules(tenants[candidates[0]]):
        return Routed(tenants[candidates[0]])
    keys = ", ".join(
        x
        for x in (
            f"{platform} assistant {info.assistant_id}" if info.assistant_id else "",
            f"number {line}" if line else "",
        )
        if x
    )
    return Routed(None, f"unroutable: no tenant has {keys}" if keys else "unroutable: the call carries no "
                  "assistant id or business number to route on")  # fmt: skip
