"""In-process counters for /metrics: CRM HTTP requests by CRM and status code, the circuit breaker's state,
requests it held back, and the time spent waiting for the rate limiter.

Multi-process: with PROMETHEUS_MULTIPROC_DIR set (a directory emptied before the processes start, shared
by `callsync serve` and every `callsync worker` of a host), prometheus-client writes each process's counts
to files there and /metrics sums them (docs/operations.md). Without it, /metrics shows the counts of the
process that answers (the serve process and its in-process workers)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CRM_REQUESTS = Counter(
    "callsync_crm_requests",
    "HTTP requests sent to a CRM, by CRM and status code (0: no answer).",
    ["crm", "status"],
)


def crm_request(crm: str, status: int) -> None:
    """Count one CRM request's answer (called by crm/http/transport.py for every answer)."""
    CRM_REQUESTS.labels(crm=crm, status=str(status)).inc()


CIRCUIT_OPEN = Gauge(
    "callsync_crm_circuit_open",
    "1 while the circuit breaker of a CRM is open (requests fail at once, one probe per cool-down).",
    ["crm"],
    multiprocess_mode="max",
)
CIRCUIT_REFUSED = Counter(
    "callsync_crm_circuit_refused",
    "Requests not sent because the CRM's circuit breaker was open.",
    ["crm"],
)
RATE_LIMIT_WAIT = Counter(
    "callsync_crm_rate_limit_wait_seconds",
    "Seconds requests waited for the CRM's rate limiter before they were sent.",
    ["crm"],
)


def circuit(crm: str, is_open: bool, refused: bool = False) -> None:
    """The breaker's state after a request (called by crm/http/transport.py)."""
    CIRCUIT_OPEN.labels(crm=crm).set(1 if is_open else 0)
    if refused:
        CIRCUIT_REFUSED.labels(crm=crm).inc()


def rate_limit_wait(crm: str, seconds: float) -> None:
    if seconds > 0:
        RATE_LIMIT_WAIT.labels(crm=crm).inc(seconds)
