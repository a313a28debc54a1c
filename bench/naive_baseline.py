"""The typical middleware flow, for comparison only (never used by callsync).

What a webhook-to-CRM automation usually does with a finished call: find the contact by name, update it
or create one, retry the whole thing a few times on any error, and call it done on a 2xx. No durable
queue (the work lives in the process's memory), no rate limiter, no origin stamp, no read-back, no
per-field policy (every field is overwritten), no dead-letter queue (a call that still fails is logged
and dropped).

It gets the same extracted fields as callsync (extraction is not what is compared here).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRIES = 3  # the usual "retry on fail" setting
RETRY_WAIT_S = 1.0


@dataclass
class NaiveResult:
    call_id: str
    ok: bool
    finished_at: float
    error: str | None = None


@dataclass
class NaiveMiddleware:
    """A webhook handler plus an in-memory worker pool. `crash()` is the process dying: what is queued or
    in flight is gone, and calls that arrive before `restart()` are refused (the platform's webhook fails)."""

    base_url: str
    token: str
    workers: int = 8
    timeout_s: float = 2.0
    on_result: Callable[[NaiveResult], None] = lambda result: None
    _queue: queue.Queue[tuple[int, dict[str, Any]] | None] = field(default_factory=queue.Queue)
    _generation: int = 0
    _up: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for _ in range(self.workers):
            thread = threading.Thread(target=self._work, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)

    def receive(self, call: dict[str, Any]) -> bool:
        """The webhook: False when the process is down (the call never reaches the middleware)."""
        with self._lock:
            if not self._up:
                return False
            self._queue.put((self._generation, call))
            return True

    def crash(self) -> int:
        """Kill the process: returns how many queued calls died with it (in-flight ones die too)."""
        with self._lock:
            self._up = False
            self._generation += 1
            dropped = 0
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                dropped += 1
            return dropped

    def restart(self) -> None:
        with self._lock:
            self._up = True

    def _alive(self, generation: int) -> bool:
        return generation == self._generation

    def _work(self) -> None:
        with httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout_s
        ) as http:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                generation, call = item
                result = self._handle(http, generation, call)
                if result is not None:
                    self.on_result(result)

    def _handle(self, http: httpx.Client, generation: int, call: dict[str, Any]) -> NaiveResult | None:
        error = "not tried"
        for attempt in range(RETRIES):
            if not self._alive(generation):
                return None  # the process died with this call in memory
            try:
                self._sync(http, call)
                return NaiveResult(call["call_id"], True, time.time())
            except (httpx.HTTPError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt + 1 < RETRIES:
                    time.sleep(RETRY_WAIT_S)
        return NaiveResult(call["call_id"], False, time.time(), error)

    @staticmethod
    def _sync(http: httpx.Client, call: dict[str, Any]) -> None:
        fields = {k: v for k, v in call["fields"].items() if v}
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "firstname", "operator": "EQ", "value": fields.get("firstname", "")},
                        {"propertyName": "lastname", "operator": "EQ", "value": fields.get("lastname", "")},
                    ]
                }
            ],
            "properties": ["email", "firstname", "lastname"],
            "limit": 1,
        }
        found = http.post("/crm/v3/objects/contacts/search", json=body)
        found.raise_for_status()
        results = found.json().get("results", [])
        if results:
            response = http.patch(f"/crm/v3/objects/contacts/{results[0]['id']}", json={"properties": fields})
        else:
            response = http.post("/crm/v3/objects/contacts", json={"properties": fields})
        response.raise_for_status()
