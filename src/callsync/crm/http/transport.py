"""The one HTTP stack every CRM adapter sends through.

A request goes: credit budget (where the CRM counts an allowance) -> client-side limiter (per account and
lane, corrected from the vendor's limit headers) -> circuit breaker -> httpx -> classification of the
answer into the error tree (crm/errors.py), with the CRM's request id. Reads (and requests the adapter
marks `safe`, such as a search sent as POST) that get no answer or a 5xx are repeated here; a write never
is: a write without an answer is an `AmbiguousWriteError`, and the pipeline looks before it re-creates.

What differs between CRMs is data and small hooks on a `Vendor` (crm/<kind>/wire.py): the auth header,
where the request id is, which headers carry the rate limit, how an error answer maps onto the tree.
Adapters keep only their wire mapping (paths, bodies, records).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import httpx

from callsync.analytics import metrics as crm_metrics
from callsync.crm.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    BudgetExhausted,
    CRMError,
    PermanentError,
    RateLimited,
    TransientError,
)
from callsync.crm.http.breaker import CircuitBreaker, CircuitOpen
from callsync.crm.http.budget import CreditBudget
from callsync.crm.http.ratelimit import WindowLimiter

SAFE_METHODS = frozenset({"GET", "HEAD"})
READ_RETRIES = 2  # a read without an answer is repeated twice, after 0.2 s and 0.4 s
DEFAULT_LANE = "default"


@dataclass(frozen=True, slots=True)
class LimitReading:
    """What a response's limit headers say about the request window."""

    max_requests: int | None = None
    remaining: int | None = None
    interval_s: float | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """An answer the vendor's `is_error` refused, for its `classify`."""

    method: str
    path: str
    response: httpx.Response
    body: Any  # the parsed JSON body, or None
    safe: bool  # a read: repeating it is harmless
    limiter: WindowLimiter | None  # the lane's limiter, for a vendor that pauses it on a 429

    @property
    def status(self) -> int:
        return self.response.status_code


class Vendor:
    """One CRM's HTTP facts. Subclasses override what differs; the defaults fit a plain JSON API."""

    label: str = "the CRM"  # the CRM's name, for messages and `callsync status`
    auth_scheme: str = "Bearer"
    request_id_header: str | None = None
    # Published request windows per lane (max requests, seconds), the limiter's size until headers say.
    windows: ClassVar[Mapping[str, tuple[int, float]]] = {}

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"{self.auth_scheme} {token}"}

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        return response.headers.get(self.request_id_header) if self.request_id_header else None

    def is_error(self, response: httpx.Response, body: Any) -> bool:
        return response.status_code >= 400

    def limits(self, response: httpx.Response) -> LimitReading | None:
        """The window the response's headers describe; None when they say nothing."""
        return None

    def usage(self, response: httpx.Response) -> tuple[int, int] | None:
        """(used, limit) of the account's rolling allowance, when the CRM reports it on every answer."""
        return None

    def classify(self, failure: Failure) -> CRMError:
        """An error answer as the error tree says it. The default knows only HTTP statuses."""
        return classify_status(failure, f"{failure.method} {failure.path}: HTTP {failure.status}")


def classify_status(failure: Failure, message: str, *, request_id: str | None = None) -> CRMError:
    """What the status alone says: 429 slow down, 5xx transient (ambiguous for a write), 401 auth."""
    kw: dict[str, Any] = {"request_id": request_id, "status": failure.status}
    if failure.status == 429:
        retry = failure.response.headers.get("Retry-After", "")
        return RateLimited(message, retry_after=float(retry) if retry.isdigit() else 1.0, **kw)
    if failure.status >= 500:
        # A gateway error on a write does not prove the write did not happen.
        return TransientError(message, **kw) if failure.safe else AmbiguousWriteError(message, **kw)
    if failure.status == 401:
        return AuthenticationError(f"{message} (the access token expired or was revoked)", **kw)
    return PermanentError(message, **kw)


@dataclass
class Attempt:
    """One write attempt's standing with the credit budget (an adapter per attempt holds one)."""

    started: bool = False  # its first request checked for a whole attempt's credits
    wrote: bool = False  # after a write, confirming it is urgent: no new budget check may stop it
    noted: bool = False  # it already recorded that only the reserve is left
    urgent: bool = False  # spend the reserve too (follow-up work that must not wait)


@dataclass(frozen=True, slots=True)
class BudgetRules:
    """How the transport spends from the account's `CreditBudget`.

    `spend`: callsync counts every request's credits (the CRM says nothing until it refuses); an attempt
    starts only with `attempt_credits` available. `gate`: the CRM counts (and reports its usage on every
    answer); an attempt checks once, before its first request, that the account is not waiting.
    `reserve`: with a reported usage, new work stops when only this much is left."""

    mode: Literal["none", "spend", "gate"] = "none"
    attempt_credits: int = 1
    reserve: int = 0


class CRMTransport:
    """An httpx client with the whole stack in front of it. Shared by the adapters of one account on
    one event loop (an httpx client belongs to the loop it first sends on)."""

    def __init__(
        self,
        vendor: Vendor,
        base_url: str,
        token: str,
        *,
        path_prefix: str = "",
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        limiters: Mapping[str, WindowLimiter] | None = None,
        breaker: CircuitBreaker | None = None,
        budget: CreditBudget | None = None,
        budget_rules: BudgetRules | None = None,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.path_prefix = path_prefix
        self.limiters = dict(limiters or {})
        self.breaker = breaker or CircuitBreaker()
        self.budget = budget
        self.budget_rules = budget_rules or BudgetRules()
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={**vendor.auth_headers(token), "Content-Type": "application/json"},
            timeout=timeout_s,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def request_id(self, response: httpx.Response, body: Any = None) -> str | None:
        return self.vendor.request_id(response, body)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        safe: bool = False,
        lane: str = DEFAULT_LANE,
        cost: int = 1,
        attempt: Attempt | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; an error answer raises its `CRMError`. `safe`: a read sent with a method
        that could write (a search as POST), repeatable whatever happened to it. `cost`: the credits it
        spends (where the budget counts them). `attempt`: the write attempt it belongs to. `content` and
        `headers`: a body sent byte for byte and headers of this request alone (a signed body)."""
        safe = safe or method in SAFE_METHODS
        attempt = attempt or Attempt()
        for retry in range(READ_RETRIES + 1 if safe else 1):
            await self._spend(cost, attempt)  # a repeated read is a request the CRM counts too
            try:
                response = await self._send_once(
                    method, path, json=json, params=params, safe=safe, lane=lane, attempt=attempt,
                    content=content, headers=headers,
                )  # fmt: skip
            except TransientError:
                if retry >= READ_RETRIES or not safe or self.breaker.is_open:
                    raise
                await asyncio.sleep(0.2 * 2**retry)
                continue
            if not safe:
                attempt.wrote = True
            return response
        raise AssertionError("unreachable")

    async def _spend(self, cost: int, attempt: Attempt) -> None:
        rules, budget = self.budget_rules, self.budget
        if budget is None or rules.mode == "none":
            return
        if rules.mode == "spend":
            # An attempt starts only with credits for all of it (no half-done attempts burning credits).
            headroom = 0 if attempt.started else rules.attempt_credits - cost
            await budget.spend(cost, urgent=attempt.urgent or attempt.wrote, headroom=headroom)
            attempt.started = True
        elif not attempt.started and not attempt.wrote:
            attempt.started = True
            await budget.check()

    async def _observe_usage(self, response: httpx.Response, attempt: Attempt) -> None:
        """With a reserve, stop new work once the CRM reports only the reserve left (this request
        already went through)."""
        reserve = self.budget_rules.reserve
        if self.budget is None or reserve <= 0 or attempt.noted:
            return
        usage = self.vendor.usage(response)
        if usage is None:
            return
        used, limit = usage
        if limit - used <= reserve:
            attempt.noted = True
            await self.budget.observe(used, limit)
            await self.budget.block(
                f"{used} of {limit} daily API requests used; {reserve} kept for urgent writes"
            )

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: dict[str, str] | None,
        safe: bool,
        lane: str,
        attempt: Attempt,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        limiter = self.limiters.get(lane)
        if limiter is not None:
            waited = time.monotonic()
            await limiter.acquire()
            crm_metrics.rate_limit_wait(self.vendor.label, time.monotonic() - waited)
        try:
            self.breaker.before()
        except CircuitOpen as exc:
            crm_metrics.circuit(self.vendor.label, True, refused=True)
            raise TransientError(f"{method} {path}: not sent: {exc}") from exc
        try:
            response = await self._client.request(
                method, self.path_prefix + path, json=json, params=params, content=content, headers=headers
            )
        except httpx.ConnectError as exc:
            self.breaker.failure(f"cannot connect: {exc}")
            crm_metrics.circuit(self.vendor.label, self.breaker.is_open)
            raise TransientError(f"{method} {path}: cannot connect: {exc}") from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            self.breaker.failure(f"no answer ({type(exc).__name__})")
            crm_metrics.circuit(self.vendor.label, self.breaker.is_open)
            # The request may have reached the CRM. A read is safe to repeat; a write is not known to have
            # failed, so the pipeline must look before it creates again.
            detail = f"{method} {path}: no answer ({type(exc).__name__})"
            if safe:
                raise TransientError(detail) from exc
            raise AmbiguousWriteError(detail) from exc
        except BaseException:
            self.breaker.release()
            raise
        crm_metrics.crm_request(self.vendor.label, response.status_code)  # /metrics (analytics/metrics.py)
        if response.status_code >= 500:
            self.breaker.failure(f"HTTP {response.status_code}")
        else:
            self.breaker.success()
        crm_metrics.circuit(self.vendor.label, self.breaker.is_open)
        if limiter is not None and lane == DEFAULT_LANE:
            reading = self.vendor.limits(response)
            if reading is not None:
                limiter.observe(
                    max_requests=reading.max_requests,
                    remaining=reading.remaining,
                    interval_s=reading.interval_s,
                )
        await self._observe_usage(response, attempt)
        if limiter is not None and response.status_code != 429:
            limiter.accepted()
        body = parse_json(response)
        if self.vendor.is_error(response, body):
            error = self.vendor.classify(Failure(method, path, response, body, safe, limiter))
            if error.request_id is None:
                error.request_id = self.vendor.request_id(response, body)
            if limiter is not None and type(error) is RateLimited:
                limiter.refused()  # the lane's window let through what the CRM counted as too many
            if isinstance(error, BudgetExhausted) and self.budget is not None:
                # Every worker of the account waits, not only this attempt.
                error.retry_after = await self.budget.block(error.reason)
            raise error
        return response


def parse_json(response: httpx.Response) -> Any:
    """The JSON body, or None (no body, or not JSON)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
