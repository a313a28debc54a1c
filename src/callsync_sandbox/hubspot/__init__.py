"""HubSpot CRM API emulator: v3 objects, properties, search and batch; v4 default associations.

It reproduces what a HubSpot client has to cope with (docs: crm-apis.md §1 and §6): the 409 email
conflict whose only record id is inside the message text, 207 multi-status batches, per-property
validation errors, the ten-second rolling window and daily budget with their `X-HubSpot-RateLimit-*`
headers, the separate per-second search limit (whose responses carry no such headers), and the lag
before writes become searchable. Faults from a `FaultPlan` are applied after authentication and
before the rate limiter, as a flaky network or gateway in front of HubSpot would.

State lives in `HubSpotSandbox`; `HubSpotSandbox.app()` serves it over ASGI. All state changes happen
under one lock, because tests inspect the sandbox from another thread than the server's.

One module per concept: `objects` (types, path aliases, timestamps, ids), `errors` (HubSpot's error
shapes), `properties` (schema and value normalisation), `records` (records and the versions search sees),
`search` (filters, sorting, paging, value indexes), `bodies` (request validation), `associations`,
`portal` (the account's state), `limits` (rate windows and budget), `gateway` (the ASGI edge: auth,
faults, limits) and `app` (the routes). docs/sandbox.md says what is and is not reproduced.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

from callsync_sandbox.faults import FaultInjector, FaultPlan
from callsync_sandbox.hubspot.app import router
from callsync_sandbox.hubspot.errors import HubSpotError
from callsync_sandbox.hubspot.gateway import Gateway, install_error_handlers
from callsync_sandbox.hubspot.limits import RateLimiter
from callsync_sandbox.hubspot.objects import OBJECT_TYPES, TYPE_ALIASES
from callsync_sandbox.hubspot.portal import Portal
from callsync_sandbox.hubspot.properties import PropertyDef, resolve_type
from callsync_sandbox.hubspot.search import SearchLimits

__all__ = ["OBJECT_TYPES", "HubSpotError", "HubSpotSandbox"]


class HubSpotSandbox:
    """An emulated HubSpot portal. Serve it with `app()`; inspect it directly from tests."""

    def __init__(
        self,
        *,
        token: str = "sandbox-token",
        ten_second_max: int = 190,
        interval_ms: int = 10_000,
        daily_max: int = 1_000_000,
        search_per_second: int = 5,
        search_lag_s: float = 0.0,
        faults: FaultPlan | None = None,
        batch_limit: int = 100,
        max_filter_groups: int = 5,
        max_filters_per_group: int = 6,
        max_filters_total: int = 18,
    ) -> None:
        self.token = token
        self._faults = FaultInjector(faults)
        self._limiter = RateLimiter(
            ten_second_max=ten_second_max,
            interval_ms=interval_ms,
            daily_max=daily_max,
            search_per_second=search_per_second,
        )
        search_limits = SearchLimits(max_filter_groups, max_filters_per_group, max_filters_total)
        self._portal = Portal(search_lag_s=search_lag_s, batch_limit=batch_limit, search_limits=search_limits)
        self._request_log: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()

    def app(self) -> FastAPI:
        app = FastAPI(title="HubSpot sandbox", openapi_url=None, docs_url=None, redoc_url=None)
        app.state.portal = self._portal
        app.include_router(router)
        install_error_handlers(app)
        app.add_middleware(
            Gateway, token=self.token, faults=self._faults, limiter=self._limiter, log=self._log_request
        )
        return app

    def records(self, object_type: str) -> list[dict[str, Any]]:
        """Every record of a type, archived ones included, as `{"id", "properties", ...}` dicts."""
        if object_type not in TYPE_ALIASES:
            raise ValueError(
                f"unknown object type {object_type!r}; expected one of {', '.join(OBJECT_TYPES)}"
            )
        return self._portal.snapshot(resolve_type(object_type))

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """(method, path, status) per request; for a dropped response, the status the client never saw."""
        with self._log_lock:
            return list(self._request_log)

    def count_requests(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> int:
        """Requests matching every given criterion; `path` is a regex matched against the whole path."""
        pattern = re.compile(path) if path is not None else None
        return sum(
            1
            for logged_method, logged_path, logged_status in self.request_log
            if (method is None or logged_method == method.upper())
            and (pattern is None or pattern.fullmatch(logged_path))
            and (status is None or logged_status == status)
        )

    def seed_properties(self, object_type: str, definitions: Sequence[PropertyDef]) -> None:
        """Replace an object's properties with a customer's (src/callsync_sandbox/seed.py)."""
        self._portal.seed_properties(resolve_type(object_type), definitions)

    def reset_rate_windows(self) -> None:
        """Forget all usage: ten-second windows, search windows and daily counts."""
        self._limiter.reset()

    def fault_stats(self) -> dict[str, Any]:
        """What the fault plan did so far: requests seen, requests given a fault, firings per rule."""
        return self._faults.stats()

    def _log_request(self, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self._request_log.append((method, path, status))
