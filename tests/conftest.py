"""Shared fixtures: fresh SQLite databases, and fresh databases on the machine's real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import settings

from callsync.store.db import Database

# Property tests: `scripts/test` (and so CI) runs the "ci" profile, the same examples every run, so a
# landing is not decided by a counterexample drawn that day; a plain `pytest` explores new random
# examples each run ("explore"), which is where new counterexamples are found and then pinned with
# @example. Neither has a per-example deadline: speed is measured by the benchmarks, and a busy runner
# made a slow example fail a property that holds.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "explore"))

PG_ADMIN_URL = os.environ.get("CALLSYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def sqlite_db(tmp_path: object) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path}/callsync.db")
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A brand-new database on the real server, dropped afterwards. In CI a missing server is a failure."""
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL} (run scripts/ensure-postgres)")
    name = f"callsync_test_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin2:
            admin2.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
