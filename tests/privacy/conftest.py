"""A database the demo filled (six calls of four callers, synced to the HubSpot sandbox), for privacy tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from callsync.store.db import Database

CALLSYNC = str(Path(sys.executable).with_name("callsync"))

# The demo's callers (src/callsync_sandbox demo calls): Dana called twice from one line.
DANA_EMAIL, DANA_PHONE = "dana.whitfield@northwind.com", "+14155550123"
DANA_CALLS = ("demo-001", "demo-004")
OTHER_CALLS = ("demo-002", "demo-003", "demo-005", "demo-006")
OTHER_NEEDLES = ("priya.raman@gmail.com", "tokafor@harborfreightlines.com", "+13125550142", "+16175550148")


def run_demo(url: str) -> None:
    done = subprocess.run([CALLSYNC, "demo", "--db", url], capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "template.db"
    run_demo(f"sqlite:///{path}")
    return path


@pytest.fixture
def demo_sqlite(demo_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh copy of the demo's SQLite database."""
    path = tmp_path / "callsync.db"
    shutil.copy(demo_template, path)
    db = Database(f"sqlite:///{path}")
    db.migrate()
    yield db
    db.dispose()
