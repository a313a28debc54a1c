"""What `callsync sandbox` knows of each CRM emulator, and its one error (each CRM's listing builds on it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from callsync_sandbox.faults import FaultPlan

__all__ = ["Emulator", "ListError"]


@dataclass(frozen=True)
class Emulator:
    """One CRM emulator as `callsync sandbox` shows it."""

    name: str  # the vendor's name
    default_object: str  # listed when --object is not given
    columns: tuple[str, ...]  # preferred columns, shown when the object has them
    connection: str  # the tenant config's crm keys that point callsync at it ({url}, {token_env})
    auth: str  # the header a client sends ({token})
    api: str  # the API's base path on the sandbox
    list_hint: str  # the vendor's own list request ({url}, {object})
    build: Callable[[str, FaultPlan | None], Any]


class ListError(Exception):
    """The sandbox could not be listed (nothing listening, token refused, unknown object); one line."""
