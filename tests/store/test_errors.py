"""A database blip is told apart from a bug by the exception's type, never its message."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest
from sqlalchemy import exc as sa

from callsync.store.errors import is_transient_database_error


def wrapped(orig: BaseException, cls: type[sa.DBAPIError] = sa.OperationalError) -> sa.DBAPIError:
    return cls("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    "error",
    [
        wrapped(psycopg.OperationalError("server closed the connection unexpectedly")),
        wrapped(psycopg.errors.TooManyConnections("sorry, too many clients already")),
        wrapped(psycopg.errors.SerializationFailure("could not serialize access"), sa.DBAPIError),
        wrapped(psycopg.errors.DeadlockDetected("deadlock detected"), sa.DBAPIError),
        wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator command")),
        sa.DisconnectionError("connection dropped"),
        psycopg.OperationalError("connection refused"),
    ],
)
def test_blips_are_transient(error: BaseException) -> None:
    assert is_transient_database_error(error)


@pytest.mark.parametrize(
    "error",
    [
        wrapped(psycopg.errors.UniqueViolation("duplicate key"), sa.IntegrityError),
        wrapped(psycopg.errors.UndefinedColumn("column does not exist"), sa.ProgrammingError),
        KeyError("boom"),
        ValueError("bad data"),
    ],
)
def test_bugs_and_bad_data_are_not(error: BaseException) -> None:
    assert not is_transient_database_error(error)
