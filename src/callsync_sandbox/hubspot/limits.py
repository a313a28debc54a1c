"""Rate limits: the ten-second rolling window, the daily budget and the per-second search limit."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Final

POLICY_MESSAGES: Final = {
    "DAILY": "You have reached your daily limit.",
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
}


@dataclass
class _Usage:
    day: date
    daily_used: int = 0
    window: deque[float] = field(default_factory=deque)
    searches: deque[float] = field(default_factory=deque)


@dataclass(frozen=True)
class _Admission:
    policy: str | None
    headers: dict[str, str]


class RateLimiter:
    """Per-token ten-second rolling window, daily budget and per-second search limit."""

    def __init__(
        self, *, ten_second_max: int, interval_ms: int, daily_max: int, search_per_second: int
    ) -> None:
        self._ten_second_max = ten_second_max
        self._interval_ms = interval_ms
        self._daily_max = daily_max
        self._search_per_second = search_per_second
        self._usage: dict[str, _Usage] = {}
        self._lock = threading.Lock()

    def admit(self, token: str, *, search: bool) -> _Admission:
        with self._lock:
            usage = self._current(token)
            headers = {} if search else self._headers(usage)
            if usage.daily_used >= self._daily_max:
                return _Admission("DAILY", headers)
            # Search is exempt from the ten-second window and has its own per-second one instead.
            bucket, limit = (
                (usage.searches, self._search_per_second) if search else (usage.window, self._ten_second_max)
            )
            if len(bucket) >= limit:
                return _Admission("SECONDLY" if search else "TEN_SECONDLY_ROLLING", headers)
            bucket.append(time.monotonic())
            usage.daily_used += 1
            return _Admission(None, {} if search else self._headers(usage))

    def headers(self, token: str, *, exhausted: bool = False) -> dict[str, str]:
        """The current headers without counting a request; `exhausted` reports the window as full."""
        with self._lock:
            headers = self._headers(self._current(token))
        if exhausted:
            headers["X-HubSpot-RateLimit-Remaining"] = "0"
        return headers

    def reset(self) -> None:
        with self._lock:
            self._usage.clear()

    def _current(self, token: str) -> _Usage:
        # The daily budget resets at midnight UTC here; HubSpot uses the account's time zone.
        today = datetime.now(UTC).date()
        usage = self._usage.setdefault(token, _Usage(today))
        if usage.day != today:
            usage.day, usage.daily_used = today, 0
        now = time.monotonic()
        _expire(usage.window, now - self._interval_ms / 1000)
        _expire(usage.searches, now - 1.0)
        return usage

    def _headers(self, usage: _Usage) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Daily": str(self._daily_max),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self._daily_max - usage.daily_used)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(self._interval_ms),
            "X-HubSpot-RateLimit-Max": str(self._ten_second_max),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self._ten_second_max - len(usage.window))),
        }


def _expire(times: deque[float], cutoff: float) -> None:
    while times and times[0] <= cutoff:
        times.popleft()
