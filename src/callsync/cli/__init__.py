"""The `callsync` command. Every command takes `--db URL` (default CALLSYNC_DB_URL, then ./callsync.db).

One module per command group; importing them registers their commands on `app`. Commands that need the
CRM emulators (`demo`, `sandbox`) come from the `callsync_sandbox` package through the
`callsync.commands` entry point, so the product itself never imports the emulators.
"""

import os
from importlib.metadata import entry_points

from callsync.cli import (
    actions,
    calls,
    contract,
    dlq,
    housekeeping,
    mapping,
    plan,
    policy,
    poll,
    privacy,
    quarantine,
    reconcile,
    review,
    schema,
    serve,
    status,
    users,
)
from callsync.cli.common import DEBUG_ENV, app, err

for _plugin in entry_points(group="callsync.commands"):
    try:
        _plugin.load()  # importing the module registers its commands on `app`
    except Exception as _exc:  # a broken plugin costs its own commands, not the whole CLI
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        err.print(f"[yellow]warning:[/yellow] the {_plugin.name!r} commands are not available: "
                  f"{type(_exc).__name__}: {_exc}")  # fmt: skip

__all__ = [
    "actions",
    "app",
    "calls",
    "contract",
    "dlq",
    "housekeeping",
    "main",
    "mapping",
    "plan",
    "policy",
    "poll",
    "privacy",
    "quarantine",
    "reconcile",
    "review",
    "schema",
    "serve",
    "status",
    "users",
]


def main() -> None:
    app()
