"""Is any worker alive? Inferred from DBOS's own records, which keep no executor heartbeat.

A worker that runs the queue leaves traces: it dequeues workflows (their status row changes) and completes
steps. So while sync work is pending, the newest of those moments says whether anything is moving. A
workflow asleep before its next attempt is expected to be quiet until it wakes. With nothing pending there is
nothing to infer from: an idle worker and no worker look the same, and the verdict says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from callsync.pipeline.queue import SYNC_QUEUE, queue_client
from callsync.store.db import Database

STALL_AFTER_S = 60.0
_SLEEP = "DBOS.sleep"

Verdict = Literal["idle", "active", "stalled"]


@dataclass(frozen=True)
class Liveness:
    pending: int  # workflows of the sync queue enqueued or running
    last_progress_s: int | None  # seconds since one of them last moved (None: nothing pending)
    asleep: int  # of those, waiting before a retry whose time has not come yet
    stall_after_s: float = STALL_AFTER_S

    @property
    def verdict(self) -> Verdict:
        """`idle`: nothing pending (a worker may or may not run); `active`: something moved recently or a
        retry is scheduled; `stalled`: work is pending and nothing moved for `stall_after_s`: no worker is
        running it."""
        if self.pending == 0:
            return "idle"
        if self.asleep or (self.last_progress_s is not None and self.last_progress_s < self.stall_after_s):
            return "active"
        return "stalled"


def worker_liveness(
    db: Database, *, now: float | None = None, stall_after_s: float = STALL_AFTER_S
) -> Liveness:
    moment = time.time() if now is None else now
    client = queue_client(db)
    pending = client.list_workflows(
        status=["ENQUEUED", "PENDING"], queue_name=SYNC_QUEUE, load_input=False, load_output=False
    )
    newest_ms = 0
    asleep = 0
    for w in pending:
        newest_ms = max(newest_ms, w.updated_at or 0, w.created_at or 0)
        if w.status != "PENDING":
            continue
        steps = list(client.list_workflow_steps(w.workflow_id))
        for step in steps:
            newest_ms = max(
                newest_ms, step["completed_at_epoch_ms"] or 0, step["started_at_epoch_ms"] or 0
            )
        if steps and steps[-1]["function_name"] == _SLEEP:
            wake = steps[-1]["output"]
            if isinstance(wake, int | float) and wake > moment:
                asleep += 1
    last = int(max(0.0, moment - newest_ms / 1000)) if pending else None
    return Liveness(len(pending), last, asleep, stall_after_s)
