"""A client-side limiter per (CRM, account): paces requests so 429s stay rare.

Sized from the vendor's published limits and corrected from its limit headers as answers arrive.
Thread-safe, because one process may run several event loops (DBOS workers, the CLI).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque


class WindowLimiter:
    """At most `max_requests` per rolling `interval_s`, and a hard pause when the CRM says 'none left'."""

    def __init__(self, max_requests: int, interval_s: float) -> None:
        self.max_requests = max_requests
        self.interval_s = interval_s
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _delay(self, now: float) -> float:
        while self._sent and now - self._sent[0] >= self.interval_s:
            self._sent.popleft()
        wait = max(0.0, self._paused_until - now)
        if len(self._sent) >= self.max_requests:
            wait = max(wait, self._sent[0] + self.interval_s - now)
        return wait

    async def acquire(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                wait = self._delay(now)
                if wait <= 0:
                    self._sent.append(now)
                    return
            await asyncio.sleep(min(wait, 1.0))

    def observe(self, *, max_requests: int | None, remaining: int | None, interval_s: float | None) -> None:
        """Adopt the vendor's numbers; with nothing left in the window, pause until it rolls."""
        with self._lock:
            if max_requests and max_requests > 0:
                self.max_requests = max_requests
            if interval_s and interval_s > 0:
                self.interval_s = interval_s
            if remaining is not None and remaining <= 0:
                self._paused_until = max(self._paused_until, time.monotonic() + self.interval_s)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


_limiters: dict[tuple[str, str], WindowLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(crm: str, account: str, max_requests: int, interval_s: float) -> WindowLimiter:
    """One limiter per CRM account in this process, shared by every adapter instance for it."""
    with _limiters_lock:
        key = (crm, account)
        if key not in _limiters:
            _limiters[key] = WindowLimiter(max_requests, interval_s)
        return _limiters[key]
