"""A small emulator of the voice platforms' list-calls endpoints, for the polling fallback's tests and demos.

- Vapi `GET /call`: Bearer auth; filters `createdAtGt`, `createdAtGe`, `createdAtLt`, `createdAtLe` (ISO
  8601), `limit` (default 100, max 1000); a plain JSON array, newest first.
- Retell `POST /v3/list-calls`: Bearer auth; body `filter_criteria.start_timestamp.{lower_threshold,
  upper_threshold}` (epoch ms), `limit`, `sort_order` (ascending|descending), `pagination_key` (the last
  call id of the previous page); answers `{items, pagination_key, has_more}`.

Calls are whatever the test puts in (`add_vapi_call`, `add_retell_call`), served back as given.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class VoiceSandbox:
    def __init__(self, token: str = "voice-sandbox-token") -> None:
        self.token = token
        self.vapi_calls: list[dict[str, Any]] = []
        self.retell_calls: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def add_vapi_call(self, call: dict[str, Any]) -> None:
        with self._lock:
            self.vapi_calls = [c for c in self.vapi_calls if c.get("id") != call.get("id")] + [call]

    def add_retell_call(self, call: dict[str, Any]) -> None:
        with self._lock:
            self.retell_calls = [c for c in self.retell_calls if c.get("call_id") != call.get("call_id")] + [
                call
            ]

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def app(self) -> FastAPI:
        app = FastAPI(title="voice platforms list-calls emulator")

        @app.get("/call")
        async def vapi_list(request: Request) -> JSONResponse:
            self.requests.append(("GET", str(request.url)))
            if not self._authorized(request):
                return JSONResponse({"message": "Unauthorized"}, status_code=401)
            q = request.query_params
            try:
                limit = min(int(q.get("limit", "100")), 1000)
                bounds = {k: _iso(v) for k, v in q.items() if k.startswith("createdAt")}
            except ValueError as exc:
                return JSONResponse({"message": str(exc)}, status_code=400)
            tests = {
                "createdAtGt": lambda t, b: t > b,
                "createdAtGe": lambda t, b: t >= b,
                "createdAtLt": lambda t, b: t < b,
                "createdAtLe": lambda t, b: t <= b,
            }
            with self._lock:
                calls = [
                    c
                    for c in self.vapi_calls
                    if all(tests[k](_iso(c["createdAt"]), b) for k, b in bounds.items() if k in tests)
                ]
            calls.sort(key=lambda c: _iso(c["createdAt"]), reverse=True)
            return JSONResponse(calls[:limit])

        @app.post("/v3/list-calls")
        async def retell_list(request: Request) -> JSONResponse:
            self.requests.append(("POST", str(request.url)))
            if not self._authorized(request):
                return JSONResponse({"error_message": "Unauthorized"}, status_code=401)
            body = await request.json()
            criteria = (body.get("filter_criteria") or {}).get("start_timestamp") or {}
            low, high = criteria.get("lower_threshold"), criteria.get("upper_threshold")
            limit = min(int(body.get("limit") or 50), 1000)
            with self._lock:
                calls = [
                    c
                    for c in self.retell_calls
                    if (low is None or c["start_timestamp"] >= low)
                    and (high is None or c["start_timestamp"] <= high)
                ]
            calls.sort(
                key=lambda c: (c["start_timestamp"], c["call_id"]),
                reverse=body.get("sort_order") == "descending",
            )
            after = body.get("pagination_key")
            if after:
                ids = [c["call_id"] for c in calls]
                calls = calls[ids.index(after) + 1 :] if after in ids else []
            page = calls[:limit]
            has_more = len(calls) > limit
            return JSONResponse(
                {"items": page, "pagination_key": page[-1]["call_id"] if page else None, "has_more": has_more}
            )

        return app
