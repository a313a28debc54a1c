"""Sensitive values never stored: cards, SSNs and a tenant's patterns are masked in the payload before the call
row is committed; dead-letter errors and review reasons never carry an email or phone."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from callsync.capture.platforms.generic import parse_generic_call
from callsync.config import TenantConfig
from callsync.delivery import Outcome, PreparedCall, Status
from callsync.pipeline.intake import receive_call
from callsync.store import ledger
from callsync.store.db import Database
from callsync.store.tables import CallRow, DeadLetterRow, ReviewItemRow

CARD, SSN = "4111 1111 1111 1111", "123-45-6789"


def _payload(call_id: str, *texts: str) -> dict[str, object]:
    return {"call_id": call_id, "platform": "generic", "direction": "inbound", "from": "+14155550123",
            "to": "+14155559876", "started_at": "2026-11-20T21:03:00Z", "ended_at": "2026-11-20T21:07:12Z",
            "turns": [{"speaker": "caller", "text": t} for t in texts]}  # fmt: skip


def test_cards_ssns_and_tenant_patterns_are_masked_before_the_call_row_is_committed(sqlite_db: Database) -> None:
    TenantConfig(name="clinic", redact_patterns=[r"MRN-\d+"])
    payload = _payload("c-1", f"my card is {CARD}", "it's four one one one one one one one one one one one one "
                       "one one one", f"social security {SSN}", "my chart is MRN-88213, order 1234")  # fmt: skip
    raw = json.dumps(payload)
    assert receive_call(sqlite_db, parse_generic_call(payload, tenant="clinic"), raw).status == "queued"
    with sqlite_db.session() as s:
        stored = s.scalars(select(CallRow.raw_payload)).one()
    texts = [t["text"] for t in json.loads(stored)["turns"]]
    assert texts == ["my card is [card]", "it's [card]", "social security [ssn]", "my chart is [redacted], order 1234"]
    path = Path(sqlite_db.url.removeprefix("sqlite:///"))
    data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # the file and its WAL
    assert CARD.encode() not in data and SSN.encode() not in data and b"MRN-88213" not in data


def test_a_payload_with_nothing_sensitive_is_stored_verbatim(sqlite_db: Database) -> None:
    raw = json.dumps(_payload("c-2", "hi, dana@northwind.com, budget 50000"), indent=1)
    receive_call(sqlite_db, parse_generic_call(json.loads(raw), tenant="t1"), raw)
    with sqlite_db.session() as s:
        assert s.scalars(select(CallRow.raw_payload)).one() == raw


def test_dead_letter_errors_and_review_reasons_are_stored_without_email_or_phone(sqlite_db: Database) -> None:
    outcome = Outcome(status=Status.DEAD_LETTER, error="400: contact dana@northwind.com / +14155550123 exists")
    with sqlite_db.session() as s:
        ledger._dead_letter(s, "t1", "hubspot", "c-1", "sync:t1:c-1", PreparedCall(status=Status.CONFIRMED), outcome)
        ledger._add_review(s, "t1", "c-1", "hubspot", "conflict", field="email", proposed_value=None,
                           current_value=None, detail={},
                           reason="email dana@northwind.com and phone (415) 555-0123 point to two records")  # fmt: skip
    with sqlite_db.session() as s:
        error = s.scalars(select(DeadLetterRow.last_error)).one()
        reason = s.scalars(select(ReviewItemRow.reason)).one()
    assert error == "400: contact [email] / [phone] exists"
    assert reason == "email [email] and phone [phone] point to two records"
