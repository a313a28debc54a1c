"""Refusals a user can act on, one line each. The CLI prints the message; the dashboard shows it."""

from __future__ import annotations


class ServiceError(Exception):
    """An operation refused or failed for a reason the user can act on."""


class NotFound(ServiceError):
    """No item, dead letter, quarantined payload or record with that id."""


class AlreadyDecided(ServiceError):
    """The item was already decided (approved, rejected, discarded ...)."""


class Unfinished(ServiceError):
    """Work was started but did not finish in the time allowed; it may still complete."""
