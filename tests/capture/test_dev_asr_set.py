"""The dev ASR set (issue 13, tests/data/README.md): recognizer text one may tune on. It is built from the
tuned-on labelled splits and from template calls of another seed and another name pool than the frozen ASR
set, so tuning on it spends neither the labelled holdout nor the frozen calls' names."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from callsync.capture.platforms.generic import parse_generic_call

DATA = Path(__file__).resolve().parent.parent / "data"
DEV_ASR = DATA / "dev-asr-calls.jsonl"
LABELLED = DATA / "labelled-calls.jsonl"


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_asr_calls_dev", DATA / "build_asr_calls.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_every_dev_asr_call_parses_and_its_caller_turns_are_recognizer_words() -> None:
    rows = _rows(DEV_ASR)
    assert len(rows) >= 150
    assert len({r["call_id"] for r in rows}) == len(rows)
    for n, row in enumerate(rows, start=1):
        call = parse_generic_call(row, source=str(DEV_ASR), line=n)
        assert row["split"] == "dev_asr"
        assert len(call.turns) == len(row["turns"])
        for turn in row["turns"]:
            if turn["speaker"] == "caller":
                assert turn["text"] == " ".join(w["word"] for w in turn["words"])
            else:
                assert "words" not in turn


def test_the_dev_set_spends_no_held_out_call() -> None:
    labelled = {r["call_id"]: r["split"] for r in _rows(LABELLED)}
    used = [r["call_id"].removeprefix("asr-") for r in _rows(DEV_ASR) if "-tpl-" not in r["call_id"]]
    assert used and all(labelled[c] in ("dev", "own") for c in used)  # never the labelled holdout


def test_the_dev_templates_draw_another_seed_and_names_the_frozen_templates_never_use() -> None:
    b = _builder()
    assert b.DEV_SEED != b.SEED
    assert not set(b.DEV_FIRST_NAMES) & set(b.FIRST_NAMES)
    assert not set(b.DEV_LAST_NAMES) & set(b.LAST_NAMES)
    scripts = b.dev_scripts(b.DEV_TEMPLATES)
    rows = _rows(DEV_ASR)
    assert [r["call_id"] for r in rows] == [s.call_id for s in scripts]
    assert [r["gold"] for r in rows] == [s.gold for s in scripts]  # gold is the script, not what was heard
    for s in scripts:
        if s.kind == "template":
            assert s.gold["first_name"] in b.DEV_FIRST_NAMES and s.gold["last_name"] in b.DEV_LAST_NAMES


def test_the_frozen_build_is_unchanged_by_the_dev_option() -> None:
    b = _builder()
    frozen = _rows(DATA / "frozen-asr-calls.jsonl")
    assert [s.call_id for s in b.scripts(b.TEMPLATES)] == [r["call_id"] for r in frozen]
