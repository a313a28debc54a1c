"""Fault plans beyond status and lost answers: latency distributions, outage windows, connection resets,
answers held past the client's timeout, partial batch failures, 429 storms with HubSpot's headers; plans
loaded from files, inline text and the environment; the `callsync sandbox --faults` command."""

from __future__ import annotations

import json
import os
import re
import select
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest

from callsync_sandbox.faults import ENV_FAULT_PLAN, FaultInjector, FaultPlan, Latency, load_fault_plan
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer

CONTACTS = "/crm/v3/objects/contacts"
AUTH = {"Authorization": "Bearer sandbox-token"}


def plan(**data: Any) -> FaultPlan:
    return FaultPlan.model_validate(data)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[SandboxServer] = []

    def start(fault_plan: dict[str, Any], **kw: Any) -> tuple[HubSpotSandbox, httpx.Client]:
        sandbox = HubSpotSandbox(faults=FaultPlan.model_validate(fault_plan), **kw)
        server = SandboxServer(sandbox.app())
        server.start()
        servers.append(server)
        return sandbox, httpx.Client(base_url=server.base_url, headers=AUTH, timeout=2.0)

    yield start
    for server in servers:
        server.stop()


# -- loading ----------------------------------------------------------------------------------------

PLAN_YAML = """
seed: 11
outages:
  - {start_s: 30, duration_s: 20}
rules:
  - {path: "/crm/.*", fault: latency, times: null, latency: {distribution: lognormal, p50_ms: 40, p99_ms: 400}}
  - {path: "/crm/.*", fault: status, status: 500, probability: 0.1, times: null}
"""


def test_a_plan_loads_from_yaml_json_inline_text_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    yaml_file = tmp_path / "plan.yaml"
    yaml_file.write_text(PLAN_YAML)
    json_file = tmp_path / "plan.json"
    json_file.write_text(json.dumps(FaultPlan.from_text(PLAN_YAML).model_dump(mode="json")))
    from_yaml = FaultPlan.from_file(yaml_file)
    assert from_yaml == FaultPlan.from_file(json_file) == load_fault_plan(str(yaml_file))
    assert load_fault_plan(PLAN_YAML) == from_yaml
    assert load_fault_plan("seed: 3") == FaultPlan(seed=3)  # one line of YAML, not a file name
    assert load_fault_plan(json_file) == from_yaml

    monkeypatch.delenv(ENV_FAULT_PLAN, raising=False)
    assert load_fault_plan() is None
    monkeypatch.setenv(ENV_FAULT_PLAN, str(yaml_file))
    assert load_fault_plan() == from_yaml
    monkeypatch.setenv(ENV_FAULT_PLAN, json.dumps({"seed": 3, "rules": []}))
    assert load_fault_plan() == FaultPlan(seed=3)


def test_an_outage_is_shorthand_for_a_windowed_rule_tried_before_the_others() -> None:
    p = FaultPlan.from_text(PLAN_YAML)
    first = p.all_rules()[0]
    assert (first.path, first.fault, first.status, first.times) == (".*", "status", 503, None)
    assert (first.start_s, first.end_s) == (30, 50)
    reset = plan(outages=[{"start_s": 0, "duration_s": 5, "reset": True}]).all_rules()[0]
    assert reset.fault == "connection_reset"


@pytest.mark.parametrize(
    "rule",
    [
        {"path": CONTACTS, "fault": "latency"},  # no distribution
        {"path": CONTACTS, "fault": "latency", "latency": {"distribution": "uniform", "min_ms": 5}},
        {
            "path": CONTACTS,
            "fault": "latency",
            "latency": {"distribution": "lognormal", "p50_ms": 9, "p99_ms": 3},
        },
        {"path": CONTACTS, "fault": "status", "start_s": 10, "end_s": 5},
        {"path": CONTACTS, "fault": "partial_batch", "fail_ratio": 0},
        {
            "path": CONTACTS,
            "fault": "latency",
            "latency": {"distribution": "exponential", "mean_ms": 5, "x": 1},
        },
    ],
)
def test_inconsistent_rules_are_refused(rule: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        FaultPlan.model_validate({"rules": [rule]})


# -- selection and determinism ----------------------------------------------------------------------


def test_latency_distributions_have_their_shape_and_respect_the_cap() -> None:
    import random

    rng = random.Random(1)
    fixed = Latency(ms=25)
    assert fixed.draw_s(rng) == 0.025
    uniform = [Latency(distribution="uniform", min_ms=10, max_ms=30).draw_s(rng) for _ in range(500)]
    assert min(uniform) >= 0.010 and max(uniform) <= 0.030
    expo = [Latency(distribution="exponential", mean_ms=50).draw_s(rng) for _ in range(4000)]
    assert 0.045 < statistics.mean(expo) < 0.055
    logn = sorted(Latency(distribution="lognormal", p50_ms=40, p99_ms=400).draw_s(rng) for _ in range(4000))
    assert 0.035 < logn[2000] < 0.045 and 0.3 < logn[3960] < 0.5
    capped = [Latency(distribution="exponential", mean_ms=50, max_ms=60).draw_s(rng) for _ in range(500)]
    assert max(capped) == 0.060


def test_latency_adds_up_and_does_not_take_the_request_from_the_fault_rules() -> None:
    faults = FaultInjector(
        plan(
            rules=[
                {"path": ".*", "fault": "latency", "times": None, "latency": {"ms": 10}},
                {"path": ".*", "fault": "latency", "times": 1, "latency": {"ms": 5}},
                {"path": CONTACTS, "fault": "status", "status": 502, "times": 1},
            ]
        )
    )
    first, second = faults.act("POST", CONTACTS), faults.act("POST", CONTACTS)
    assert (round(first.delay_s, 3), first.fault, first.status) == (0.015, "status", 502)
    assert (round(second.delay_s, 3), second.fault) == (0.01, None)
    assert faults.decide("POST", CONTACTS) is None  # the old interface: only the fault, never latency


def test_a_latency_rule_does_not_shift_which_requests_a_probabilistic_rule_picks() -> None:
    error = {"path": CONTACTS, "fault": "status", "probability": 0.3, "times": None}
    slow = {"path": CONTACTS, "fault": "latency", "times": None, "probability": 1.0,
            "latency": {"distribution": "exponential", "mean_ms": 30}}  # fmt: skip
    plain = FaultInjector(plan(seed=5, rules=[error]))
    mixed = FaultInjector(plan(seed=5, rules=[slow, error]))
    assert [plain.act("POST", CONTACTS).fault for _ in range(200)] == [
        mixed.act("POST", CONTACTS).fault for _ in range(200)
    ]


def test_the_same_seed_gives_the_same_decisions_and_delays() -> None:
    data = FaultPlan.from_text(PLAN_YAML)

    def run() -> list[tuple[float, str | None]]:
        faults = FaultInjector(data)
        return [(a.delay_s, a.fault) for a in (faults.act("GET", f"{CONTACTS}/1") for _ in range(300))]

    first = run()
    assert first == run()
    assert 10 < sum(1 for _, fault in first if fault == "status") < 60
    assert first != [(a.delay_s, a.fault) for a in (FaultInjector(data.model_copy(update={"seed": 12})).act(
        "GET", f"{CONTACTS}/1") for _ in range(300))]  # fmt: skip


def test_a_time_window_counts_from_the_plans_clock() -> None:
    faults = FaultInjector(
        plan(rules=[{"path": ".*", "fault": "status", "times": None, "start_s": 5, "end_s": 8}])
    )
    now = time.monotonic()
    faults.start_clock(now - 4)
    assert faults.act("GET", CONTACTS).fault is None
    faults.start_clock(now - 6)
    assert faults.act("GET", CONTACTS).fault == "status"
    faults.start_clock(now - 9)
    assert faults.act("GET", CONTACTS).fault is None
    assert faults.stats()["faulted"] == 1 and faults.stats()["requests"] == 3


def test_partial_batch_choice_is_reproducible_and_never_empty() -> None:
    rule = {"path": ".*", "fault": "partial_batch", "fail_ratio": 0.3, "times": None}
    a, b = FaultInjector(plan(seed=2, rules=[rule])), FaultInjector(plan(seed=2, rules=[rule]))
    picks = [a.act("POST", "/x").failing_inputs(10) for _ in range(5)]
    assert picks == [b.act("POST", "/x").failing_inputs(10) for _ in range(5)]
    assert all(len(p) == 3 for p in picks) and len({tuple(p) for p in picks}) > 1
    assert a.act("POST", "/x").failing_inputs(1) == [0]


# -- on the wire (HubSpot emulator) -----------------------------------------------------------------


def test_an_outage_window_fails_every_request_then_the_crm_comes_back(serve: Any) -> None:
    sandbox, http = serve({"outages": [{"start_s": 0, "duration_s": 0.4}]})
    during = [http.get(f"{CONTACTS}/1001").status_code for _ in range(3)]
    time.sleep(0.5)
    after = http.post(CONTACTS, json={"properties": {"email": "back@example.com"}})
    assert during == [503, 503, 503]
    assert after.status_code == 201 and len(sandbox.records("contacts")) == 1


def test_a_reset_outage_answers_nothing(serve: Any) -> None:
    sandbox, http = serve({"outages": [{"start_s": 0, "duration_s": 30, "reset": True}]})
    with pytest.raises(httpx.TransportError):
        http.post(CONTACTS, json={"properties": {"email": "x@example.com"}})
    assert sandbox.records("contacts") == []
    assert sandbox.request_log == [("POST", CONTACTS, 0)]


def test_a_connection_reset_does_nothing_and_a_timeout_after_commit_does_everything(serve: Any) -> None:
    rules = [
        {"method": "POST", "path": CONTACTS, "fault": "connection_reset", "times": 1},
        {
            "method": "POST",
            "path": CONTACTS,
            "fault": "timeout_after_commit",
            "times": 1,
            "latency": {"ms": 1500},
        },
    ]
    sandbox, http = serve({"rules": rules})
    with pytest.raises(httpx.TransportError):
        http.post(CONTACTS, json={"properties": {"email": "reset@example.com"}})
    assert sandbox.records("contacts") == []
    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        http.post(CONTACTS, json={"properties": {"email": "slow@example.com"}}, timeout=0.5)
    assert time.monotonic() - started < 1.4
    assert [c["properties"]["email"] for c in sandbox.records("contacts")] == ["slow@example.com"]


def test_latency_slows_answers_without_changing_them(serve: Any) -> None:
    _sandbox, http = serve(
        {"rules": [{"path": ".*", "fault": "latency", "times": None, "latency": {"ms": 150}}]}
    )
    started = time.monotonic()
    assert http.post(CONTACTS, json={"properties": {"email": "l@example.com"}}).status_code == 201
    assert time.monotonic() - started >= 0.15


def test_partial_batch_upsert_fails_some_inputs_in_a_multi_status_and_writes_the_rest(serve: Any) -> None:
    rule = {"path": f"{CONTACTS}/batch/upsert", "fault": "partial_batch", "fail_ratio": 0.5, "status": 500}
    sandbox, http = serve({"seed": 4, "rules": [rule]})
    inputs = [
        {"id": f"p{i}@example.com", "idProperty": "email", "properties": {"firstname": f"P{i}"}}
        for i in range(6)
    ]
    response = http.post(f"{CONTACTS}/batch/upsert", json={"inputs": inputs})
    body = response.json()
    assert response.status_code == 207 and body["numErrors"] == 3
    failed = {ident for error in body["errors"] for ident in error["context"]["ids"]}
    written = {r["properties"]["email"] for r in body["results"]}
    assert len(failed) == 3 and failed.isdisjoint(written) and failed | written == {i["id"] for i in inputs}
    assert {c["properties"]["email"] for c in sandbox.records("contacts")} == written
    assert all(e["category"] == "INTERNAL_ERROR" for e in body["errors"])
    assert "X-HubSpot-RateLimit-Remaining" in response.headers  # the real answer's headers are kept
    again = http.post(f"{CONTACTS}/batch/upsert", json={"inputs": inputs})
    assert again.status_code == 200  # times: 1 — the retry completes the batch
    assert len(sandbox.records("contacts")) == 6


def test_partial_batch_create_follows_hubspot_all_or_nothing_without_trace_ids(serve: Any) -> None:
    rule = {"path": f"{CONTACTS}/batch/create", "fault": "partial_batch", "times": 2, "status": 500}
    sandbox, http = serve({"rules": [rule]})
    plain = [{"properties": {"email": f"c{i}@example.com"}} for i in range(4)]
    assert http.post(f"{CONTACTS}/batch/create", json={"inputs": plain}).status_code == 500
    assert sandbox.records("contacts") == []
    traced = [{**item, "objectWriteTraceId": f"t{i}"} for i, item in enumerate(plain)]
    response = http.post(f"{CONTACTS}/batch/create", json={"inputs": traced})
    body = response.json()
    assert response.status_code == 207
    failed = {t for error in body["errors"] for t in error["context"]["objectWriteTraceId"]}
    assert failed and {r["objectWriteTraceId"] for r in body["results"]}.isdisjoint(failed)
    assert len(sandbox.records("contacts")) == 4 - len(failed)


def test_a_429_storm_carries_hubspots_rate_limit_headers_and_body(serve: Any) -> None:
    storm = {"path": f"{CONTACTS}.*", "fault": "status", "status": 429, "times": 5}
    _sandbox, http = serve({"rules": [storm]})
    answers = [http.get(f"{CONTACTS}/1001") for _ in range(6)]
    assert [a.status_code for a in answers] == [429] * 5 + [404]
    first = answers[0]
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert (
        first.headers["X-HubSpot-RateLimit-Max"]
        and first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"]
    )
    assert first.json()["policyName"] == "TEN_SECONDLY_ROLLING" and first.json()["errorType"] == "RATE_LIMIT"


# -- the command ------------------------------------------------------------------------------------


def test_callsync_sandbox_serves_the_plan_given_with_faults(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(
        "rules:\n  - {method: POST, path: /crm/v3/objects/contacts, fault: status, status: 502}\n"
    )
    # --port 0: the sandbox binds a free port itself and prints it. A port picked here and bound later by
    # the child could be taken meanwhile by a parallel test's server, which then answered these requests.
    env = {k: v for k, v in os.environ.items() if k != ENV_FAULT_PLAN} | {"PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", "from callsync.cli import main; main()", "sandbox", "hubspot",
               "--port", "0", "--faults", str(plan_file)]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = _served_url(proc, deadline=time.monotonic() + 30)
        with httpx.Client(base_url=url, headers=AUTH, timeout=2.0) as http:
            first = http.post(CONTACTS, json={"properties": {"email": "cli@example.com"}})
            second = http.post(CONTACTS, json={"properties": {"email": "cli@example.com"}})
        assert (first.status_code, second.status_code) == (502, 201)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _served_url(proc: subprocess.Popen[str], deadline: float) -> str:
    """The address a `callsync sandbox` process says it serves on (its first line), waited for until
    `deadline`."""
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            found = re.search(r"sandbox on (http://127\.0\.0\.1:\d+)", line)
            if found:
                return found.group(1)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    raise AssertionError("the sandbox did not say where it serves")


def test_callsync_sandbox_refuses_a_broken_plan(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from callsync.cli import app

    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {path: /x, fault: explode}\n")
    result = CliRunner().invoke(app, ["sandbox", "hubspot", "--faults", str(bad)])
    assert result.exit_code == 1 and "fault plan" in result.output
