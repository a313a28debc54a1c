"""Replaying dead letters: a fresh sync of the call, enqueued in the transaction that reopens it.

The new workflow (`sync:<tenant>:<call>:replay<dead letter id>`) re-runs the call's sync from its first
step (extraction included, so a fixed bug or mapping takes effect), on the call's own queue partition, with
the arguments of the call's newest sync (a reviewer may have pinned the record). Reading and settling dead
letters: `trust/dead_letters.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from callsync.pipeline.queue import SYNC_WORKFLOW, enqueue_in, queue_client
from callsync.store.db import Database
from callsync.store.tables import CallRow, DeadLetterRow
from callsync.trust.dead_letters import OPEN, REPLAYING, replay_workflow_id


@dataclass(frozen=True)
class Replay:
    dead_letter_id: int
    tenant: str
    call_id: str
    workflow_id: str
    queued: bool  # False: not replayed, `reason` says why
    reason: str = ""


def replay(db: Database, dead_letter_ids: list[int]) -> list[Replay]:
    """Queue a fresh sync of each dead letter's call (only open dead letters). Nothing runs here: a worker
    (`callsync sync`, or `callsync dlq replay` itself) picks the workflows up."""
    results: list[Replay] = []
    client = queue_client(db)
    for dead_letter_id in dead_letter_ids:
        with db.session() as session:
            row = session.get(DeadLetterRow, dead_letter_id, with_for_update=True)
            if row is None:
                results.append(Replay(dead_letter_id, "", "", "", False, "no such dead letter"))
                continue
            new_id = replay_workflow_id(row.workflow_id, row.id)
            if row.status != OPEN:
                results.append(
                    Replay(
                        row.id, row.tenant, row.call_id, new_id, False, f"it is {row.status}, not open"
                    )
                )
                continue
            call = session.scalars(
                select(CallRow).filter_by(tenant=row.tenant, call_id=row.call_id).with_for_update()
            ).one_or_none()
            if call is None:
                results.append(Replay(row.id, row.tenant, row.call_id, new_id, False, "the call is gone"))
                continue
            args, partition = _original_inputs(client, row.workflow_id, row.tenant, row.call_id, call)
            enqueue_in(client, session, workflow=SYNC_WORKFLOW, workflow_id=new_id, partition=partition,
                       args=args)  # fmt: skip
            row.status = REPLAYING
            call.sync_state = "queued"
            call.synced_at = None
            results.append(Replay(row.id, row.tenant, row.call_id, new_id, True))
    return results


def _original_inputs(
    client: Any, workflow_id: str, tenant: str, call_id: str, call: CallRow
) -> tuple[tuple[Any, ...], str]:
    """The arguments of the call's newest sync workflow (a reviewer may have pinned the record), and the
    queue partition that serializes it with the caller's other calls."""
    runs = [
        w
        for w in client.list_workflows(workflow_id_prefix=workflow_id, load_input=True, load_output=False)
        if w.workflow_id == workflow_id or w.workflow_id.startswith(f"{workflow_id}:")
    ]
    runs.sort(key=lambda w: w.created_at or 0)
    args: tuple[Any, ...] = (tenant, call_id)
    if runs and runs[-1].input and runs[-1].input.get("args"):
        args = tuple(runs[-1].input["args"])
    forced = args[2] if len(args) > 2 else None
    partition = f"record:{forced}" if forced else (call.identity_key or f"call:{call_id}")
    return args, partition
