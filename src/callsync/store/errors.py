"""Which database errors are a blip (retry the work) and which are a bug or bad data (stop).

A restarted server, a connection killed by an administrator or a pooler, "too many clients", a
serialization failure or a deadlock between two workers, SQLite's "database is locked": the same work
succeeds a moment later, so it is retried, never dead-lettered. Classified by exception type, never by
message text.
"""

from __future__ import annotations

import psycopg
import psycopg.errors
from sqlalchemy import exc as sa

# psycopg's OperationalError covers connection failures, "too many clients" (TooManyConnections), admin
# shutdown / terminated connections (AdminShutdown), serialization failures and deadlocks
# (TransactionRollbackError subclasses).
_TRANSIENT_DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg.errors.SerializationFailure,
    psycopg.errors.DeadlockDetected,
)


class LockWaitTimeout(TimeoutError):
    """An identity lock stayed held by another sync for longer than a write attempt takes (store/locks.py):
    the attempt waits and tries again later, like any other blip."""


def is_transient_database_error(exc: BaseException) -> bool:
    """True for an error that the same database work would not meet a moment later."""
    if isinstance(exc, LockWaitTimeout):
        return True
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, sa.OperationalError | sa.InterfaceError):
            return (
                True  # SQLAlchemy wraps the driver's OperationalError/InterfaceError (incl. SQLite's locks)
            )
        return isinstance(exc.orig, _TRANSIENT_DRIVER_ERRORS)
    if isinstance(exc, sa.DisconnectionError | sa.TimeoutError | sa.PendingRollbackError):
        # A dropped connection, a pool checkout that timed out, or a connection invalidated under an open
        # transaction (it was killed): a new connection does the same work.
        return True
    return isinstance(exc, _TRANSIENT_DRIVER_ERRORS)
