"""In-process counters for /metrics: CRM HTTP requests by CRM and status code.

Multi-process: with PROMETHEUS_MULTIPROC_DIR set (a directory emptied before the processes start, shared
by `callsync serve` and every `callsync worker` of a host), prometheus-client writes each process's counts
to files there and /metrics sums them (docs/operations.md). Without it, /metrics shows the counts of the
process that answers (the serve process and its in-process workers)."""

from __future__ import annotations

from prometheus_client import Counter

CRM_REQUESTS = Counter(
    "callsync_crm_requests",
    "HTTP requests sent to a CRM, by CRM and status code (0: no answer).",
    ["crm", "status"],
)


def crm_request(crm: str, status: int) -> None:
    """Count one CRM request's answer (called by crm/http/transport.py for every answer)."""
    CRM_REQUESTS.labels(crm=crm, status=str(status)).inc()
