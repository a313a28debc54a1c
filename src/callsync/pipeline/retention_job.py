"""The scheduled retention run inside a worker process: a small daemon thread that applies every tenant's
`retention` limits once at start and then every `interval_s` (docs/privacy.md).

Several workers may run it at once: each run only touches calls not yet reduced (its updates are guarded by
the `*_removed_at` markers), so a second run finds nothing left to do. A failed run is logged (masked) and
retried at the next interval; it never stops the worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

from callsync.config import TenantConfig
from callsync.redaction import mask_contacts
from callsync.store.db import Database
from callsync.store.privacy import apply_retention

DEFAULT_INTERVAL_S = 3600.0
_log = logging.getLogger("callsync.retention")


class RetentionJob:
    """The thread and its stop signal. `runs` counts finished runs (tests wait on it)."""

    def __init__(self, db: Database, tenants: Mapping[str, TenantConfig], interval_s: float) -> None:
        self.db = db
        self.tenants = dict(tenants)
        self.interval_s = interval_s
        self.runs = 0
        self.failures = 0
        self.ran = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="callsync-retention", daemon=True)

    def start(self) -> RetentionJob:
        self._thread.start()
        return self

    def run_once(self) -> None:
        try:
            now = datetime.now(UTC)
            for tenant in self.tenants.values():
                payloads_before, transcripts_before = tenant.retention.cutoffs(now)
                if payloads_before is None and transcripts_before is None:
                    continue
                counts = apply_retention(self.db, tenant.name, payloads_before=payloads_before,
                                         transcripts_before=transcripts_before, actor="worker")  # fmt: skip
                if counts.total():
                    _log.info("retention %s: %s", tenant.name, counts)
        except Exception as exc:  # a failed run waits for the next interval, the worker carries on
            self.failures += 1
            _log.warning("retention run failed: %s", mask_contacts(f"{type(exc).__name__}: {exc}"))
        finally:
            self.runs += 1
            self.ran.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)


def start_retention_job(
    db: Database, tenants: Mapping[str, TenantConfig], *, interval_s: float = DEFAULT_INTERVAL_S
) -> RetentionJob | None:
    """Start the job when some tenant has retention limits (None otherwise: nothing to schedule)."""
    if not any(t.retention.payloads or t.retention.transcripts for t in tenants.values()):
        return None
    return RetentionJob(db, tenants, interval_s).start()


@contextmanager
def retention_running(
    db: Database, tenants: Mapping[str, TenantConfig], *, interval_s: float = DEFAULT_INTERVAL_S
) -> Iterator[RetentionJob | None]:
    """The job for the duration of a `with` block (a worker's lifetime)."""
    job = start_retention_job(db, tenants, interval_s=interval_s)
    try:
        yield job
    finally:
        if job is not None:
            job.stop()
