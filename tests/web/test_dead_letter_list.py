"""The dead-letter and review pages with many items: limited in the query to the user's tenants and to one page
(the oldest first), with how many there are in all."""

from __future__ import annotations

import pytest

from callsync.services import dead_letters
from callsync.store.db import Database
from callsync.store.tables import DeadLetterRow, ReviewItemRow
from callsync.web import app as web_app
from tests.web.helpers import add_user, signed_in


def _seed(db: Database, per_tenant: int) -> None:
    with db.session() as s:
        for i in range(per_tenant):
            for tenant in ("t1", "t2"):
                s.add(DeadLetterRow(tenant=tenant, crm="sandbox", call_id=f"{tenant}-c{i}", workflow_id="w",
                                    operation="write", request={}, last_error="HTTP 503", attempts=3))  # fmt: skip


def test_listing_is_scoped_to_tenants_and_limited_oldest_first(sqlite_db: Database) -> None:
    _seed(sqlite_db, 5)
    mine = dead_letters.list_(sqlite_db, tenants=["t1"], limit=3)
    assert [d.call_id for d in mine] == ["t1-c0", "t1-c1", "t1-c2"]
    assert dead_letters.count(sqlite_db, tenants=["t1"]) == 5
    assert dead_letters.count(sqlite_db, tenants=None) == 10
    assert dead_letters.count(sqlite_db, tenants=[]) == 0


def test_page_shows_one_page_of_the_users_tenant_and_says_how_many(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(sqlite_db, 6)
    monkeypatch.setattr(web_app, "DEAD_LETTER_PAGE", 4)
    add_user(sqlite_db, "vic", "viewer", ["t2"])
    page = signed_in(sqlite_db, "vic").get("/dead-letters")
    assert page.status_code == 200
    assert page.text.count('href="/dead-letters/') == 4
    assert "t1-c" not in page.text and "t2-c0" in page.text and "t2-c5" not in page.text
    assert "The oldest 4 of 6" in page.text


def test_review_queue_pages_the_users_own_items_even_behind_older_ones_of_other_tenants(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite_db.session() as s:
        for i in range(5):  # another tenant's items come first
            s.add(ReviewItemRow(dedupe_key=f"t1:{i}", tenant="t1", call_id=f"t1-c{i}", kind="held_value",
                                reason="below threshold", field="company", proposed_value="Northwind", detail={}))  # fmt: skip
        for i in range(3):
            s.add(ReviewItemRow(dedupe_key=f"t2:{i}", tenant="t2", call_id=f"t2-c{i}", kind="held_value",
                                reason="below threshold", field="company", proposed_value="Northwind", detail={}))  # fmt: skip
    monkeypatch.setattr(web_app, "REVIEW_PAGE", 2)
    add_user(sqlite_db, "bea", "reviewer", ["t2"])
    page = signed_in(sqlite_db, "bea").get("/review")
    assert page.status_code == 200
    assert "t2-c0" in page.text and "t2-c1" in page.text and "t2-c2" not in page.text and "t1-c" not in page.text
    assert "The oldest 2 of 3" in page.text
