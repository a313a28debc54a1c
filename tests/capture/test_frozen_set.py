"""The frozen held-out sets (issue 13) stay frozen: their checksums match, every call parses, every gold is
complete, the first holds at least 300 calls from the sources tests/data/README.md cites, and the second
(`frozen-asr-calls.jsonl`) carries the recognizer's word lists in the shape the word-confidence reader
takes, with gold that is the builder's script, not what the recognizer heard."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from callsync.capture.extract.word_confidence import doubtful_words
from callsync.capture.platforms.generic import parse_generic_call

DATA = Path(__file__).resolve().parent.parent / "data"
FROZEN = DATA / "frozen-calls.jsonl"
FROZEN_ASR = DATA / "frozen-asr-calls.jsonl"
GOLD_KEYS = {
    "full_name", "first_name", "last_name", "email", "phone", "company", "job_title", "amount", "currency",
    "date", "time", "intent", "outcome", "sentiment", "planted",
}  # fmt: skip
CITED = ("CamRest676", "WOZ 2.0", "Taskmaster-1", "Taskmaster-2", "Taskmaster-3", "MultiWOZ 2.1", "ABCD")


@pytest.mark.parametrize("frozen", [FROZEN, FROZEN_ASR], ids=lambda p: p.name)
def test_the_frozen_file_matches_its_committed_checksum(frozen: Path) -> None:
    expected = frozen.with_suffix(".sha256").read_text(encoding="utf-8").split()
    assert expected[1] == frozen.name
    assert hashlib.sha256(frozen.read_bytes()).hexdigest() == expected[0]


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


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_asr_call_parses_with_complete_gold_and_recognizer_words_on_caller_turns() -> None:
    rows = _rows(FROZEN_ASR)
    assert len(rows) >= 120
    assert len({r["call_id"] for r in rows}) == len(rows)
    for n, row in enumerate(rows, start=1):
        call = parse_generic_call(row, source=str(FROZEN_ASR), line=n)
        assert row["split"] == "frozen_asr"
        assert set(row["gold"]) >= GOLD_KEYS
        assert len(call.turns) == len(row["turns"])
        for turn in row["turns"]:
            if turn["speaker"] != "caller":
                assert "words" not in turn  # the agent's text is the bot's own, never recognized
                continue
            words = turn["words"]
            # As recognizers give it: lower case, no punctuation, the text is the word list.
            assert turn["text"] == " ".join(w["word"] for w in words)
            assert turn["text"] == turn["text"].lower()
            assert all(0.0 <= w["confidence"] <= 1.0 for w in words)
            assert all(turn["start"] <= w["start"] <= w["end"] <= turn["end"] + 0.05 for w in words)


def test_the_word_confidence_reader_finds_the_asr_word_lists() -> None:
    rows = _rows(FROZEN_ASR)
    doubted = [
        row["call_id"]
        for n, row in enumerate(rows, start=1)
        if doubtful_words(parse_generic_call(row, source=str(FROZEN_ASR), line=n))
    ]
    assert len(doubted) >= len(rows) // 2  # a real recognizer on phone audio doubts words in most calls


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_asr_calls", DATA / "build_asr_calls.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_asr_gold_is_the_builders_script_not_what_the_recognizer_heard() -> None:
    builder = _builder()
    scripts = builder.scripts(builder.TEMPLATES)
    rows = _rows(FROZEN_ASR)
    assert [r["call_id"] for r in rows] == [s.call_id for s in scripts]
    assert [r["gold"] for r in rows] == [s.gold for s in scripts]
    for row, script in zip(rows, scripts, strict=True):
        agent_said = [text for speaker, text in script.turns if speaker != "caller"]
        assert [t["text"] for t in row["turns"] if t["speaker"] != "caller"] == agent_said
