"""What the queue is waiting for: the view behind `callsync status` during an outage or a 429 storm.

Calls stay `queued` until their sync finishes. Among them, a running sync may be asleep (a durable DBOS
sleep) after a failed attempt: waiting out a CRM that does not answer, or a rate limit. That is read from
DBOS's own records: the workflow's last step is the sleep, the step before it the attempt's outcome.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select

from callsync.delivery import Outcome, Status
from callsync.pipeline.engine import FirstAttempt, is_outage
from callsync.pipeline.queue import SYNC_QUEUE, queue_client
from callsync.store.db import Database
from callsync.store.tables import CallRow, aware_utc

_SLEEP = "DBOS.sleep"


@dataclass(frozen=True)
class BacklogView:
    queued: int
    oldest_queued_s: int  # age of the oldest call still waiting for its sync (0: none)
    running: int  # syncs started and not asleep
    waiting_retry: int  # asleep after a failed attempt (the CRM down or failing, a partial write)
    waiting_outage: int  # of those, asleep because the CRM did not answer or answered 5xx
    waiting_rate_limit: int  # asleep after a 429 (or the vendor's equivalent)
    next_retry_s: int | None  # seconds until the first sleeping sync tries again
    last_error: str | None  # the newest error among the sleeping syncs

    def status_keys(self) -> dict[str, int]:
        """The keys `callsync status --json` adds to its counts."""
        return {
            "oldest_queued_s": self.oldest_queued_s,
            "waiting_retry": self.waiting_retry,
            "waiting_rate_limit": self.waiting_rate_limit,
        }


def backlog_view(db: Database) -> BacklogView:
    with db.session() as session:
        queued, oldest = session.execute(
            select(func.count(), func.min(CallRow.received_at)).where(CallRow.sync_state == "queued")
        ).one()
    oldest_s = int((datetime.now(UTC) - aware_utc(oldest)).total_seconds()) if oldest is not None else 0
    running = retry = outage = rate = 0
    wakes: list[float] = []
    newest_error: tuple[float, str] | None = None
    if queued:
        for steps in _pending_steps(db):
            waiting = _waiting(steps)
            if waiting is None:
                running += 1
                continue
            wake, outcome = waiting
            wakes.append(wake)
            if outcome is not None and outcome.status is Status.RATE_LIMITED:
                rate += 1
            else:
                retry += 1
                outage += outcome is not None and is_outage(outcome)
            if outcome is not None and outcome.error and (newest_error is None or wake > newest_error[0]):
                newest_error = (wake, outcome.error)
    now = time.time()
    return BacklogView(
        queued=int(queued),
        oldest_queued_s=max(0, oldest_s),
        running=running,
        waiting_retry=retry,
        waiting_outage=outage,
        waiting_rate_limit=rate,
        next_retry_s=max(0, int(min(wakes) - now)) if wakes else None,
        last_error=newest_error[1] if newest_error else None,
    )


def _pending_steps(db: Database) -> list[list[Any]]:
    client = queue_client(db)
    pending = client.list_workflows(
        status="PENDING", queue_name=SYNC_QUEUE, load_input=False, load_output=False
    )
    return [list(client.list_workflow_steps(w.workflow_id)) for w in pending]


def _waiting(steps: list[Any]) -> tuple[float, Outcome | None] | None:
    """(wake time, the attempt outcome it waits after) when the workflow's newest step is a sleep not yet
    over."""
    if not steps or steps[-1]["function_name"] != _SLEEP:
        return None
    wake = steps[-1]["output"]
    if not isinstance(wake, int | float) or wake <= time.time():
        return None
    for step in reversed(steps[:-1]):
        output = step["output"]
        try:
            if isinstance(output, dict) and {"state", "prepared"} <= output.keys():  # the call's first step
                return float(wake), FirstAttempt.model_validate(output).outcome
            if isinstance(output, dict) and "status" in output:
                return float(wake), Outcome.model_validate(output)
        except ValidationError:
            return float(wake), None  # recorded by another version of the pipeline
    return float(wake), None
