"""Only a call's current workflow (or a rerun of it) decides the call's sync state."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from callsync.capture.platforms.generic import parse_generic_call
from callsync.delivery import Outcome, PreparedCall, ReviewRequest, Status
from callsync.pipeline.intake import receive_call
from callsync.store.db import Database
from callsync.store.ledger import record_outcome, workflow_and_parents
from callsync.store.tables import CallRow

CALL = {"call_id": "c-1", "turns": [{"speaker": "caller", "text": "hi"}]}
REVIEW = ReviewRequest(kind="no_identity", reason="nothing to match on")
PREPARED = PreparedCall(status=Status.REVIEW, review=REVIEW)
OUTCOME = Outcome(status=Status.REVIEW, review=REVIEW)


def state_after(db: Database, current: str, finishing: str) -> str:
    with db.session() as s:
        row = s.scalars(select(CallRow)).one()
        row.workflow_id, row.sync_state = current, "queued"
    record_outcome(db, "t", "hubspot", "c-1", finishing, PREPARED, OUTCOME)
    with db.session() as s:
        return s.scalars(select(CallRow)).one().sync_state


def test_an_older_sync_finishing_after_a_replan_leaves_the_call_queued(sqlite_db: Database) -> None:
    receive_call(sqlite_db, parse_generic_call(CALL, tenant="t"), json.dumps(CALL))
    assert state_after(sqlite_db, "sync:t:c-1:1", "sync:t:c-1") == "queued"


def test_the_current_workflow_and_its_reruns_set_the_state(sqlite_db: Database) -> None:
    receive_call(sqlite_db, parse_generic_call(CALL, tenant="t"), json.dumps(CALL))
    assert state_after(sqlite_db, "sync:t:c-1:1", "sync:t:c-1:1") == "review"
    assert state_after(sqlite_db, "sync:t:c-1", "sync:t:c-1:replay3") == "review"


@given(st.lists(st.text(alphabet="ab:1", max_size=4), min_size=1, max_size=5).map(":".join), st.text("ab:1"))
def test_a_workflow_speaks_for_its_own_id_and_every_id_it_extends_after_a_colon(finishing: str, other: str) -> None:
    # The UPDATE's IN list must say what `finishing == current or finishing.startswith(current + ":")` says.
    for current in (other, finishing, *workflow_and_parents(finishing)):
        expected = finishing == current or finishing.startswith(f"{current}:")
        assert (current in workflow_and_parents(finishing)) == expected
