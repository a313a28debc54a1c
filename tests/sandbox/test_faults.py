"""Fault plans fire deterministically, and a dropped response reaches a real client as a transport error."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import httpx
import pydantic
import pytest
import yaml
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from callsync_sandbox.faults import FaultInjector, FaultPlan, drop_response
from callsync_sandbox.server import SandboxServer

CONTACTS = "/crm/v3/objects/contacts"


def injector(*rules: dict[str, Any], seed: int = 0) -> FaultInjector:
    return FaultInjector(FaultPlan.model_validate({"seed": seed, "rules": list(rules)}))


def fired(faults: FaultInjector, requests: int, method: str = "POST", path: str = CONTACTS) -> list[bool]:
    return [faults.decide(method, path) is not None for _ in range(requests)]


def test_plan_loads_from_yaml_with_defaults() -> None:
    text = """
    seed: 42
    rules:
      - path: /crm/v3/objects/contacts
        fault: status
      - method: post
        path: /crm/v3/objects/calls
        fault: drop_response_after_commit
        times: null
    """
    plan = FaultPlan.model_validate(yaml.safe_load(text))
    first, second = plan.rules
    assert plan.seed == 42
    assert (first.method, first.status, first.times, first.skip, first.probability) == (None, 503, 1, 0, 1.0)
    assert (second.method, second.fault, second.times) == ("POST", "drop_response_after_commit", None)


@pytest.mark.parametrize(
    "rule",
    [
        {"path": CONTACTS, "fault": "explode"},
        {"path": "(", "fault": "status"},
        {"path": CONTACTS, "fault": "status", "status": 200},
        {"path": CONTACTS, "fault": "status", "probability": 1.5},
        {"path": CONTACTS, "fault": "status", "tims": 2},
    ],
)
def test_plan_rejects_invalid_or_misspelt_rules(rule: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        FaultPlan.model_validate({"rules": [rule]})


def test_rule_fires_exactly_times_requests_after_skip() -> None:
    faults = injector({"path": CONTACTS, "fault": "status", "skip": 2, "times": 3})
    assert fired(faults, 7) == [False, False, True, True, True, False, False]


def test_times_none_fires_for_every_matching_request() -> None:
    assert all(fired(injector({"path": CONTACTS, "fault": "status", "times": None}), 20))


def test_method_and_whole_path_must_match() -> None:
    faults = injector({"method": "post", "path": CONTACTS, "fault": "status", "times": None})
    assert faults.decide("GET", CONTACTS) is None
    assert faults.decide("POST", f"{CONTACTS}/search") is None
    assert faults.decide("POST", CONTACTS) is not None


def test_first_firing_rule_wins_and_later_rules_keep_their_budget() -> None:
    first = {"path": "/crm/.*", "fault": "status", "status": 500, "times": 1}
    second = {"path": CONTACTS, "fault": "status", "status": 502, "times": 1}
    faults = injector(first, second)
    statuses = [rule.status if rule else None for rule in (faults.decide("POST", CONTACTS) for _ in range(3))]
    assert statuses == [500, 502, None]


def test_probability_is_deterministic_under_a_seed() -> None:
    rule = {"path": CONTACTS, "fault": "status", "times": None, "probability": 0.3}
    runs = [fired(injector(rule, seed=7), 200) for _ in range(2)]
    assert runs[0] == runs[1]
    assert 30 < sum(runs[0]) < 90
    assert fired(injector(rule, seed=8), 200) != runs[0]


def test_decide_is_thread_safe() -> None:
    faults = injector({"path": CONTACTS, "fault": "status", "times": 50})
    hits: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        outcome = fired(faults, 100)
        with lock:
            hits.extend(outcome)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sum(hits) == 50


committed: list[str] = []


async def _drop_posts_after_commit(scope: Scope, receive: Receive, send: Send) -> None:
    """Records every request as done; drops the response to POSTs, as an emulator does after a commit."""
    committed.append(f"{scope['method']} {scope['path']}")
    if scope["method"] == "POST":
        await drop_response(send)
    await PlainTextResponse("ok")(scope, receive, send)


def test_drop_response_becomes_a_transport_error_for_a_real_client() -> None:
    committed.clear()
    with SandboxServer(_drop_posts_after_commit) as server, httpx.Client(base_url=server.base_url) as http:
        with pytest.raises(httpx.TransportError):
            http.post("/calls", json={})
        assert http.get("/calls").text == "ok"  # the same client carries on over a new connection
    assert committed == ["POST /calls", "GET /calls"]


def test_a_dropped_response_is_not_logged_as_a_server_error(caplog: pytest.LogCaptureFixture) -> None:
    with (
        SandboxServer(_drop_posts_after_commit) as server,
        httpx.Client(base_url=server.base_url) as http,
        pytest.raises(httpx.TransportError),
    ):
        http.post("/calls", json={})
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_sandbox_server_exposes_its_bound_port_and_stops() -> None:
    with SandboxServer(_drop_posts_after_commit) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.port > 0
    with pytest.raises(RuntimeError):
        _ = server.base_url


def test_sandbox_server_on_a_taken_port_fails_in_the_caller() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken, pytest.raises(OSError):
        SandboxServer(_drop_posts_after_commit, port=taken.getsockname()[1]).start()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "localhost", "::1"])
def test_sandbox_server_refuses_non_loopback_or_non_ipv4_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(_drop_posts_after_commit, host=host)
