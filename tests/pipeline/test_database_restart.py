"""A PostgreSQL restart in the middle of a run is a pause, not a loss: every call is confirmed once and
none is dead-lettered. The server restarted is a private throwaway cluster (initdb in a temporary
directory, its own port), so the machine's shared server and other tests never see it go away."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from callsync.config import DeliverySettings
from callsync.pipeline import engine
from callsync.pipeline.worker import drain, running_worker
from callsync.store.db import Database
from callsync.store.tables import DeadLetterRow
from tests.pipeline.test_database_blips import settle
from tests.pipeline.test_engine import CREATE, call_payload, make_harness

__all__ = ["make_harness"]

N = 24


def _binaries() -> Path | None:
    """The directory of initdb and pg_ctl: on PATH, or the newest Debian/Ubuntu server package."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A PostgreSQL cluster of its own, bound to 127.0.0.1 on a free port. PostgreSQL refuses to run as
    root, so under root (a container's CI) it runs as the `postgres` user the server package creates."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir, self.data, self.port = bin_dir, root / "data", _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.log = root / "server.log"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=timeout)

    def init(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"
        )

    def pg_ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data} "
            "-c fsync=off -c max_connections=100"
        )
        self._run(str(self.bin_dir / "pg_ctl"), action, "-D", str(self.data), "-w", "-t", "30",
                  "-l", str(self.log), "-o", options, *extra)  # fmt: skip

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def private_cluster() -> Iterator[Cluster]:
    bin_dir = _binaries()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("no PostgreSQL server binaries (initdb, pg_ctl): run scripts/ensure-postgres")
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl)")
    root = Path(tempfile.mkdtemp(prefix="callsync-pg-"))
    cluster = Cluster(bin_dir, root)
    try:
        cluster.init()
        cluster.pg_ctl("start")
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(root, ignore_errors=True)


def confirmed(url: str) -> int:
    with contextlib.suppress(psycopg.Error), psycopg.connect(url, connect_timeout=2) as conn:
        row = conn.execute("SELECT count(*) FROM calls WHERE sync_state = 'confirmed'").fetchone()
        return int(row[0]) if row else 0
    return 0


def test_a_server_restart_mid_run_loses_nothing_doubles_nothing_and_dead_letters_nothing(
    make_harness: Any, private_cluster: Cluster
) -> None:
    with psycopg.connect(private_cluster.admin_url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE callsync")
    url = private_cluster.admin_url.rsplit("/", 1)[0] + "/callsync"
    db = Database(url)
    db.migrate()
    # Each CRM request takes 150 ms, so the run lasts a few seconds and the restart comes in the middle.
    h = make_harness(
        {"rules": [{"path": ".*", "fault": "latency", "times": None, "latency": {"ms": 150}}]}, db=db
    )
    # Retries may wait out the restart (the harness default gives up after one second).
    h.tenant = h.tenant.model_copy(
        update={
            "delivery": DeliverySettings(
                max_attempts=3, base_delay_s=0.05, max_delay_s=0.5, outage_horizon_s=60
            )
        }
    )
    h.ingest(
        *(call_payload(f"r-{i}", [f"hi it's caller number {i}, calling about my order"], from_=f"+1415556{i:04d}")
          for i in range(N))
    )  # fmt: skip
    restarted: list[tuple[int, float]] = []

    def restart_when_the_run_is_under_way() -> None:
        # Once the CRM has seen the calls' create, their read-back, links and outcomes are still to come.
        # (Not "once two calls are confirmed": calls finishing together are recorded in one transaction, so
        # a batch's calls are confirmed all at once.)
        deadline = time.monotonic() + 30
        while h.sandbox.count_requests("POST", CREATE) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = confirmed(url)
        began = time.monotonic()
        private_cluster.pg_ctl("restart", "-m", "fast")
        restarted.append((before, time.monotonic() - began))

    restarter = threading.Thread(target=restart_when_the_run_is_under_way)
    restarter.start()
    try:
        with running_worker(engine.Runtime(db, {h.tenant.name: h.tenant}), poll_s=0.05):
            state = drain(db, timeout_s=40)
            # The queue's own bookkeeping of a step caught by the restart may still be retrying: it lands
            # while the worker runs, or its retries would outlive the test and the cluster.
            settle(url)
    finally:
        restarter.join(timeout=40)
    assert restarted, "the server must actually restart"
    before, _ = restarted[0]
    assert before < N, "the restart must come while calls are still in flight"
    assert (state.confirmed, state.queued, state.dead_letter) == (N, 0, 0)
    assert h.rows(DeadLetterRow) == []
    phones = sorted(c["properties"]["phone"] for c in h.contacts())
    assert phones == sorted(f"+1415556{i:04d}" for i in range(N)), "one record per caller"
    db.dispose()
