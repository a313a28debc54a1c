"""The overview: counts and latency limited to the user's tenants, the latency chart as inline SVG."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from callsync.services.analytics import analytics, overview, percentile
from callsync.store.db import Database
from callsync.store.tables import CallRow, DeadLetterRow
from tests.web.helpers import add_user, signed_in


def _call(tenant: str, call_id: str, state: str, ended: datetime, synced: datetime | None) -> CallRow:
    return CallRow(tenant=tenant, call_id=call_id, platform="generic", direction="inbound", raw_payload="{}",
                   sync_state=state, workflow_id=f"sync:{tenant}:{call_id}", ended_at=ended,
                   received_at=ended, synced_at=synced)  # fmt: skip


def _seed(db: Database, now: datetime) -> None:
    with db.session() as s:
        for i in range(10):
            ended = now - timedelta(hours=1, minutes=i)
            s.add(_call("t1", f"a{i}", "confirmed", ended, ended + timedelta(seconds=i + 1)))
        s.add(_call("t1", "q1", "queued", now - timedelta(minutes=5), None))
        s.add(
            _call(
                "t2",
                "b1",
                "confirmed",
                now - timedelta(days=3),
                now - timedelta(days=3) + timedelta(seconds=500),
            )
        )
        s.add(DeadLetterRow(tenant="t2", crm="hubspot", call_id="b1", workflow_id="w", operation="write",
                            request={}, last_error="boom", attempts=3))  # fmt: skip


def test_percentile_by_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """Latency is computed by the database, with each dialect's own date arithmetic: check both."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_db")
        return
    db = Database(request.getfixturevalue("pg_url"))
    db.migrate()
    yield db
    db.dispose()


def test_overview_counts_and_latency_per_tenant(any_db: Database) -> None:
    sqlite_db = any_db
    now = datetime.now(UTC).replace(hour=12)
    _seed(sqlite_db, now)
    mine = overview(sqlite_db, ["t1"], now=now)
    assert (mine.calls_7d, mine.confirmed, mine.backlog, mine.dead_letters) == (11, 10, 1, 0)
    assert mine.latency_p50_s == 5.0 and mine.latency_p99_s == 10.0
    everyone = overview(sqlite_db, None, now=now)
    assert (everyone.calls_7d, everyone.confirmed, everyone.dead_letters) == (12, 11, 1)
    assert everyone.latency_p99_s == 500.0
    assert len(everyone.latency_days) == 14 and sum(d.calls for d in everyone.latency_days) == 11


def test_analytics_average_call_time_and_latency_per_day(any_db: Database) -> None:
    now = datetime.now(UTC).replace(hour=12)
    with any_db.session() as s:
        for i, seconds in enumerate((60, 120, 240)):
            ended = now - timedelta(hours=i + 1)
            row = _call("t1", f"c{i}", "confirmed", ended, ended + timedelta(seconds=2 * (i + 1)))
            row.started_at = ended - timedelta(seconds=seconds)
            s.add(row)
    seen = analytics(any_db, ["t1"], days=7, now=now)
    assert seen.average_call_s == pytest.approx(140.0, abs=0.01)
    today = seen.latency_days[-1]
    assert (today.calls, today.p50_s, today.p99_s) == (3, 4.0, 6.0)


def test_overview_page_renders_cards_and_an_svg_chart(sqlite_db: Database) -> None:
    _seed(sqlite_db, datetime.now(UTC))
    add_user(sqlite_db, "ana", "viewer", ["t1"])
    page = signed_in(sqlite_db, "ana").get("/")
    assert page.status_code == 200
    assert "calls, 7 days" in page.text and '<svg class="chart"' in page.text and 'class="line"' in page.text
