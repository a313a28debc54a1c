"""Several calls loaded in one transaction (`stored_calls`, gathered by the engine's group commit) read
exactly what each call's own load reads: first payload, format, source and later events, in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callsync.capture.platforms.generic import parse_generic_call
from callsync.pipeline.intake import receive_call
from callsync.store.db import Database
from callsync.store.events import stored_call, stored_calls
from callsync.store.tables import CallEventRow


def _fill(db: Database) -> list[tuple[str, str]]:
    db.migrate()
    keys = [("t1", "c-1"), ("t1", "c-2"), ("t2", "c-1")]  # one call id in two tenants
    for tenant, call_id in keys:
        call = {"call_id": call_id, "turns": [{"speaker": "caller", "text": f"hi from {tenant}"}]}
        receive_call(db, parse_generic_call(call, tenant=tenant), json.dumps(call), source=f"src-{tenant}")
    with db.session() as session:
        for n, (tenant, call_id) in enumerate([("t1", "c-2"), ("t2", "c-1"), ("t1", "c-2")]):
            session.add(CallEventRow(tenant=tenant, call_id=call_id, event_key=f"e{n}", payload=f"later {n}",
                                     revision=n + 1))  # fmt: skip
    return keys


def _same_as_alone(db: Database) -> None:
    keys = _fill(db)
    asked = [keys[2], keys[0], keys[1], keys[0]]  # any order, a call twice
    assert stored_calls(db, asked) == [stored_call(db, tenant, call_id) for tenant, call_id in asked]
    assert stored_calls(db, [("t1", "c-2")])[0].later == ["later 0", "later 2"]
    with pytest.raises(LookupError, match="c-9"):
        stored_calls(db, [("t1", "c-1"), ("t1", "c-9")])


def test_calls_loaded_together_read_what_each_loaded_alone_reads(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/calls.db")
    try:
        _same_as_alone(db)
    finally:
        db.dispose()


def test_calls_loaded_together_on_postgres(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        _same_as_alone(db)
    finally:
        db.dispose()
