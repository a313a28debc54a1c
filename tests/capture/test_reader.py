"""Call files: every malformed call is named by file and line, and the good ones still come through."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callsync.capture.platforms.generic import parse_generic_call
from callsync.capture.reader import read_calls
from callsync.errors import InputError

CALL = {"call_id": "c-1", "turns": [{"speaker": "caller", "text": "hi"}]}


def test_json_lines_keep_each_line_verbatim_and_report_bad_lines(tmp_path: Path) -> None:
    good = json.dumps(CALL)
    f = tmp_path / "calls.jsonl"
    f.write_text(good + "\n\n{not json\n" + json.dumps(CALL | {"call_id": "c-2"}) + "\n")
    items = list(read_calls(f))
    assert [i.line for i in items] == [1, 3, 4]
    assert items[0].text == good
    assert items[1].error is not None and str(items[1].error).startswith(f"{f}:3: malformed JSON")
    assert items[2].payload["call_id"] == "c-2"


def test_json_list_items_know_their_line(tmp_path: Path) -> None:
    f = tmp_path / "calls.json"
    f.write_text("[\n" + json.dumps(CALL) + ",\n" + json.dumps(CALL | {"call_id": "c-2"}) + "\n]\n")
    items = list(read_calls(f))
    assert [(i.line, i.payload["call_id"]) for i in items] == [(2, "c-1"), (3, "c-2")]
    assert json.loads(items[1].text)["call_id"] == "c-2"


def test_single_pretty_printed_object(tmp_path: Path) -> None:
    f = tmp_path / "call.json"
    f.write_text(json.dumps(CALL, indent=2))
    (item,) = read_calls(f)
    assert item.payload == CALL and item.line == 1


def test_missing_and_empty_files_are_errors(tmp_path: Path) -> None:
    (missing,) = read_calls(tmp_path / "nope.json")
    assert missing.error is not None and "cannot read" in str(missing.error)
    (tmp_path / "empty.json").write_text("  \n")
    (empty,) = read_calls(tmp_path / "empty.json")
    assert empty.error is not None


def test_invalid_call_names_file_line_and_field() -> None:
    bad = CALL | {"turns": [{"speaker": "robot", "text": "hi"}]}
    with pytest.raises(InputError) as info:
        parse_generic_call(bad, source="calls.jsonl", line=7)
    assert str(info.value).startswith("calls.jsonl:7: turns.0.speaker:")


def test_missing_call_id_is_named() -> None:
    with pytest.raises(InputError) as info:
        parse_generic_call({"turns": []}, source="x.json", line=1)
    assert info.value.field == "call_id"


def test_unknown_keys_such_as_gold_are_kept_in_raw_but_ignored() -> None:
    record = parse_generic_call(CALL | {"gold": {"email": "x"}})
    assert record.raw["gold"] == {"email": "x"}
