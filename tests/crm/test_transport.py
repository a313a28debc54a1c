"""The shared transport with a plain vendor over a mock network, and each CRM's error classification."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from callsync.crm.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    BudgetExhausted,
    CRMError,
    InvalidValueError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownFieldError,
)
from callsync.crm.http.breaker import CircuitBreaker
from callsync.crm.http.budget import BudgetKey, BudgetSettings, CreditBudget, MemoryBudgetStore
from callsync.crm.http.ratelimit import WindowLimiter
from callsync.crm.http.transport import (
    Attempt,
    BudgetRules,
    CRMTransport,
    Failure,
    LimitReading,
    Vendor,
    parse_json,
)
from callsync.crm.hubspot.wire import HubSpotVendor
from callsync.crm.salesforce.wire import SalesforceVendor
from callsync.crm.zoho.wire import ZohoVendor, record_error

Handler = Callable[[httpx.Request], httpx.Response]


class Plain(Vendor):
    label = "Plain"
    request_id_header = "X-Request-Id"

    def limits(self, response: httpx.Response) -> LimitReading | None:
        left = response.headers.get("X-Left")
        return LimitReading(remaining=int(left)) if left is not None else None

    def classify(self, failure: Failure) -> CRMError:
        if failure.status == 418:
            return BudgetExhausted(
                "out of credits", retry_after=900.0, reason="Plain refused: out of credits"
            )
        return super().classify(failure)


def transport(handler: Handler, **kw: Any) -> CRMTransport:
    return CRMTransport(Plain(), "http://crm.test", "tok", transport=httpx.MockTransport(handler), **kw)


def budget(limit: int | None = None, **kw: Any) -> CreditBudget:
    return CreditBudget(
        BudgetKey("plain", "acct", "plain test"), BudgetSettings(limit, **kw), store=MemoryBudgetStore()
    )


async def test_a_read_is_repeated_after_a_5xx_and_a_write_is_not() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) in (1, 3):
            return httpx.Response(503, headers={"X-Request-Id": f"r{len(calls)}"})
        return httpx.Response(200, json={"ok": True})

    http = transport(handler)
    response = await http.request("GET", "/things")
    assert parse_json(response) == {"ok": True} and calls == ["GET", "GET"]
    with pytest.raises(AmbiguousWriteError) as error:
        await http.request("POST", "/things", json={})
    assert calls == ["GET", "GET", "POST"] and error.value.request_id == "r3" and error.value.status == 503
    await http.aclose()


async def test_a_search_marked_safe_is_repeated_and_transient_when_it_keeps_failing() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(502)

    http = transport(handler)
    with pytest.raises(TransientError):
        await http.request("POST", "/search", json={"q": 1}, safe=True)
    assert len(calls) == 3
    assert calls[0].headers["Authorization"] == "Bearer tok" and json.loads(calls[0].content) == {"q": 1}
    await http.aclose()


async def test_the_breaker_stops_sending_after_failures_in_a_row() -> None:
    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        raise httpx.ConnectError("refused")

    http = transport(handler, breaker=CircuitBreaker(threshold=2, cooldown_s=60))
    for _ in range(2):
        with pytest.raises(TransientError, match="cannot connect"):
            await http.request("POST", "/x")
    with pytest.raises(TransientError, match="not sent"):
        await http.request("POST", "/x")
    assert len(sent) == 2 and http.breaker.refused == 1
    await http.aclose()


async def test_statuses_map_onto_the_error_tree() -> None:
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(401), httpx.Response(400)]
    )
    http = transport(lambda request: next(answers))
    with pytest.raises(RateLimited) as limited:
        await http.request("POST", "/x")
    assert limited.value.retry_after == 7.0
    with pytest.raises(AuthenticationError):
        await http.request("POST", "/x")
    with pytest.raises(PermanentError):
        await http.request("POST", "/x")
    await http.aclose()


async def test_limit_headers_pause_the_lane_when_nothing_is_left() -> None:
    limiter = WindowLimiter(100, 10.0)
    http = transport(
        lambda request: httpx.Response(200, headers={"X-Left": "0"}), limiters={"default": limiter}
    )
    await http.request("GET", "/x")
    assert limiter._delay(__import__("time").monotonic()) > 5
    await http.aclose()


async def test_an_exhausted_allowance_blocks_every_attempt_of_the_account() -> None:
    credits = budget(None, retry_s=120)
    answers = iter([httpx.Response(418), httpx.Response(200)])
    http = transport(lambda request: next(answers), budget=credits, budget_rules=BudgetRules(mode="gate"))
    with pytest.raises(BudgetExhausted) as refused:
        await http.request("GET", "/x")
    assert refused.value.retry_after == 120 and "Plain refused" in (credits.state().blocked_reason or "")
    with pytest.raises(BudgetExhausted):  # a new attempt checks the account before sending
        await http.request("GET", "/x", attempt=Attempt())
    await http.aclose()


async def test_counted_credits_start_an_attempt_only_when_all_of_it_fits() -> None:
    credits = budget(4, reserve=1)
    http = transport(
        lambda request: httpx.Response(200),
        budget=credits,
        budget_rules=BudgetRules(mode="spend", attempt_credits=3),
    )
    first = Attempt()
    await http.request("GET", "/x", attempt=first)  # the 3 outside the reserve are free: it may start
    with pytest.raises(BudgetExhausted):
        await http.request("GET", "/x", attempt=Attempt())
    await http.request("POST", "/x", attempt=first)
    await http.request("GET", "/x", attempt=first)  # after a write, confirming may spend the reserve
    await http.request("GET", "/x", attempt=first)
    with pytest.raises(BudgetExhausted):  # but not more than the whole allowance
        await http.request("GET", "/x", attempt=first)
    await http.aclose()


def failure(
    vendor: Vendor, status: int, body: Any, *, method: str = "POST", headers: dict[str, str] | None = None
) -> CRMError:
    response = httpx.Response(
        status, json=body, headers=headers, request=httpx.Request(method, "http://crm.test/x")
    )
    return vendor.classify(Failure(method, "/x", response, parse_json(response), method == "GET", None))


def test_hubspot_names_unknown_properties_apart_from_invalid_values() -> None:
    body = {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": "Property values were not valid",
        "errors": [
            {"code": "PROPERTY_DOESNT_EXIST", "context": {"propertyName": ["favourite_colour"]}},
            {"code": "INVALID_INTEGER", "context": {"propertyName": ["employees"]}},
        ],
    }
    error = failure(HubSpotVendor(), 400, body, headers={"X-HubSpot-Correlation-Id": "corr-1"})
    assert isinstance(error, UnknownFieldError) and error.fields == ("favourite_colour",)
    assert error.request_id == "corr-1"
    body["errors"] = body["errors"][1:]
    invalid = failure(HubSpotVendor(), 400, body)
    assert isinstance(invalid, InvalidValueError) and invalid.fields == ("employees",)
    daily = failure(HubSpotVendor(), 429, {"policyName": "DAILY", "message": "daily"})
    assert isinstance(daily, BudgetExhausted) and daily.retry_after > 60


def test_salesforce_invalid_field_and_limit_answers() -> None:
    body = [{"errorCode": "INVALID_FIELD", "message": "No such column 'Colour__c' on entity 'Lead'."}]
    error = failure(SalesforceVendor(), 400, body, method="GET")
    assert isinstance(error, UnknownFieldError) and error.fields == ("Colour__c",)
    limit = failure(
        SalesforceVendor(), 403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests"}]
    )
    assert isinstance(limit, BudgetExhausted) and limit.reason == "Salesforce refused: TotalRequests"


def test_zoho_record_and_request_errors() -> None:
    item = {"code": "INVALID_DATA", "message": "invalid data", "details": {"api_name": "Annual_Revenue"}}
    error = record_error("POST /Leads", item)
    assert isinstance(error, InvalidValueError) and error.fields == ("Annual_Revenue",)
    shape = record_error("POST /Leads", {"code": "INVALID_DATA", "details": {"api_name": "id"}})
    assert type(shape) is PermanentError, "a malformed request is not a field's fault"
    limit = failure(ZohoVendor(), 429, {"code": "LIMIT_REACHED", "message": "credits exhausted"})
    assert isinstance(limit, BudgetExhausted) and limit.reason == "Zoho refused: credits exhausted"
    assert isinstance(failure(ZohoVendor(), 401, {"code": "INVALID_TOKEN"}), AuthenticationError)
