"""Prometheus metrics (metrics.py: the few counters only a running process knows) and the feedback loop.

Most of /metrics is computed from the database at scrape time (web/metrics.py), so it is the same whichever
process answers; this package holds only what must be counted where it happens (CRM requests by status).
It imports nothing of callsync: the CRM transport calls it, and it must not pull anything back in."""
