"""The dev task set (issue 13, tests/data/README.md): Schema-Guided Dialogue train dialogues one may tune
intent, outcome, date and time on, with gold read off the corpus's own dialogue acts by fixed rules."""

from __future__ import annotations

import calendar
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callsync.capture.extract import extract_call
from callsync.capture.platforms.generic import parse_generic_call

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data"
DEV_TASK = DATA / "dev-task-calls.jsonl"
DEV_TASK_ASR = DATA / "dev-task-asr-calls.jsonl"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _assert_matches_its_checksum(path: Path) -> None:
    """A frozen file is byte for byte what was committed with its checksum (`<name>.sha256` beside it)."""
    expected = path.with_suffix(".sha256").read_text(encoding="utf-8").split()[0]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == expected


def _sources_elsewhere(path: Path) -> set[str | None]:
    """The dialogue sources of every other set in tests/data."""
    return {r.get("source") for f in DATA.glob("*-calls.jsonl") if f != path for r in _rows(f)}


def test_every_dev_task_call_parses_and_comes_from_the_sgd_train_split() -> None:
    rows = _rows(DEV_TASK)
    assert len(rows) >= 300
    assert len({r["call_id"] for r in rows}) == len(rows)
    for n, row in enumerate(rows, start=1):
        parse_generic_call(row, source=str(DEV_TASK), line=n)
        assert row["split"] == "dev_task"
        assert row["source"].startswith("SGD train ")  # never the reserved SGD test split
        assert row["gold"]["intent"] in ("booking", "sales", "inquiry")
        assert "sentiment" not in row["gold"]  # unlabelled, not scored


def test_the_spoken_dev_task_calls_are_recognizer_words_with_the_typed_calls_gold() -> None:
    typed = {r["call_id"]: r for r in _rows(DEV_TASK)}
    rows = _rows(DEV_TASK_ASR)
    assert len(rows) >= 150
    for n, row in enumerate(rows, start=1):
        parse_generic_call(row, source=str(DEV_TASK_ASR), line=n)
        assert row["split"] == "dev_task_asr"
        assert row["gold"] == typed[row["call_id"].removeprefix("asr-")]["gold"]
        for turn in row["turns"]:
            assert (turn["speaker"] == "caller") == ("words" in turn)


def _builder() -> ModuleType:
    return _load("build_task_calls", DATA / "build_task_calls.py")


def _turn(
    speaker: str, text: str, *acts: tuple[str, str, list[str]], state: dict[str, Any] | None = None
) -> Any:
    frame: dict[str, Any] = {
        "service": "Restaurants_1",
        "actions": [{"act": a, "slot": s, "values": v} for a, s, v in acts],
    }
    if speaker == "USER":
        frame["state"] = state or {"active_intent": "FindRestaurants", "slot_values": {}}
    return {"speaker": speaker, "utterance": text, "frames": [frame]}


def _reservation(date_said: list[str], *, success: bool = True) -> dict[str, Any]:
    booking = {"active_intent": "ReserveRestaurant", "slot_values": {"date": date_said, "time": ["6 pm"]}}
    last = ("NOTIFY_SUCCESS", "", []) if success else ("NOTIFY_FAILURE", "", [])
    return {
        "dialogue_id": "1_00000",
        "services": ["Restaurants_1"],
        "turns": [
            _turn("USER", "Find me a place to eat.", ("INFORM_INTENT", "intent", ["FindRestaurants"])),
            _turn(
                "SYSTEM", "Would you like a reservation?", ("OFFER_INTENT", "intent", ["ReserveRestaurant"])
            ),
            _turn("USER", "Yes.", ("AFFIRM_INTENT", "", []), state=booking),
            _turn("SYSTEM", "Please confirm.", ("CONFIRM", "date", date_said[:1])),
            _turn("USER", "Yes.", ("AFFIRM", "", []), state=booking),
            _turn("SYSTEM", "Done.", last),
        ],
    }


def test_a_reservation_the_agent_offered_and_made_is_a_booking_with_its_date_and_time() -> None:
    gold = _builder().gold_of(_reservation(["March 3rd"]))
    assert (gold["intent"], gold["outcome"], gold["date"], gold["time"]) == (
        "booking",
        "appointment_booked",
        "2024-03-03",
        "18:00",
    )


def test_a_reservation_not_made_has_no_date_and_no_outcome_label() -> None:
    gold = _builder().gold_of(_reservation(["March 3rd"], success=False))
    assert gold["intent"] == "booking" and gold["date"] is None and "outcome" not in gold


def test_a_date_whose_wordings_disagree_or_say_next_weekday_is_left_unlabelled() -> None:
    assert "date" not in _builder().gold_of(_reservation(["tomorrow", "Saturday this week"]))
    assert "date" not in _builder().gold_of(_reservation(["next Monday"]))


def test_the_corpus_today_is_friday_the_first_of_march() -> None:
    b = _builder()
    assert b.resolve_date("1st of March") == b.resolve_date("today") == "2024-03-01"
    assert b.resolve_date("the 9th of this month") == "2024-03-09"
    assert b.resolve_date("Saturday") == b.resolve_date("tomorrow") == "2024-03-02"


@given(month=st.integers(3, 12), day=st.integers(1, 28), suffix=st.sampled_from(["", "st", "nd", "rd", "th"]))
def test_a_month_and_day_resolve_to_that_day_on_or_after_the_reference_day(
    month: int, day: int, suffix: str
) -> None:
    b = _builder()
    assert b.resolve_date(f"{calendar.month_name[month]} {day}{suffix}") == f"2024-{month:02d}-{day:02d}"


@given(hour=st.integers(1, 12), minute=st.sampled_from([0, 15, 30, 45]), half=st.sampled_from(["am", "pm"]))
def test_twelve_hour_times_resolve_to_the_twenty_four_hour_clock(hour: int, minute: int, half: str) -> None:
    said = f"{hour}:{minute:02d} {half}" if minute else f"{hour} {half}"
    expected = hour % 12 + (12 if half == "pm" else 0)
    assert _builder().resolve_time(said) == f"{expected:02d}:{minute:02d}"


def test_the_benchmark_leaves_a_label_the_set_does_not_label_unscored() -> None:
    bench = _load("bench_extraction", ROOT / "bench" / "extraction.py")
    row = _rows(DEV_TASK)[0]
    call = parse_generic_call(row, source="t", line=1)
    report = bench.score([bench.Result(row, call, extract_call(call))], "dev_task")
    assert sum(report.labels["sentiment"].values()) == 0
    assert sum(report.labels["intent"].values()) == 1


def test_the_frozen_task_set_matches_its_checksum_and_comes_from_the_sgd_dev_split() -> None:
    path = DATA / "frozen-task-calls.jsonl"
    _assert_matches_its_checksum(path)
    rows = _rows(path)
    assert len(rows) >= 250
    assert all(r["split"] == "frozen_task" and r["source"].startswith("SGD dev ") for r in rows)
    assert not {r["source"] for r in _rows(DEV_TASK)} & {r["source"] for r in rows}  # no dialogue in both


def test_the_spoken_frozen_task_set_matches_its_checksum_and_the_typed_gold() -> None:
    path = DATA / "frozen-task-asr-calls.jsonl"
    _assert_matches_its_checksum(path)
    typed = {r["call_id"]: r for r in _rows(DATA / "frozen-task-calls.jsonl")}
    rows = _rows(path)
    assert len(rows) >= 130
    for row in rows:
        assert row["split"] == "frozen_task_asr"
        assert row["gold"] == typed[row["call_id"].removeprefix("asr-")]["gold"]


def test_the_second_frozen_task_set_matches_its_checksum_and_shares_no_dialogue_with_the_first() -> None:
    path = DATA / "frozen-task-b-calls.jsonl"
    _assert_matches_its_checksum(path)
    rows = _rows(path)
    assert len(rows) >= 250 and all(r["split"] == "frozen_task_b" for r in rows)
    first = {r["source"] for r in _rows(DATA / "frozen-task-calls.jsonl")}
    assert not first & {r["source"] for r in rows}


def test_the_third_frozen_task_set_matches_its_checksum_and_shares_no_dialogue_with_the_first_two() -> None:
    path = DATA / "frozen-task-c-calls.jsonl"
    _assert_matches_its_checksum(path)
    rows = _rows(path)
    assert len(rows) >= 300 and all(r["split"] == "frozen_task_c" for r in rows)
    earlier = {
        r["source"] for f in ("frozen-task-calls.jsonl", "frozen-task-b-calls.jsonl") for r in _rows(DATA / f)
    }
    assert not earlier & {r["source"] for r in rows}
    # Most of it is calls of two services (a ride or the weather beside the arrangement).
    assert sum("+" in r["source"] for r in rows) >= 200


def test_the_second_dev_task_set_shares_no_dialogue_with_the_first_and_comes_from_the_train_split() -> None:
    rows = _rows(DATA / "dev-task-b-calls.jsonl")
    assert len(rows) >= 600
    assert all(r["split"] == "dev_task_b" and r["source"].startswith("SGD train ") for r in rows)
    assert not {r["source"] for r in _rows(DEV_TASK)} & {r["source"] for r in rows}


def test_the_third_dev_task_set_shares_no_dialogue_with_the_other_dev_sets() -> None:
    rows = _rows(DATA / "dev-task-c-calls.jsonl")
    assert len(rows) >= 1800
    assert all(r["split"] == "dev_task_c" and r["source"].startswith("SGD train ") for r in rows)
    earlier = {
        r["source"] for f in ("dev-task-calls.jsonl", "dev-task-b-calls.jsonl") for r in _rows(DATA / f)
    }
    assert not earlier & {r["source"] for r in rows}


def test_the_fourth_dev_task_set_shares_no_dialogue_with_the_other_dev_sets() -> None:
    rows = _rows(DATA / "dev-task-d-calls.jsonl")
    assert len(rows) >= 500
    assert all(r["split"] == "dev_task_d" and r["source"].startswith("SGD train ") for r in rows)
    earlier = {
        r["source"]
        for f in ("dev-task-calls.jsonl", "dev-task-b-calls.jsonl", "dev-task-c-calls.jsonl")
        for r in _rows(DATA / f)
    }
    assert not earlier & {r["source"] for r in rows}


def test_the_calibration_set_matches_its_checksum_and_shares_no_dialogue_with_the_dev_sets() -> None:
    path = DATA / "calib-task-calls.jsonl"
    _assert_matches_its_checksum(path)
    rows = _rows(path)
    assert len(rows) >= 500
    assert all(r["split"] == "calib_task" and r["source"].startswith("SGD train ") for r in rows)
    tuned = {
        r["source"].split()[2]
        for f in (
            "dev-task-calls.jsonl",
            "dev-task-b-calls.jsonl",
            "dev-task-c-calls.jsonl",
            "dev-task-d-calls.jsonl",
        )
        for r in _rows(DATA / f)
    }
    assert not tuned & {r["source"].split()[2] for r in rows}


@pytest.mark.parametrize("split", ["calib_task", "calib_task_b", "calib_task_c"])
def test_the_benchmark_refuses_to_print_a_calibration_sets_errors(
    split: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rules read on a calibration set's errors would make the confidence fitted on it optimistic."""
    bench = _load("bench_extraction", ROOT / "bench" / "extraction.py")
    assert bench.main([str(DATA / "labelled-calls.jsonl"), "--errors", split, "--no-speed"]) == 2
    assert split in capsys.readouterr().err


def test_the_fifth_dev_task_set_is_rental_cars_no_other_set_holds() -> None:
    rows = _rows(DATA / "dev-task-e-calls.jsonl")
    assert len(rows) >= 200
    assert all(r["split"] == "dev_task_e" and "(RentalCars_" in r["source"] for r in rows)
    others = _sources_elsewhere(DATA / "dev-task-e-calls.jsonl")
    assert not others & {r["source"] for r in rows}


def test_the_second_calibration_set_matches_its_checksum_and_shares_no_dialogue_with_any_other_set() -> None:
    path = DATA / "calib-task-b-calls.jsonl"
    _assert_matches_its_checksum(path)
    rows = _rows(path)
    assert len(rows) >= 500
    assert all(r["split"] == "calib_task_b" and r["source"].startswith("SGD train ") for r in rows)
    others = _sources_elsewhere(path)
    assert not others & {r["source"] for r in rows}


def test_the_sixth_dev_task_set_arranges_two_dated_things_in_no_other_sets_dialogues() -> None:
    path = DATA / "dev-task-f-calls.jsonl"
    rows = _rows(path)
    assert len(rows) >= 300
    assert all(r["split"] == "dev_task_f" and "+" in r["source"] for r in rows)
    assert not any("Hotels_1" in r["source"] or "Hotels_3" in r["source"] for r in rows)
    others = _sources_elsewhere(path)
    assert not others & {r["source"] for r in rows}


@pytest.mark.parametrize(
    ("name", "split"), [("frozen-task-d", "frozen_task_d"), ("calib-task-c", "calib_task_c")]
)
def test_the_dev_splits_rest_matches_its_checksum_and_shares_no_dialogue_with_any_other_set(
    name: str, split: str
) -> None:
    """The fourth held-out set and the third calibration set: SGD dev-split dialogues no other set holds."""
    path = DATA / f"{name}-calls.jsonl"
    _assert_matches_its_checksum(path)
    rows = _rows(path)
    assert len(rows) >= 400
    assert all(r["split"] == split and r["source"].startswith("SGD dev ") for r in rows)
    assert not _sources_elsewhere(path) & {r["source"] for r in rows}
    # Mostly calls of two or three services, so the first arrangement made is the one dated.
    assert sum("+" in r["source"] for r in rows) >= 400


def test_the_committed_calibration_is_what_the_fit_writes_from_the_dev_file_and_every_calibration_set(
    tmp_path: Path,
) -> None:
    """A rule change without a refit, or a calibration set left out of the fit, leaves confidence fitted to
    other rules or other calls than the ones it claims."""
    bench = _load("bench_extraction", ROOT / "bench" / "extraction.py")
    files = (
        DATA / "labelled-calls.jsonl",
        *(path for split, path, _held, _help in bench.SETS if split in bench.CALIBRATION_SPLITS),
    )
    assert {p.name for p in files} >= {"calib-task-c-calls.jsonl", "calib-task-b-calls.jsonl"}
    bench.fit_calibration(files, tmp_path / "fitted.py")
    fitted = _load("fitted_calibration", tmp_path / "fitted.py")
    from callsync.capture import calibration_data as committed

    assert fitted.STEPS == committed.STEPS
    assert fitted.LABEL_STEPS == committed.LABEL_STEPS
    assert fitted.FIELD_THRESHOLDS == committed.FIELD_THRESHOLDS


def test_the_seventh_dev_task_set_puts_a_dated_service_beside_one_that_arranges_no_date() -> None:
    path = DATA / "dev-task-g-calls.jsonl"
    rows = _rows(path)
    assert len(rows) >= 400
    companions = ("Calendar_1", "Travel_1", "Banks_1", "Media_1", "Music_1", "Music_2")
    assert all(r["split"] == "dev_task_g" and r["source"].startswith("SGD train ") for r in rows)
    assert all(any(c in r["source"] for c in companions) for r in rows)
    assert not any("Hotels_1" in r["source"] or "Hotels_3" in r["source"] for r in rows)
    assert not _sources_elsewhere(path) & {r["source"] for r in rows}


def test_the_eighth_dev_task_set_holds_calls_of_several_services_in_no_other_set() -> None:
    path = DATA / "dev-task-h-calls.jsonl"
    rows = _rows(path)
    assert len(rows) >= 300
    assert all(r["split"] == "dev_task_h" and r["source"].startswith("SGD train ") for r in rows)
    assert not any("Hotels_1" in r["source"] or "Hotels_3" in r["source"] for r in rows)
    assert not _sources_elsewhere(path) & {r["source"] for r in rows}
