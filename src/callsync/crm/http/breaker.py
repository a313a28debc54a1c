"""A circuit breaker per CRM account: while the CRM is down, one probe goes out instead of every
waiting call's retry.

After `threshold` failures in a row (no answer, or a 5xx) with no success between them, requests fail
at once, without being sent, for a cool-down that doubles (up to `max_cooldown_s`) each time a probe
fails. When the cool-down is over, one request goes through as the probe; any answer from the CRM
closes the circuit. Random faults rarely come `threshold` in a row, so they do not open it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class CircuitOpen(Exception):
    """Raised instead of sending while the circuit is open; `retry_in` says when a probe may go."""

    def __init__(self, message: str, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


@dataclass
class CircuitBreaker:
    threshold: int = 6
    cooldown_s: float = 1.0
    max_cooldown_s: float = 15.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _failures: int = 0
    _open_until: float = 0.0
    _cooldown: float = 0.0
    _probing: bool = False
    _last: str = ""
    opened: int = 0  # times the circuit opened, for status and benchmarks
    refused: int = 0  # requests not sent while open
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _now(self) -> float:
        return self.clock()

    def before(self) -> None:
        """Call before sending: raises CircuitOpen while open (or while another request is the probe)."""
        with self._lock:
            if self._failures < self.threshold:
                return
            now = self._now()
            if now < self._open_until or self._probing:
                self.refused += 1
                wait = max(0.0, self._open_until - now)
                last = f" (last: {self._last})" if self._last else ""
                raise CircuitOpen(
                    f"the CRM failed {self._failures} requests in a row{last}: not sending for {wait:.1f}s more",
                    retry_in=wait,
                )
            self._probing = True

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._cooldown = 0.0
            self._probing = False

    def failure(self, detail: str = "") -> None:
        with self._lock:
            self._last = detail or self._last
            self._failures += 1
            was_probe, self._probing = self._probing, False
            if self._failures >= self.threshold and (was_probe or self._failures == self.threshold):
                self._cooldown = min(self.max_cooldown_s, self._cooldown * 2 or self.cooldown_s)
                self._open_until = self._now() + self._cooldown
                self.opened += 1

    def release(self) -> None:
        """A request that got no verdict (cancelled): let another be the probe."""
        with self._lock:
            self._probing = False

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._failures >= self.threshold
