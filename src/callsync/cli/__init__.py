"""The `callsync` command. Every command takes `--db URL` (default CALLSYNC_DB_URL, then ./callsync.db).

One module per command group; importing them registers their commands on `app`.
"""

from callsync.cli import calls, demo, dlq, plan, policy, poll, quarantine, reconcile, review, serve, status
from callsync.cli.common import app

__all__ = [
    "app",
    "calls",
    "demo",
    "dlq",
    "main",
    "plan",
    "policy",
    "poll",
    "quarantine",
    "reconcile",
    "review",
    "serve",
    "status",
]


def main() -> None:
    app()
