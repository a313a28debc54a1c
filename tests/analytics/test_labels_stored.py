"""A call's intent, outcome and sentiment are stored when it is prepared, so analytics count every call."""

from __future__ import annotations

from typing import Any

from callsync.services.analytics import analytics
from callsync.store.tables import CallRow
from tests.pipeline.test_engine import DANA, call_payload, make_harness

__all__ = ["make_harness"]


def test_labels_are_stored_on_the_call_and_counted_in_sql(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA))
    h.ingest(call_payload("c-2", ["this is the third time i'm calling, this is ridiculous, i want a refund"],
                          from_="+14155550199"))  # fmt: skip
    h.sync()
    rows = {r.call_id: r for r in h.rows(CallRow)}
    assert all(r.intent and r.outcome and r.sentiment for r in rows.values())
    seen = analytics(h.db, None, days=30)
    assert seen.labelled == 2
    assert sum(seen.intents.values()) == 2 and sum(seen.sentiments.values()) == 2
    assert (("t1", "c-2") in seen.frustrated_calls) == (rows["c-2"].sentiment == "frustrated")
