"""The analytics page: calls per day, labels read from the transcripts, per-field review and correction
rates, limited to the user's tenants; bad parameters are 4xx."""

from __future__ import annotations

from typing import Any

from callsync.services import review
from callsync.services.analytics import analytics
from tests.reconcile.test_review import protected_company_item
from tests.web.helpers import add_user, signed_in


def test_analytics_counts_labels_and_correction_rates(make_harness: Any) -> None:
    h = make_harness()
    item = protected_company_item(h)
    review.reject(h.db, item.id, reviewer="rita", note="wrong")
    found = analytics(h.db, ["t1"], days=7)
    assert found.calls == 2 and found.labelled == 2
    assert sum(found.intents.values()) == 2 and sum(found.sentiments.values()) == 2
    (company,) = [f for f in found.fields if f.field == "company"]
    assert (company.reviewed, company.decided, company.corrected) == (1, 1, 1)
    assert company.corrected_rate == 1.0
    assert analytics(h.db, ["t2"], days=7).calls == 0
    assert analytics(h.db, ["t1"], days=7, tenant="t2").calls == 0  # a tenant outside the user's

    add_user(h.db, "ana", "viewer", ["t1"])
    c = signed_in(h.db, "ana")
    page = c.get("/analytics")
    assert page.status_code == 200 and "booking conversion" in page.text and "<svg" in page.text
    assert ">company<" in page.text
    assert c.get("/analytics?days=0").status_code == 400
    assert c.get("/analytics?days=abc").status_code == 400
    assert c.get("/analytics?tenant=t2").status_code == 404
