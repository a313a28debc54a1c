"""Work a command enqueues and waits for: a reviewer's decision, a call re-synced to a chosen record.

The command starts a worker of its own (so it works with no server running) and waits a bounded time: any
worker on the database may run the workflow (they all register every workflow), and one that never
finishes is reported, not waited on forever.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from dbos import DBOS, EnqueueOptions

from callsync.config import TenantConfig
from callsync.delivery import SuppliedIdentity
from callsync.pipeline import engine
from callsync.pipeline.queue import REVIEW_WORKFLOW, SYNC_QUEUE, SYNC_WORKFLOW, queue_client, workflow_id_for
from callsync.pipeline.review import review_workflow_id
from callsync.pipeline.worker import running_worker
from callsync.store.db import Database

DEFAULT_TIMEOUT_S = 120.0
_DONE = {"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED", "RETRIES_EXCEEDED"}


class WorkflowTimeout(Exception):
    """The workflow did not finish in time; it stays queued or running and may still complete."""


class _Handle(Protocol):
    """What both DBOS's in-process handle and its client's handle offer."""

    @property
    def workflow_id(self) -> str: ...
    def get_status(self) -> Any: ...
    def get_result(self) -> Any: ...


@contextmanager
def _enqueued(db: Database, tenants: dict[str, TenantConfig], run_here: bool, options: EnqueueOptions,
              *args: Any) -> Iterator[_Handle]:  # fmt: skip
    """Enqueue a workflow and hand back its handle. `run_here`: this process also works the queue (the CLI,
    with or without a server running); otherwise only the workers already running on the database do."""
    if not run_here:
        client = queue_client(db)
        yield client.enqueue(options, *args)
        return
    with running_worker(engine.Runtime(db, tenants)):
        yield DBOS.enqueue_workflow_with_options(options, *args)


def _wait(handle: _Handle, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        status = handle.get_status()
        if status is not None and status.status in _DONE:
            return handle.get_result()
        if time.monotonic() >= deadline:
            raise WorkflowTimeout(
                f"{what} did not finish within {timeout_s:.0f} s (workflow {handle.workflow_id} is "
                f"{status.status.lower() if status else 'unknown'}); it stays queued and may still complete: "
                "check `callsync status`"
            )
        time.sleep(0.1)


def apply_review_decision(
    db: Database,
    tenants: dict[str, TenantConfig],
    item_id: int,
    partition: str,
    value: Any,
    decision: str,
    attempt: int,
    *,
    reviewer: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    run_here: bool = True,
) -> str:
    """Write a reviewer's value through the delivery path; returns approved | corrected | failed | refused: ...
    `reviewer` names who decided (kept on the ledger row)."""
    options: EnqueueOptions = {
        "queue_name": SYNC_QUEUE,
        "workflow_name": REVIEW_WORKFLOW,
        # A failed application leaves the item open; trying again needs a fresh workflow id.
        "workflow_id": review_workflow_id(item_id, attempt),
        "queue_partition_key": partition,
    }
    with _enqueued(db, tenants, run_here, options, item_id, value, decision, reviewer) as handle:
        return str(_wait(handle, timeout_s, f"review item {item_id}"))


def sync_to_record(
    db: Database,
    tenants: dict[str, TenantConfig],
    tenant: str,
    call_id: str,
    item_id: int,
    record_id: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    run_here: bool = True,
) -> str:
    """Re-run a call's sync against the record a reviewer chose; returns the call's final sync state."""
    args = (tenant, call_id, record_id)
    return _resync(db, tenants, tenant, call_id, item_id, f"record:{record_id}", args, timeout_s, run_here)


def sync_with_identity(
    db: Database,
    tenants: dict[str, TenantConfig],
    tenant: str,
    call_id: str,
    item_id: int,
    supplied: SuppliedIdentity,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    run_here: bool = True,
) -> str:
    """Re-run the sync of a call that had nothing to match on, with the email/phone a reviewer supplied
    (ledgered with evidence source `reviewer`); returns the call's final sync state."""
    args = (tenant, call_id, None, supplied.model_dump(mode="json"))
    # Serialized with whoever else may be writing this person.
    partition = f"identity:{supplied.email or supplied.phone}"
    return _resync(db, tenants, tenant, call_id, item_id, partition, args, timeout_s, run_here)


def link_waiting_object(
    db: Database,
    tenants: dict[str, TenantConfig],
    tenant: str,
    call_id: str,
    item_id: int,
    object_name: str,
    record_id: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    run_here: bool = True,
) -> str:
    """Re-run a call's sync, linking the existing record a reviewer chose for an object the call could not
    create (a waiting object) to the call's records; returns the call's final sync state."""
    args = (tenant, call_id, None, None, {object_name: record_id})
    return _resync(db, tenants, tenant, call_id, item_id, f"record:{record_id}", args, timeout_s, run_here)


def _resync(
    db: Database,
    tenants: dict[str, TenantConfig],
    tenant: str,
    call_id: str,
    item_id: int,
    partition: str,
    args: tuple[Any, ...],
    timeout_s: float,
    run_here: bool,
) -> str:
    """Re-run a call's sync with a reviewer's answer (review item `item_id`) in `args`, and wait for its
    final state: one workflow id per item, on the partition that serializes it with the record's writers."""
    options: EnqueueOptions = {
        "queue_name": SYNC_QUEUE,
        "workflow_name": SYNC_WORKFLOW,
        "workflow_id": f"{workflow_id_for(tenant, call_id)}:review{item_id}",
        "queue_partition_key": partition,
    }
    with _enqueued(db, tenants, run_here, options, *args) as handle:
        return str(_wait(handle, timeout_s, f"the sync of call {call_id}"))
