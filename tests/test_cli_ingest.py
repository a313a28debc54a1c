"""`callsync serve`, `worker`, `quarantine` and `poll` as a user meets them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from callsync.cli import app
from callsync.route.signatures import sign_callsync
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.voice import VoiceSandbox
from tests.route.payloads import generic, vapi

runner = CliRunner()
CALLSYNC = str(Path(sys.executable).parent / "callsync")
SECRET = "demo-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/ingest.db"


class Server:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [CALLSYNC, "serve", "--port", str(self.port), *args],
            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.proc.communicate()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("serve did not start within 30 s")

    def post_generic(self, payload: dict[str, Any], secret: str = SECRET) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = sign_callsync(body, secret, int(time.time())) | {"content-type": "application/json"}
        return httpx.post(f"{self.base_url}/v1/webhooks/generic", content=body, headers=headers, timeout=10)

    def stop(self) -> tuple[str, str]:
        self.proc.terminate()
        try:
            return self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate(timeout=5)


def status(db: str) -> dict[str, int]:
    result = runner.invoke(app, ["status", "--json", "--db", db])
    parsed: dict[str, int] = json.loads(result.stdout)
    return parsed


def test_serve_runs_the_generic_contract_and_syncs_in_the_same_process(db: str) -> None:
    sandbox = HubSpotSandbox(token="sandbox-token")
    with SandboxServer(sandbox.app()) as crm:
        env = {"CALLSYNC_DEMO_SECRET": SECRET, "CALLSYNC_HUBSPOT_URL": crm.base_url,
               "CALLSYNC_HUBSPOT_TOKEN": "sandbox-token"}  # fmt: skip
        server = Server(["--db", db], env)
        try:
            first = server.post_generic(generic("s-1"))
            assert (first.status_code, first.json()) == (202, {"call_id": "s-1", "status": "queued"})
            assert server.post_generic(generic("s-1")).json() == {"call_id": "s-1", "status": "duplicate"}
            assert server.post_generic(generic("s-2"), secret="wrong").status_code == 401
            deadline = time.monotonic() + 30
            while status(db)["confirmed"] < 1 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            out, _err = server.stop()
    counts = status(db)
    assert (counts["calls"], counts["queued"], counts["confirmed"], counts["dead_letters"]) == (1, 0, 1, 0)
    assert len(sandbox.records("contacts")) == 1
    assert "tenant demo: accepting" in out and "workers on" in out


def test_serve_without_the_demo_secret_says_so_and_accepts_nothing(db: str) -> None:
    env = {"CALLSYNC_DEMO_SECRET": "", "CALLSYNC_HUBSPOT_TOKEN": ""}
    server = Server(["--db", db, "--no-workers"], env)
    try:
        assert server.post_generic(generic("s-1"), secret="").status_code == 401
        assert server.post_generic(generic("s-1"), secret="anything").status_code == 401
    finally:
        _out, err = server.stop()
    assert "tenant demo accepts no webhooks" in err and "CALLSYNC_DEMO_SECRET" in err
    assert status(db)["calls"] == 0


def test_serve_without_a_crm_token_stores_calls_and_leaves_delivery_to_a_worker(db: str) -> None:
    server = Server(["--db", db], {"CALLSYNC_DEMO_SECRET": SECRET, "CALLSYNC_HUBSPOT_TOKEN": ""})
    try:
        assert server.post_generic(generic("s-3")).json()["status"] == "queued"
    finally:
        _out, err = server.stop()
    assert "delivery workers not started" in err and "CALLSYNC_HUBSPOT_TOKEN" in err
    assert status(db)["queued"] == 1


def test_worker_refuses_to_start_without_the_crm_token(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLSYNC_HUBSPOT_TOKEN", raising=False)
    result = runner.invoke(app, ["worker", "--db", db])
    assert result.exit_code == 1 and "CALLSYNC_HUBSPOT_TOKEN" in result.stderr


# -- quarantine ------------------------------------------------------------------------------------------


def tenant_file(directory: Path, name: str, numbers: list[str]) -> None:
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.yaml").write_text(
        f"name: {name}\nnumbers: {json.dumps(numbers)}\nsecrets: {{generic: TEST_{name.upper()}_SECRET}}\n"
    )


def test_quarantine_list_show_and_retry_after_fixing_the_route(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callsync.config import load_tenants
    from callsync.route.ingest import ingest_payload
    from callsync.store.db import Database

    monkeypatch.setenv("TEST_ACME_SECRET", "s")
    tenants_dir = tmp_path / "tenants"
    tenant_file(tenants_dir, "acme", ["+14155550100"])
    database = Database(db)
    database.migrate()
    body = json.dumps(generic("q-1", to="+13125550100"))
    outcome = ingest_payload(
        database, load_tenants(tenants_dir), "generic", body, candidates=["acme"], source="webhook:generic"
    )
    database.dispose()
    assert outcome.status == "quarantined"

    listed = runner.invoke(app, ["quarantine", "list", "--db", db, "--json"])
    (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["reason"] == "unroutable: no tenant has number +13125550100" and row["platform"] == "generic"

    shown = runner.invoke(app, ["quarantine", "show", str(row["id"]), "--db", db])
    assert shown.exit_code == 0 and body in shown.stdout and "unroutable" in shown.stdout

    still = runner.invoke(
        app, ["quarantine", "retry", str(row["id"]), "--db", db, "--tenants", str(tenants_dir)]
    )
    assert still.exit_code == 1 and "still quarantined" in still.stderr
    assert status(db)["quarantined"] == 1

    tenant_file(tenants_dir, "acme", ["+14155550100", "+13125550100"])  # the operator adds the number
    fixed = runner.invoke(
        app, ["quarantine", "retry", str(row["id"]), "--db", db, "--tenants", str(tenants_dir)]
    )
    assert fixed.exit_code == 0, fixed.output
    assert "queued as call q-1 of tenant acme" in fixed.stdout
    assert status(db)["quarantined"] == 0 and status(db)["calls"] == 1
    again = runner.invoke(
        app, ["quarantine", "retry", str(row["id"]), "--db", db, "--tenants", str(tenants_dir)]
    )
    assert "already retried" in again.stderr
    everything = runner.invoke(app, ["quarantine", "list", "--all", "--json", "--db", db])
    assert json.loads(everything.stdout)["call_id"] == "q-1"


def test_quarantine_retry_can_force_a_tenant_for_a_file_ingest_row(db: str, tmp_path: Path) -> None:
    f = tmp_path / "calls.jsonl"
    f.write_text(json.dumps(generic("f-1", turns=[{"speaker": "robot", "text": "beep"}])) + "\n")
    assert runner.invoke(app, ["ingest", str(f), "--db", db]).exit_code == 1
    listed = [
        json.loads(x)
        for x in runner.invoke(app, ["quarantine", "list", "--json", "--db", db]).stdout.splitlines()
    ]
    assert listed[0]["tenant"] == "demo"
    result = runner.invoke(app, ["quarantine", "retry", str(listed[0]["id"]), "--db", db])
    assert result.exit_code == 1 and "turns.0.speaker" in result.stderr  # still invalid: stays open
    assert runner.invoke(app, ["quarantine", "show", "999", "--db", db]).exit_code == 1


# -- poll ------------------------------------------------------------------------------------------------


@pytest.fixture
def voice() -> Iterator[tuple[VoiceSandbox, str]]:
    sandbox = VoiceSandbox("k")
    with SandboxServer(sandbox.app()) as server:
        yield sandbox, server.base_url


def test_poll_pulls_vapi_calls_into_the_demo_tenant(
    db: str, voice: tuple[VoiceSandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, base_url = voice
    message = vapi("p-1")["message"]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
    sandbox.add_vapi_call({**message["call"], "customer": message["customer"], "phoneNumber": message["phoneNumber"],
                           "artifact": message["artifact"], "createdAt": stamp, "startedAt": stamp, "endedAt": stamp})  # fmt: skip
    monkeypatch.delenv("CALLSYNC_VAPI_API_KEY", raising=False)
    refused = runner.invoke(app, ["poll", "--platform", "vapi", "--db", db, "--base-url", base_url])
    assert refused.exit_code == 1 and "CALLSYNC_VAPI_API_KEY" in refused.stderr
    monkeypatch.setenv("CALLSYNC_VAPI_API_KEY", "k")
    result = runner.invoke(app, ["poll", "--platform", "vapi", "--db", db, "--base-url", base_url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) | {"cursor": None} == {"tenant": "demo", "platform": "vapi", "cursor": None,
                                                             "pending": 0, "queued": 1}  # fmt: skip
    again = runner.invoke(app, ["poll", "--platform", "vapi", "--db", db, "--base-url", base_url])
    assert "duplicate 1" in again.stdout
    assert runner.invoke(app, ["poll", "--platform", "bland", "--db", db]).exit_code == 1
