"""SIGTERM stops a worker within 10 s even with CRM requests in flight; what it was doing resumes on the
next worker with nothing lost and nothing doubled (issue 19 item 5)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.pipeline.test_engine import TOKEN_ENV, call_payload, make_harness

__all__ = ["make_harness"]

N = 12
SLOW = {"rules": [{"path": ".*", "fault": "latency", "latency": {"ms": 20000}, "times": None, "end_s": 15}]}


def test_sigterm_stops_a_busy_worker_within_ten_seconds_and_the_next_worker_finishes(
    make_harness: Any, tmp_path: Path
) -> None:
    started = time.monotonic()
    h = make_harness(SLOW)
    # A CRM that takes 20 s to answer, within the tenant's timeout: requests are in flight when SIGTERM comes.
    h.tenant = h.tenant.model_copy(update={"crm": h.tenant.crm.model_copy(update={"timeout_s": 30.0})})
    h.ingest(
        *(
            call_payload(f"c-{i}", ["hi it's dana, about my order"], from_=f"+1415555{i:04d}")
            for i in range(N)
        )
    )
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "t1.yaml").write_text(
        yaml.safe_dump(json.loads(h.tenant.model_dump_json(exclude_defaults=True)))
    )
    cmd = [str(Path(sys.executable).parent / "callsync"), "worker", "--db", h.db.url, "--tenants", str(tenants),
           "--batch-window", "0.05"]  # fmt: skip
    # Output to a file, not a pipe nobody drains: a full pipe would block the worker's logging.
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(cmd, env={**os.environ, TOKEN_ENV: "sandbox-token"}, stdout=out,
                                  stderr=subprocess.STDOUT)  # fmt: skip
    try:
        # Bounded; generous because a worker's start (imports, DBOS launch) is slow on a loaded CI machine.
        deadline = time.monotonic() + 90
        while h.sandbox.count_requests() < 2 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)  # the worker is now waiting on slow CRM answers
        if h.sandbox.count_requests() < 2:
            worker.kill()
            worker.wait(timeout=10)
            pytest.fail(f"the worker sent no CRM requests: {log.read_text(errors='replace')[-2000:]}")
        sent = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
        stopped_after = time.monotonic() - sent
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert stopped_after < 10, f"the worker took {stopped_after:.1f} s to stop"
    time.sleep(
        max(0.0, 16 - (time.monotonic() - started))
    )  # the slow window is over: the CRM answers promptly
    state = h.sync(timeout_s=120)
    assert (state.confirmed, state.queued, state.dead_letter) == (N, 0, 0)
    phones = sorted(c["properties"]["phone"] for c in h.contacts())
    assert phones == sorted(f"+1415555{i:04d}" for i in range(N)), "nothing lost, nothing doubled"
