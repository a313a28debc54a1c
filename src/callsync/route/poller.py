"""The polling fallback: pull finished calls from a platform's list-calls endpoint since a stored cursor.

For platforms whose webhooks are sent once (Vapi's default) or may be lost, `callsync poll` lists the calls
that started after the cursor (minus an overlap), keeps those that ended at least `settle_s` ago (so the
platform's analysis is in), and feeds each through the same ingest path as a webhook, with the same event
key: a call already received by webhook is a duplicate, and vice versa. The cursor then moves to the last
call of the unbroken run of settled calls, so a call still in progress is looked at again next time.

A polled call's stored payload is the call object as the list endpoint returned it (serialized again:
there is no signature to keep intact). The tenant is the one whose API key listed the call (routing still
applies when several tenants share one platform account).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from callsync.capture.platforms.base import iso_time, text
from callsync.config import TenantConfig
from callsync.errors import InputError
from callsync.route.ingest import Refused, ingest_payload
from callsync.store.db import Database
from callsync.store.events import get_cursor, set_cursor

BASE_URLS = {"vapi": "https://api.vapi.ai", "retell": "https://api.retellai.com"}
POLLABLE = tuple(BASE_URLS)
MAX_PAGES = 1000


@dataclass
class PollResult:
    tenant: str
    platform: str
    counts: Counter[str] = field(default_factory=Counter)
    cursor: str | None = None
    pending: int = 0  # listed but not yet ended and settled


@dataclass(frozen=True)
class Listed:
    """One call from a list endpoint: its start (the cursor's unit), whether it is done, and the object."""

    cursor: str
    done: bool
    call: dict[str, Any]


def _iso(value: str | None) -> datetime | None:
    try:
        return iso_time(value, "createdAt")
    except InputError:
        return None


def _vapi_calls(
    client: httpx.Client, since: str, overlap_s: float, settle_s: float, now: float
) -> Iterator[Listed]:
    """Vapi's `GET /call` answers a plain array, newest first: page backwards with `createdAtLt`."""
    start = (_iso(since) or datetime.fromtimestamp(0, UTC)) - timedelta(seconds=overlap_s)
    params: dict[str, Any] = {"createdAtGt": start.isoformat().replace("+00:00", "Z"), "limit": 100}
    calls: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        response = client.get("/call", params=params)
        response.raise_for_status()
        page = [c for c in response.json() if isinstance(c, dict) and _iso(text(c, "createdAt"))]
        calls.extend(page)
        if len(page) < params["limit"]:
            break
        params["createdAtLt"] = min(text(c, "createdAt") or "" for c in page)
    settled = datetime.fromtimestamp(now - settle_s, UTC)
    for c in sorted(
        {text(c, "id"): c for c in calls}.values(), key=lambda c: _iso(text(c, "createdAt")) or start
    ):
        ended = _iso(text(c, "endedAt"))
        done = text(c, "status") == "ended" and ended is not None and ended <= settled
        yield Listed(text(c, "createdAt") or since, done, c)


def _retell_calls(
    client: httpx.Client, since: str, overlap_s: float, settle_s: float, now: float
) -> Iterator[Listed]:
    """Retell's `POST /v3/list-calls`: ascending by start, paged with `pagination_key`."""
    low = int(since) - int(overlap_s * 1000) if since.isdigit() else 0
    body: dict[str, Any] = {
        "filter_criteria": {"start_timestamp": {"lower_threshold": max(low, 0)}},
        "sort_order": "ascending",
        "limit": 100,
    }
    for _ in range(MAX_PAGES):
        response = client.post("/v3/list-calls", json=body)
        response.raise_for_status()
        data = response.json()
        for c in data.get("items") or []:
            if not isinstance(c, dict) or not isinstance(c.get("start_timestamp"), int):
                continue
            end = c.get("end_timestamp")
            done = (
                c.get("call_status") in ("ended", "error")
                and isinstance(end, int | float)
                and end <= (now - settle_s) * 1000
            )
            yield Listed(str(c["start_timestamp"]), done, c)
        if not data.get("has_more") or not data.get("pagination_key"):
            break
        body["pagination_key"] = data["pagination_key"]


LISTERS: dict[str, Callable[[httpx.Client, str, float, float, float], Iterator[Listed]]] = {
    "vapi": _vapi_calls,
    "retell": _retell_calls,
}


def _initial_cursor(platform: str, now: float, lookback_s: float) -> str:
    start = now - lookback_s
    if platform == "retell":
        return str(int(start * 1000))
    return datetime.fromtimestamp(start, UTC).isoformat().replace("+00:00", "Z")


def poll(
    db: Database,
    tenants: dict[str, TenantConfig],
    platform: str,
    *,
    only: list[str] | None = None,
    base_url: str | None = None,
    settle_s: float = 60.0,
    overlap_s: float = 300.0,
    lookback_s: float = 86400.0,
    timeout_s: float = 15.0,
    clock: Callable[[], float] = time.time,
) -> list[PollResult]:
    """Poll one platform for every tenant that has an API key for it (or the `only` ones)."""
    if platform not in LISTERS:
        raise ValueError(f"polling supports {', '.join(POLLABLE)}, not {platform!r}")
    results: list[PollResult] = []
    for name, tenant in tenants.items():
        key = tenant.api_key(platform)
        if (only and name not in only) or not key:
            continue
        # Tenants sharing this platform account (the same key) are all candidates for its calls.
        candidates = [n for n, t in tenants.items() if t.api_key(platform) == key]
        result = PollResult(name, platform)
        now = clock()
        since = get_cursor(db, name, platform) or _initial_cursor(platform, now, lookback_s)
        cursor, blocked = since, False
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(
            base_url=base_url or BASE_URLS[platform], headers=headers, timeout=timeout_s
        ) as client:
            for listed in LISTERS[platform](client, since, overlap_s, settle_s, now):
                if not listed.done:
                    result.pending += 1
                    blocked = True  # the cursor never passes a call that may still change
                    continue
                try:
                    outcome = ingest_payload(
                        db, tenants, platform, json.dumps(listed.call), candidates=candidates,
                        source=f"poll:{platform}",
                    )  # fmt: skip
                    result.counts[outcome.status] += 1
                except Refused:
                    result.counts["refused"] += 1
                if not blocked:
                    cursor = max(cursor, listed.cursor, key=_cursor_key(platform))
        set_cursor(db, name, platform, cursor)
        result.cursor = cursor
        results.append(result)
    return results


def _cursor_key(platform: str) -> Callable[[str], Any]:
    if platform == "retell":
        return lambda c: int(c) if c.isdigit() else 0
    return lambda c: _iso(c) or datetime.fromtimestamp(0, UTC)
