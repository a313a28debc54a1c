"""The `callsync` command. Every command takes `--db URL` (default CALLSYNC_DB_URL, then ./callsync.db).

One module per command group; importing them registers their commands on `app`.
"""

from callsync.cli import calls, demo, plan, policy, review, status
from callsync.cli.common import app

__all__ = ["app", "calls", "demo", "main", "plan", "policy", "review", "status"]


def main() -> None:
    app()
