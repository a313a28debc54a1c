"""The weekly spot check and the feedback page, through the dashboard."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from callsync.services.analytics import iso_week
from callsync.store.tables import SpotCheckRow
from tests.pipeline.test_engine import DANA, call_payload
from tests.web.helpers import add_user, signed_in, token


def test_draw_mark_and_chart_the_error_rate(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    add_user(h.db, "rita", "reviewer", ["t1"])
    add_user(h.db, "vic", "viewer", ["t1"])
    add_user(h.db, "bea", "reviewer", ["t2"])
    c = signed_in(h.db, "rita")
    week = iso_week(datetime.now(UTC))
    assert c.post("/spot-check/draw", data={"csrf": token(c), "week": week}).status_code == 303
    checks = h.rows(SpotCheckRow)
    assert checks and all(s.week == week and s.tenant == "t1" for s in checks)
    first, second = checks[0], checks[-1]
    assert c.post(f"/spot-check/{first.id}/mark", data={"csrf": token(c), "verdict": "wrong"}).status_code == 303
    assert c.post(f"/spot-check/{second.id}/mark", data={"csrf": token(c), "verdict": "maybe"}).status_code == 400
    page = c.get("/spot-check")
    assert page.status_code == 200 and re.search(r"<td>[^<]*W\d\d</td><td>1</td><td>1</td>", page.text)
    assert "spot-check error rate per week" in page.text
    feedback = c.get("/feedback")
    assert feedback.status_code == 200 and "precision" in feedback.text

    viewer = signed_in(h.db, "vic")
    assert viewer.post(f"/spot-check/{first.id}/mark", data={"csrf": token(viewer), "verdict": "right"}).status_code == 403
    other = signed_in(h.db, "bea")
    assert other.post(f"/spot-check/{first.id}/mark", data={"csrf": token(other), "verdict": "right"}).status_code == 404
    assert f"check-{first.id}" not in other.get(f"/spot-check?week={week}").text
    assert c.get("/spot-check?week=<script>").status_code == 400
    assert c.post("/spot-check/draw", data={"csrf": token(c), "week": "nope"}).status_code == 400
    assert h.rows(SpotCheckRow)[0].verdict == "wrong"
