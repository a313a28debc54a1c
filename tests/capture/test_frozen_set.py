"""The frozen held-out set (issue 13) stays frozen: its checksum matches, every call parses, every gold is
complete, and it holds at least 300 calls from the sources tests/data/README.md cites."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from callsync.capture.platforms.generic import parse_generic_call

DATA = Path(__file__).resolve().parent.parent / "data"
FROZEN = DATA / "frozen-calls.jsonl"
GOLD_KEYS = {
    "full_name", "first_name", "last_name", "email", "phone", "company", "job_title", "amount", "currency",
    "date", "time", "intent", "outcome", "sentiment", "planted",
}  # fmt: skip
CITED = ("CamRest676", "WOZ 2.0", "Taskmaster-1", "Taskmaster-2", "Taskmaster-3", "MultiWOZ 2.1", "ABCD")


def test_the_frozen_file_matches_its_committed_checksum() -> None:
    expected = (DATA / "frozen-calls.sha256").read_text(encoding="utf-8").split()[0]
    assert hashlib.sha256(FROZEN.read_bytes()).hexdigest() == expected


def test_every_frozen_call_parses_and_has_complete_gold() -> None:
    rows = [json.loads(line) for line in FROZEN.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 300
    assert len({r["call_id"] for r in rows}) == len(rows)
    for n, row in enumerate(rows, start=1):
        parse_generic_call(row, source=str(FROZEN), line=n)
        assert row["split"] == "frozen"
        assert set(row["gold"]) >= GOLD_KEYS


def test_every_source_is_cited_in_the_readme() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in FROZEN.read_text(encoding="utf-8").splitlines() if line.strip()]
    used = {next(c for c in CITED if r["source"].startswith(c)) for r in rows}
    assert used == set(CITED)
    assert all(name in readme for name in CITED)
