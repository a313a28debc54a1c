"""A command that enqueues work and waits for it (a reviewer's decision) works while other workers run on the
same database, and never waits forever."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from callsync.pipeline.commands import WorkflowTimeout, apply_review_decision
from callsync.store.tables import LedgerRow, ReviewItemRow
from tests.pipeline.test_engine import TOKEN_ENV, make_harness
from tests.reconcile.test_review import protected_company_item

__all__ = ["make_harness"]  # the end-to-end harness fixture


def _worker(h: Any, tmp_path: Path) -> subprocess.Popen[bytes]:
    """`callsync worker` in its own process, as `callsync serve` runs its workers."""
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    data = json.loads(h.tenant.model_dump_json(exclude_defaults=True))
    (tenants / "t.yaml").write_text(yaml.safe_dump(data))
    env = {**os.environ, TOKEN_ENV: "sandbox-token"}
    cmd = [str(Path(sys.executable).parent / "callsync"), "worker", "--db", h.db.url, "--tenants", str(tenants),
           "--batch-window", "0.05"]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_review_decision_is_applied_by_a_worker_of_another_process(
    make_harness: Any, tmp_path: Path
) -> None:
    h = make_harness()
    item = protected_company_item(h)
    worker = _worker(h, tmp_path)
    try:
        time.sleep(1.0)  # let it start polling
        # Only the other process works the queue: it must know the review workflow.
        result = apply_review_decision(
            h.db, {h.tenant.name: h.tenant}, item.id, f"review:{item.record_id}", "Contoso", "approve", 0,
            reviewer="alice", timeout_s=60, run_here=False,
        )  # fmt: skip
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=20)
    assert result == "approved", err.decode()[-2000:]
    (contact,) = h.contacts()
    assert contact["properties"]["company"] == "Contoso"
    (row,) = [r for r in h.rows(LedgerRow) if r.policy == "reviewer"]
    assert (row.reviewer, row.review_item_id, row.origin_call_id) == ("alice", item.id, "c-2")
    assert row.reviewed_at is not None and row.confirmed_at is not None
    (decided,) = [r for r in h.rows(ReviewItemRow) if r.id == item.id]
    assert decided.status == "approved"


def test_waiting_on_a_decision_no_worker_runs_gives_up_with_a_clear_message(make_harness: Any) -> None:
    h = make_harness()
    item = protected_company_item(h)
    started = time.monotonic()
    with pytest.raises(WorkflowTimeout, match="did not finish within 1 s"):
        apply_review_decision(
            h.db,
            {h.tenant.name: h.tenant},
            item.id,
            "review:x",
            "Contoso",
            "approve",
            0,
            timeout_s=1,
            run_here=False,
        )
    assert time.monotonic() - started < 10
