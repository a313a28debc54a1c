"""Extraction benchmark: accepted-value precision and recall per field, review rate, calibration, speed.

    .venv/bin/python bench/extraction.py tests/data/labelled-calls.jsonl [--frozen tests/data/frozen-calls.jsonl]
        [--frozen-asr tests/data/frozen-asr-calls.jsonl] [--dev-asr tests/data/dev-asr-calls.jsonl] [--no-frozen]

First prints the two sets the extractor is tuned on -- the dev set (`labelled-calls.jsonl`) and the dev ASR
set (`dev-asr-calls.jsonl`: the labelled calls' tuned-on splits and template calls of another seed, their
caller turns run through the same text-to-speech, telephone channel and recognizer as the frozen ASR set) --
and the two frozen held-out sets, never tuned on: `frozen-calls.jsonl` (public conversational corpora, typed
or transcribed) and `frozen-asr-calls.jsonl` (the caller's turns spoken, sent through a telephone channel
and transcribed by a real offline recognizer, with its per-word confidence). Each frozen file's checksum must
match its `.sha256`, else the benchmark stops; `--no-frozen` leaves the frozen sets out (what to run while
tuning). The columns are printed side by side: accepted-value precision and
recall per field, review rate, values sent to review because the recognizer doubted a word, planted
platform values accepted, agent-side values taken as the caller's, label accuracy and frustrated recall, and
a calibration table per set (confidence bin -> observed precision of accepted values) and accepted values by
source, values right at any status and how many gold phones and emails are in the words at all (the
bound on recall for any reader of the text). `--json` prints the same numbers as one JSON object keyed by
set instead of the tables. Then, for
the dev file, the detailed report:

Reads labelled calls (the generic call JSON plus a `gold` object and a `split`; see tests/data/README.md),
runs `extract_call` on each and prints, for every split (dev, own, holdout) and for all calls together:

- per field: gold values, values emitted, accepted, accepted and right, precision and recall of the
  accepted values, review rate (share of emitted values left as needs_review), and the issue's target (issue 13's targets on the frozen set);
- planted platform values: how many exist, how many were accepted (must be 0) and how many were flagged
  `not_in_transcript`;
- intent / outcome / sentiment accuracy;
- calibration over all calls: accuracy of accepted values (and of all emitted values) by confidence bucket;
- the caller ID, reported on its own: it is not speech, so it is never scored as `phone` (whose gold is the
  number the caller said); how many calls have a usable caller ID, how often it equals the spoken gold
  phone, and how many calls with no spoken email or phone it still identifies;
- throughput: five-minute transcripts (~750 words, built from the labelled calls' turns) per second on one
  core, measured in the process's CPU time (so other load on the machine does not count against it) and,
  for comparison, in wall-clock time; the process is pinned to one CPU where the OS allows it.

Options: --errors SPLIT prints each wrong or missed value of that split (for tuning: use dev, own or
dev_asr, never holdout; `frozen` and `frozen_asr` print the held-out sets' errors, to read, never to tune on); --speed-calls N sets how many five-minute calls are timed (default 300); --no-speed skips it.
A benchmark, not a test: it asserts nothing and always exits 0 unless the file cannot be read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callsync.capture.extract import EXTRACTOR_VERSION, extract_call
from callsync.capture.extract import calibration as calib
from callsync.capture.extract import word_confidence as wconf
from callsync.capture.extract.dialogue import DIFFERS_REASON, ECHO_REASON
from callsync.capture.extract.grounding import canonical_key
from callsync.capture.extract.spoken import find_digit_runs
from callsync.capture.platforms.generic import parse_generic_call
from callsync.models import CallRecord, Extraction, FieldStatus, Speaker, Turn

FIELDS = (
    "full_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "phone_extension",
    "callback_phone",
    "company",
    "job_title",
    "amount",
    "amount_range",
    "currency",
    "date",
    "time",
    "address",
    "zip",
    "reference_id",
)
# Gold keys that appear only when they apply (dev-calls README): absent means null. Other keys absent from a
# call's gold (address, zip, ... on the shared dev calls) mean "not labelled": the field is not scored there.
OPTIONAL_GOLD = ("phone_extension", "amount_range")
# The targets: accepted-value precision per field, and recall for email and phone.
PRECISION_TARGETS = {
    "email": 0.98,
    "phone": 0.98,
    "amount": 0.98,
    "date": 0.98,
    "time": 0.98,
    "company": 0.98,
    "full_name": 0.97,
    "first_name": 0.97,
    "last_name": 0.97,
}
REVIEW_TARGET = 0.15  # needs_review share of all emitted field values
RECALL_TARGETS = {"email": 0.90, "phone": 0.90}
SPLITS = ("dev", "own", "holdout")
FROZEN = Path(__file__).resolve().parent.parent / "tests" / "data" / "frozen-calls.jsonl"
FROZEN_ASR = FROZEN.with_name("frozen-asr-calls.jsonl")
DEV_ASR = FROZEN.with_name("dev-asr-calls.jsonl")
DEV_TASK = FROZEN.with_name("dev-task-calls.jsonl")
DEV_TASK_ASR = FROZEN.with_name("dev-task-asr-calls.jsonl")
DEV_TASK_B = FROZEN.with_name("dev-task-b-calls.jsonl")
DEV_TASK_C = FROZEN.with_name("dev-task-c-calls.jsonl")
DEV_TASK_D = FROZEN.with_name("dev-task-d-calls.jsonl")
DEV_TASK_E = FROZEN.with_name("dev-task-e-calls.jsonl")
DEV_TASK_F = FROZEN.with_name("dev-task-f-calls.jsonl")
DEV_TASK_G = FROZEN.with_name("dev-task-g-calls.jsonl")
DEV_TASK_H = FROZEN.with_name("dev-task-h-calls.jsonl")
CALIB_TASK = FROZEN.with_name("calib-task-calls.jsonl")
CALIB_TASK_B = FROZEN.with_name("calib-task-b-calls.jsonl")
CALIB_TASK_C = FROZEN.with_name("calib-task-c-calls.jsonl")
FROZEN_TASK = FROZEN.with_name("frozen-task-calls.jsonl")
FROZEN_TASK_ASR = FROZEN.with_name("frozen-task-asr-calls.jsonl")
FROZEN_TASK_B = FROZEN.with_name("frozen-task-b-calls.jsonl")
FROZEN_TASK_C = FROZEN.with_name("frozen-task-c-calls.jsonl")
FROZEN_TASK_D = FROZEN.with_name("frozen-task-d-calls.jsonl")
# The sets printed beside the dev file, in column order: (split and option, default file, held out?, help).
SETS: tuple[tuple[str, Path, bool, str], ...] = (
    ("dev_asr", DEV_ASR, False, "the dev ASR set, TUNED ON (tests/data/dev-asr-calls.jsonl; skipped when the file is absent)"),
    ("dev_task", DEV_TASK, False, "the dev task set, TUNED ON (tests/data/dev-task-calls.jsonl: SGD train dialogues; skipped when absent)"),
    ("dev_task_asr", DEV_TASK_ASR, False, "the dev task set spoken and recognized, TUNED ON (tests/data/dev-task-asr-calls.jsonl; skipped when absent)"),
    ("dev_task_b", DEV_TASK_B, False, "the second dev task set, TUNED ON (tests/data/dev-task-b-calls.jsonl: SGD train, with a ride or the weather beside; skipped when absent)"),
    ("dev_task_c", DEV_TASK_C, False, "the third dev task set, TUNED ON (tests/data/dev-task-c-calls.jsonl: 1871 more SGD train dialogues; skipped when absent)"),
    ("dev_task_d", DEV_TASK_D, False, "the fourth dev task set, TUNED ON since extractor 58 was scored on it (tests/data/dev-task-d-calls.jsonl: 513 more SGD train dialogues; skipped when absent)"),
    ("dev_task_e", DEV_TASK_E, False, "the fifth dev task set, TUNED ON since extractor 61 was scored on it (tests/data/dev-task-e-calls.jsonl: 215 SGD train rental car dialogues; skipped when absent)"),
    ("dev_task_f", DEV_TASK_F, False, "the sixth dev task set, TUNED ON since extractor 65 was scored on it (tests/data/dev-task-f-calls.jsonl: 310 SGD train dialogues arranging two dated things; skipped when absent)"),
    ("dev_task_g", DEV_TASK_G, False, "the seventh dev task set, TUNED ON since extractor 70 was scored on it (tests/data/dev-task-g-calls.jsonl: 463 SGD train dialogues of a dated service beside a calendar, an attraction, a bank, a film or a song; skipped when absent)"),
    ("dev_task_h", DEV_TASK_H, False, "the eighth dev task set, TUNED ON since extractor 75 was scored on it (tests/data/dev-task-h-calls.jsonl: 310 SGD train dialogues of two to four services; skipped when absent)"),
    ("calib_task", CALIB_TASK, False, "the calibration set: confidence is FITTED on it, the rules were never tuned on it and its errors are never printed (tests/data/calib-task-calls.jsonl: 570 SGD train dialogues; skipped when absent)"),
    ("calib_task_b", CALIB_TASK_B, False, "the second calibration set: confidence is FITTED on it, the rules were never tuned on it and its errors are never printed (tests/data/calib-task-b-calls.jsonl: 536 SGD train dialogues; skipped when absent)"),
    ("calib_task_c", CALIB_TASK_C, False, "the third calibration set: confidence is FITTED on it, the rules were never tuned on it and its errors are never printed (tests/data/calib-task-c-calls.jsonl: 436 SGD dev-split dialogues of services no rule was read on; skipped when absent)"),
    ("frozen", FROZEN, True, "the frozen held-out set (tests/data/frozen-calls.jsonl)"),
    ("frozen_asr", FROZEN_ASR, True, "the frozen held-out set with recognizer output (tests/data/frozen-asr-calls.jsonl)"),
    ("frozen_task", FROZEN_TASK, True, "the frozen task set, held out (tests/data/frozen-task-calls.jsonl: SGD dev-split dialogues)"),
    ("frozen_task_asr", FROZEN_TASK_ASR, True, "the frozen task set spoken and recognized, held out (tests/data/frozen-task-asr-calls.jsonl)"),
    ("frozen_task_b", FROZEN_TASK_B, True, "the second frozen task set, held out (tests/data/frozen-task-b-calls.jsonl)"),
    ("frozen_task_c", FROZEN_TASK_C, True, "the third frozen task set, held out (tests/data/frozen-task-c-calls.jsonl: with a ride or the weather beside)"),
    ("frozen_task_d", FROZEN_TASK_D, True, "the fourth frozen task set, held out (tests/data/frozen-task-d-calls.jsonl: SGD dev-split calls of two or three services)"),
)  # fmt: skip
CALIBRATION_SPLITS = (
    "calib_task",
    "calib_task_b",
    "calib_task_c",
)  # confidence is fitted on them; their errors are never shown
LABEL_TARGETS = {"intent": 0.90, "outcome": 0.90, "sentiment": 0.90}
BUCKETS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.85), (0.85, 0.9), (0.9, 0.95), (0.95, 1.01))
FIVE_MINUTES_WORDS = 750  # ~150 spoken words a minute


# -- comparing values ---------------------------------------------------------------------------------


def _text_key(value: Any) -> str:
    return re.sub(r"[\s.'’,-]+", " ", str(value)).strip().casefold()


_UNIT_WORDS = {"apartment": "apt", "apt": "apt", "unit": "unit", "suite": "suite", "ste": "suite", "#": "apt"}


def _address_key(value: Any) -> str:
    words = _text_key(value).replace("#", " # ").split()
    return " ".join(_UNIT_WORDS.get(w, w) for w in words)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def same(field_name: str, got: Any, gold: Any) -> bool:
    if got is None or gold is None:
        return False
    if field_name in ("amount",):
        a, b = _number(got), _number(gold)
        return a is not None and b is not None and abs(a - b) < 0.005
    if field_name == "amount_range":
        if not isinstance(got, list | tuple) or len(got) != 2:
            return False
        return all(same("amount", a, b) for a, b in zip(got, gold, strict=True))
    if field_name == "address":
        return _address_key(got) == _address_key(gold)
    if field_name == "reference_id":
        return re.sub(r"[^0-9A-Z]", "", str(got).upper()) == re.sub(r"[^0-9A-Z]", "", str(gold).upper())
    if field_name in ("full_name", "first_name", "last_name", "company", "job_title"):
        return _text_key(got) == _text_key(gold)
    return str(got) == str(gold)


# -- scoring -----------------------------------------------------------------------------------------


@dataclass
class FieldScore:
    gold: int = 0  # calls whose gold value is set
    scored: int = 0  # calls where the field is labelled at all
    emitted: int = 0
    accepted: int = 0
    accepted_right: int = 0
    review: int = 0
    found_right: int = 0  # right value emitted, whatever its status

    def precision(self) -> float | None:
        return self.accepted_right / self.accepted if self.accepted else None

    def recall(self) -> float | None:
        return self.accepted_right / self.gold if self.gold else None

    def review_rate(self) -> float | None:
        return self.review / self.emitted if self.emitted else None


@dataclass
class Result:
    row: dict[str, Any]
    call: CallRecord
    extraction: Extraction


@dataclass
class SplitReport:
    name: str
    calls: int = 0
    fields: dict[str, FieldScore] = field(default_factory=lambda: {f: FieldScore() for f in FIELDS})
    planted: int = 0
    planted_accepted: list[str] = field(default_factory=list)
    planted_flagged: int = 0
    said_flagged: list[str] = field(default_factory=list)  # platform values said in the call, flagged unsaid
    agent_side: list[str] = field(default_factory=list)  # accepted wrong values that are the agent's words
    labels: dict[str, Counter[tuple[str, str]]] = field(
        default_factory=lambda: {k: Counter() for k in ("intent", "outcome", "sentiment")}
    )


def gold_value(gold: dict[str, Any], field_name: str) -> tuple[bool, Any]:
    """(labelled, value) for one field of a call's gold."""
    if field_name in gold:
        return True, gold[field_name]
    if field_name in OPTIONAL_GOLD:
        return True, None
    return False, None


def _value(extraction: Extraction, field_name: str) -> tuple[Any, FieldStatus | None, float]:
    fv = extraction.fields.get(field_name)
    if fv is None:
        return None, None, 0.0
    return fv.value, fv.status, fv.confidence


def _platform_report(extraction: Extraction) -> dict[str, dict[str, Any]]:
    """The per-key platform grounding report, when the extractor provides one (keyed by structured_data key)."""
    report = extraction.to_json().get("platform_values") or []
    return {str(item.get("key")): item for item in report if isinstance(item, dict)}


def score(results: Iterable[Result], name: str) -> SplitReport:
    report = SplitReport(name)
    for r in results:
        report.calls += 1
        gold = r.row["gold"]
        for field_name in FIELDS:
            labelled, expected = gold_value(gold, field_name)
            if not labelled:
                continue
            s = report.fields[field_name]
            s.scored += 1
            s.gold += expected is not None
            got, status, _conf = _value(r.extraction, field_name)
            if status is None:
                continue
            s.emitted += 1
            right = same(field_name, got, expected)
            s.found_right += right
            if status is FieldStatus.ACCEPTED:
                s.accepted += 1
                s.accepted_right += right
                if not right and _agent_side(r, field_name):
                    report.agent_side.append(f"{r.row['call_id']}.{field_name}={got!r}")
            else:
                s.review += 1
        for label in ("intent", "outcome", "sentiment"):
            if gold.get(label) is not None:  # a label the set leaves unlabelled is not scored
                report.labels[label][(gold[label], getattr(r.extraction, label).value)] += 1
        _score_planted(r, report)
    return report


def _score_planted(r: Result, report: SplitReport) -> None:
    structured = ((r.row.get("analysis") or {}).get("structured_data")) or {}
    planted = set(r.row["gold"].get("planted") or [])
    flags = _platform_report(r.extraction)
    cid = r.row["call_id"]
    for key, raw in structured.items():
        flagged = flags.get(str(key), {}).get("reason") == "not_in_transcript"
        if key not in planted:
            if flagged:
                report.said_flagged.append(f"{cid}.{key}")
            continue
        report.planted += 1
        report.planted_flagged += flagged
        if flags.get(str(key), {}).get("status") == FieldStatus.ACCEPTED.value:
            report.planted_accepted.append(f"{cid}.{key}")
        canonical = canonical_key(str(key))
        if canonical is None:
            continue
        got, status, _ = _value(r.extraction, canonical)
        if status is FieldStatus.ACCEPTED and _platform_equal(canonical, got, raw):
            report.planted_accepted.append(f"{cid}.{key}")
    for name, fv in r.extraction.fields.items():
        if fv.extractor.startswith("platform@") and fv.status is FieldStatus.ACCEPTED:
            report.planted_accepted.append(f"{cid}.{name} (platform value accepted)")


def _platform_equal(field_name: str, got: Any, raw: Any) -> bool:
    if field_name == "phone":
        digits = re.sub(r"\D", "", str(raw))
        return re.sub(r"\D", "", str(got)).endswith(digits[-10:]) if digits else False
    if field_name == "email":
        return str(got).lower() == str(raw).strip().lower()
    return same(field_name, got, raw)


def _agent_side(r: Result, field_name: str) -> bool:
    """A wrong accepted value that only the agent's turns hold: the business's name, number, address, price."""
    fv = r.extraction.fields[field_name]
    turns = r.call.turns
    said = [e.turn for e in fv.evidence if e.in_transcript and 0 <= e.turn < len(turns)]
    if said and all(turns[t].speaker.value == "agent" for t in said):
        return True
    key = (
        re.sub(r"\D", "", str(fv.value)) if field_name in ("phone", "callback_phone") else _text_key(fv.value)
    )
    if len(key) < 4:
        return False
    for turn in turns:
        text = (
            re.sub(r"\D", "", turn.text)
            if field_name in ("phone", "callback_phone")
            else _text_key(turn.text)
        )
        if key[-10:] in text:
            return turn.speaker.value == "agent"
    return False


def label_accuracy(report: SplitReport) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for label, confusion in report.labels.items():
        total = sum(confusion.values())
        out[label] = sum(n for (g, p), n in confusion.items() if g == p) / total if total else None
    frustrated = report.labels["sentiment"]
    gold_f = sum(n for (g, _), n in frustrated.items() if g == "frustrated")
    out["frustrated_recall"] = frustrated[("frustrated", "frustrated")] / gold_f if gold_f else None
    out["frustrated_gold"] = gold_f
    return out


def calibration(results: list[Result]) -> list[dict[str, Any]]:
    """Accepted values by confidence bin: how many, how many right, observed precision."""
    bins: dict[int, list[bool]] = defaultdict(list)
    for r in results:
        for field_name in FIELDS:
            labelled, expected = gold_value(r.row["gold"], field_name)
            got, status, conf = _value(r.extraction, field_name)
            if labelled and status is FieldStatus.ACCEPTED:
                i = next(i for i, (lo, hi) in enumerate(BUCKETS) if lo <= round(conf, 6) < hi)
                bins[i].append(same(field_name, got, expected))
    return [
        {
            "bin": f"{lo:.2f}-{min(hi, 1.0):.2f}",
            "accepted": len(bins.get(i, [])),
            "right": sum(bins.get(i, [])),
            "precision": (sum(bins[i]) / len(bins[i])) if bins.get(i) else None,
        }
        for i, (lo, hi) in enumerate(BUCKETS)
    ]


def by_source(results: list[Result]) -> dict[str, dict[str, Any]]:
    """Accepted values per source (caller said, agent confirmed, spelled, platform): count, right, mean
    confidence — calibration per source."""
    cells: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for r in results:
        for field_name in FIELDS:
            labelled, expected = gold_value(r.row["gold"], field_name)
            fv = r.extraction.fields.get(field_name)
            if labelled and fv is not None and fv.status is FieldStatus.ACCEPTED:
                cells[calib.source_of(r.call, fv)].append(
                    (fv.confidence, same(field_name, fv.value, expected))
                )
    return {
        source: {
            "accepted": len(v),
            "right": sum(ok for _, ok in v),
            "precision": sum(ok for _, ok in v) / len(v),
            "mean_confidence": sum(c for c, _ in v) / len(v),
        }
        for source, v in sorted(cells.items())
    }


def summary(report: SplitReport, results: list[Result]) -> dict[str, Any]:
    fields = {}
    emitted = review = 0
    for name in FIELDS:
        s = report.fields[name]
        if not s.scored:
            continue
        emitted += s.emitted
        review += s.review
        fields[name] = {
            "gold": s.gold,
            "accepted": s.accepted,
            "accepted_right": s.accepted_right,
            "precision": s.precision(),
            "recall": s.recall(),
            "review_rate": s.review_rate(),
            "found_right": s.found_right,
        }
    reasons: Counter[str] = Counter(
        fv.reason or "-"
        for r in results
        for fv in r.extraction.fields.values()
        if fv.status is not FieldStatus.ACCEPTED
    )
    return {
        "calls": report.calls,
        "fields": fields,
        "review_rate": review / emitted if emitted else None,
        "review_reasons": dict(sorted(reasons.items())),
        "planted": report.planted,
        "planted_accepted": report.planted_accepted,
        "agent_side_accepted": report.agent_side,
        "labels": label_accuracy(report),
        "calibration": calibration(results),
        "by_source": by_source(results),
        "in_the_words": in_the_words(results),
    }


def _caller_and_agent_text(call: CallRecord) -> tuple[str, str]:
    caller = " ".join(t.text for t in call.turns if t.speaker is Speaker.CALLER)
    agent = " ".join(t.text for t in call.turns if t.speaker is Speaker.AGENT)
    return caller, agent


def _digits_said(text: str) -> str:
    return "".join(run.digits for run in find_digit_runs(text))


_NOT_LETTER = re.compile(r"[^a-z0-9]")


def in_the_words(results: list[Result]) -> dict[str, dict[str, int]]:
    """How many gold phones and emails appear in the transcript's words at all: in what the recognizer made
    of the caller's words (a phone's last seven digits among the digits heard; an email's user name and
    domain, letters only, among the letters heard) or in the agent's words (a read-back or an echo). No
    extractor can read a value from words that do not hold it, so the share in either bounds the recall
    of values taken from the words (an upper bound: a value in the words may still be the agent's
    misreading, or heard without the words that say whose it is). A phone has one more route, counted
    apart (`line`): the line the caller calls from, which is theirs only when they say so ("this number is
    fine"), so it does not raise the bound."""
    out: dict[str, dict[str, int]] = {}
    for name in ("phone", "email"):
        counts = {"gold": 0, "caller": 0, "agent": 0, "line": 0, "either": 0}
        for r in results:
            labelled, gold = gold_value(r.row.get("gold", {}), name)
            if not labelled or not gold:
                continue
            caller, agent = _caller_and_agent_text(r.call)
            if name == "phone":
                tail = re.sub(r"\D", "", str(gold))[-7:]
                heard, read = tail in _digits_said(caller), tail in _digits_said(agent)
                line = (r.call.caller_line or "").endswith(tail)  # "this number is fine": not in the words
            else:
                line = False
                user, _, domain = str(gold).lower().partition("@")
                letters = _NOT_LETTER.sub("", caller.lower())
                heard = _NOT_LETTER.sub("", user) in letters and domain.split(".")[0] in letters
                read = str(gold).lower() in agent.lower()
            counts["gold"] += 1
            counts["caller"] += heard
            counts["agent"] += read
            counts["line"] += line
            counts["either"] += heard or read
        out[name] = counts
    return out


def print_side_by_side(sets: dict[str, dict[str, Any]]) -> None:
    names = list(sets)
    held_out = [n for n in names if n.startswith("frozen")]
    print("\n== sets side by side: the dev sets are tuned on; the frozen sets are held out, never tuned on")
    head = "".join(f"{n[:27]:>29}" for n in names)
    print(f"{'':<16}{head}")
    print(
        f"{'field':<16}"
        + "".join(f"{'P(acc)   R(acc)  review  n':>29}" for _ in names)
        + "  target (each frozen set)"
    )
    for field_name in FIELDS:
        cells = ""
        for n in names:
            f = sets[n]["fields"].get(field_name)
            if f is None:
                cells += f"{'-':>29}"
                continue
            cells += (
                f"{_pct(f['precision'])}   {_pct(f['recall'])} {_pct(f['review_rate'])} {f['accepted']:>3}  "
            )
        print(f"{field_name:<16}{cells}{_targets(field_name, [sets[n] for n in held_out])}")

    def row(label: str, fn: Callable[[dict[str, Any]], str]) -> None:
        print(f"{label:<28}" + "".join(f"{fn(sets[n]):>22}" for n in names))

    print()
    row("", lambda s: "")
    row("review rate (all fields)", lambda s: _pct(s["review_rate"]))
    row(
        "review: recognizer doubted",
        lambda s: str(s["review_reasons"].get("low_word_confidence", 0)),
    )
    row(
        "review: agent echo only",
        lambda s: str(s["review_reasons"].get(ECHO_REASON, 0)),
    )
    row(
        "review: agent's differs",
        lambda s: str(s["review_reasons"].get(DIFFERS_REASON, 0)),
    )
    row(
        "first_name: right, any st.",
        lambda s: (
            f"{s['fields']['first_name']['found_right']}/{s['fields']['first_name']['gold']}"
            if "first_name" in s["fields"]
            else "-"
        ),
    )
    for name in ("phone", "email"):
        row(
            f"{name}: right, any status",
            lambda s, name=name: (
                f"{s['fields'][name]['found_right']}/{s['fields'][name]['gold']}"
                if name in s["fields"]
                else "-"
            ),
        )
        row(
            f"{name}: in the words at all",
            lambda s, name=name: "{either}/{gold} ({caller}c {agent}a)".format(**s["in_the_words"][name]),
        )
    row("phone: the caller's line", lambda s: "{line}/{gold}".format(**s["in_the_words"]["phone"]))
    row("planted accepted", lambda s: f"{len(s['planted_accepted'])}/{s['planted']}")
    row("agent-side accepted", lambda s: str(len(s["agent_side_accepted"])))
    for label in ("intent", "outcome", "sentiment", "frustrated_recall"):
        row(label, _label_cell(label))
    row("frustrated callers (gold)", lambda s: str(s["labels"]["frustrated_gold"]))
    for n in names:
        if sets[n]["agent_side_accepted"]:
            print(f"agent-side values accepted in {n}: {', '.join(sets[n]['agent_side_accepted'])}")
    print("\n== calibration: confidence bin -> observed precision of accepted values (right/accepted)")
    print(f"{'bin':<12}" + "".join(f"{n[:20]:>22}" for n in names))
    for i in range(len(BUCKETS)):
        cells = ""
        for n in names:
            b = sets[n]["calibration"][i]
            shown = f"{b['right']}/{b['accepted']}" if b["accepted"] else "."
            cells += f"{shown:>22}"
        print(f"{sets[names[0]]['calibration'][i]['bin']:<12}{cells}")
    print("\n== accepted values by source: right/accepted (mean confidence)")
    sources = sorted({src for n in names for src in sets[n]["by_source"]})
    for src in sources:
        cells = ""
        for n in names:
            b = sets[n]["by_source"].get(src)
            shown = f"{b['right']}/{b['accepted']} ({b['mean_confidence']:.3f})" if b else "."
            cells += f"{shown:>22}"
        print(f"{src:<16}{cells}")


def _targets(field_name: str, held_out: list[dict[str, Any]]) -> str:
    """The issue's target for this field and, per frozen set in column order, whether it is met."""
    marks = []
    if field_name in PRECISION_TARGETS:
        goal = PRECISION_TARGETS[field_name]
        got = [s["fields"].get(field_name) for s in held_out]
        ok = [
            "-" if f is None else "ok" if f["precision"] is None or f["precision"] >= goal else "MISS"
            for f in got
        ]
        marks.append(f"P>={goal:.2f} {'/'.join(ok)}")
    if field_name in RECALL_TARGETS:
        goal = RECALL_TARGETS[field_name]
        got = [s["fields"].get(field_name) for s in held_out]
        ok = [
            "-" if f is None or not f["gold"] else "ok" if (f["recall"] or 0.0) >= goal else "MISS"
            for f in got
        ]
        marks.append(f"R>={goal:.2f} {'/'.join(ok)}")
    return "  " + " ".join(marks) if marks else ""


def _label_cell(label: str) -> Callable[[dict[str, Any]], str]:
    def cell(s: dict[str, Any]) -> str:
        return _pct(s["labels"][label])

    return cell


def check_frozen(path: Path) -> str | None:
    """None when the frozen file matches its committed checksum, else the reason it does not."""
    sums = path.with_suffix(".sha256")
    if not sums.exists():
        return f"{sums} is missing"
    expected = sums.read_text(encoding="utf-8").split()[0]
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    return None if actual == expected else f"{path} changed since it was frozen ({actual} != {expected})"


# -- printing ------------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def print_split(report: SplitReport) -> None:
    print(f"\n== {report.name}: {report.calls} calls")
    print(
        f"{'field':<16}{'gold':>5}{'emit':>6}{'acc':>5}{'acc ok':>7}{'P(acc)':>8}{'R(acc)':>8}"
        f"{'review':>8}{'found':>7}  target"
    )
    for field_name in FIELDS:
        s = report.fields[field_name]
        if not s.scored:
            continue
        targets = []
        p, rec = s.precision(), s.recall()
        if field_name in PRECISION_TARGETS:
            ok = p is None or p >= PRECISION_TARGETS[field_name]
            targets.append(f"P>={PRECISION_TARGETS[field_name]:.2f} {'ok' if ok else 'MISS'}")
        if field_name in RECALL_TARGETS:
            ok = rec is not None and rec >= RECALL_TARGETS[field_name]
            targets.append(f"R>={RECALL_TARGETS[field_name]:.2f} {'ok' if ok else 'MISS'}")
        print(
            f"{field_name:<16}{s.gold:>5}{s.emitted:>6}{s.accepted:>5}{s.accepted_right:>7}{_pct(p):>8}"
            f"{_pct(rec):>8}{_pct(s.review_rate()):>8}{s.found_right:>7}  {', '.join(targets)}"
        )
    flagged = f"{report.planted_flagged}/{report.planted}" if report.planted else "0/0"
    accepted = len(report.planted_accepted)
    print(
        f"planted platform values: {report.planted}; accepted: {accepted} "
        f"({'ok' if accepted == 0 else 'MISS: ' + ', '.join(report.planted_accepted)}); "
        f"flagged not_in_transcript: {flagged}; said but flagged: {len(report.said_flagged)}"
        + (f" ({', '.join(report.said_flagged)})" if report.said_flagged else "")
    )
    for label, confusion in report.labels.items():
        total = sum(confusion.values())
        right = sum(n for (g, p), n in confusion.items() if g == p)
        print(f"{label}: {right}/{total} = {right / total if total else 0:.3f}")


def print_confusions(report: SplitReport) -> None:
    for label, confusion in report.labels.items():
        misses = [f"{g}->{p} x{n}" for (g, p), n in sorted(confusion.items()) if g != p]
        print(f"{label} confusions (gold->got): {', '.join(misses) or 'none'}")


def print_calibration(results: list[Result]) -> None:
    print("\n== calibration, all calls: accuracy by confidence bucket (n right/n)")
    print("   accepted values only | all emitted values")
    header = "".join(f"{f'{lo:.2f}-{min(hi, 1.0):.2f}':>12}" for lo, hi in BUCKETS)
    print(f"{'field':<16}{header}")
    all_accepted: dict[int, list[bool]] = defaultdict(list)
    all_emitted: dict[int, list[bool]] = defaultdict(list)
    for field_name in FIELDS:
        accepted: dict[int, list[bool]] = defaultdict(list)
        emitted: dict[int, list[bool]] = defaultdict(list)
        for r in results:
            labelled, expected = gold_value(r.row["gold"], field_name)
            got, status, conf = _value(r.extraction, field_name)
            if not labelled or status is None:
                continue
            bucket = next(i for i, (lo, hi) in enumerate(BUCKETS) if lo <= round(conf, 6) < hi)
            right = same(field_name, got, expected)
            emitted[bucket].append(right)
            all_emitted[bucket].append(right)
            if status is FieldStatus.ACCEPTED:
                accepted[bucket].append(right)
                all_accepted[bucket].append(right)
        if not emitted:
            continue
        cells_a = "".join(f"{_cell(accepted.get(i, [])):>12}" for i in range(len(BUCKETS)))
        cells_e = "".join(f"{_cell(emitted.get(i, [])):>12}" for i in range(len(BUCKETS)))
        print(f"{field_name:<16}{cells_a}")
        print(f"{'  (all emitted)':<16}{cells_e}")
    print(
        f"{'ALL FIELDS':<16}" + "".join(f"{_cell(all_accepted.get(i, [])):>12}" for i in range(len(BUCKETS)))
    )
    print(
        f"{'  (all emitted)':<16}"
        + "".join(f"{_cell(all_emitted.get(i, [])):>12}" for i in range(len(BUCKETS)))
    )


def _cell(values: list[bool]) -> str:
    return f"{sum(values)}/{len(values)}" if values else "."


def print_errors(results: list[Result], split: str) -> None:
    print(f"\n== errors in split {split!r} (wrong accepted = W, right but review = R, missed = M, extra = X)")
    for r in results:
        lines = []
        for field_name in FIELDS:
            labelled, expected = gold_value(r.row["gold"], field_name)
            if not labelled:
                continue
            got, status, conf = _value(r.extraction, field_name)
            right = same(field_name, got, expected)
            fv = r.extraction.fields.get(field_name)
            reason = f" {fv.reason}" if fv is not None and fv.reason else ""
            if status is FieldStatus.ACCEPTED and not right:
                lines.append(f"  W {field_name}: {got!r} ({conf:.2f}) gold {expected!r}")
            elif status is not None and not right and expected is None:
                lines.append(f"  X {field_name}: {got!r} ({conf:.2f}{reason}) gold None")
            elif status is not None and right and status is not FieldStatus.ACCEPTED:
                lines.append(f"  R {field_name}: {got!r} ({conf:.2f}{reason})")
            elif expected is not None and not right:
                shown = "absent" if status is None else f"{got!r} ({conf:.2f}{reason})"
                lines.append(f"  M {field_name}: {shown} gold {expected!r}")
        for label in ("intent", "outcome", "sentiment"):
            got_label = getattr(r.extraction, label).value
            if r.row["gold"].get(label) is not None and got_label != r.row["gold"][label]:
                lines.append(f"  L {label}: {got_label} gold {r.row['gold'][label]}")
        if lines:
            print(r.row["call_id"])
            print("\n".join(lines))


def print_caller_id(results: list[Result]) -> None:
    """The caller ID as its own source (never counted in the `phone` rows above)."""
    usable = [r for r in results if "caller_id" in r.extraction.fields]
    with_phone = [r for r in usable if r.row["gold"].get("phone")]
    same_as_said = sum(r.extraction.fields["caller_id"].value == r.row["gold"]["phone"] for r in with_phone)
    unidentified = [r for r in results if not r.row["gold"].get("phone") and not r.row["gold"].get("email")]
    rescued = sum("caller_id" in r.extraction.fields for r in unidentified)
    print("\n== caller ID (a separate source: not scored as phone)")
    print(
        f"usable caller ID: {len(usable)}/{len(results)} calls (withheld, invalid and business lines excluded)"
    )
    print(
        f"equals the phone the caller said: {same_as_said}/{len(with_phone)} calls with a spoken gold phone"
    )
    print(f"calls with no spoken email or phone that it identifies: {rescued}/{len(unidentified)}")


# -- speed --------------------------------------------------------------------------------------------


def five_minute_calls(results: list[Result], count: int) -> list[CallRecord]:
    """Calls of ~800 words made of the labelled calls' turns, in order, each from a different offset."""
    turns: list[Turn] = [t for r in results for t in r.call.turns]
    calls = []
    offset = 0
    for n in range(count):
        chosen: list[Turn] = []
        words = 0
        while words < FIVE_MINUTES_WORDS:
            turn = turns[offset % len(turns)]
            offset += 1
            chosen.append(turn)
            words += len(turn.text.split())
        base = results[n % len(results)].call
        calls.append(
            CallRecord(
                tenant=base.tenant,
                platform=base.platform,
                call_id=f"five-minute-{n}",
                direction=base.direction,
                from_number=base.from_number,
                to_number=base.to_number,
                started_at=base.started_at,
                ended_at=base.ended_at,
                turns=tuple(chosen),
                timezone=base.timezone,
                analysis=base.analysis,
            )
        )
        offset += 37  # the next call starts somewhere else
    return calls


def measure_speed(results: list[Result], count: int, quiet: bool = False) -> float:
    pinned = _pin_to_one_core()
    calls = five_minute_calls(results, count)
    words = sum(len(t.text.split()) for c in calls for t in c.turns) / len(calls)
    for call in calls[:10]:
        extract_call(call)  # warm up
    best_cpu = best_wall = 0.0
    for _ in range(5):
        wall, cpu = time.perf_counter(), time.process_time()
        for call in calls:
            extract_call(call)
        best_wall = max(best_wall, len(calls) / (time.perf_counter() - wall))
        best_cpu = max(best_cpu, len(calls) / (time.process_time() - cpu))
    core = "pinned to one core" if pinned else "one process (could not pin to a core)"
    if quiet:
        return best_cpu
    print(
        f"\n== throughput: {best_cpu:.0f} five-minute calls/s of one core's CPU time "
        f"({best_wall:.0f}/s wall clock; {len(calls)} calls of ~{words:.0f} words, "
        f"{sum(len(c.turns) for c in calls) / len(calls):.0f} turns; best of 5; {core})"
    )
    return best_cpu


def _pin_to_one_core() -> bool:
    setter: Callable[[int, set[int]], None] | None = getattr(os, "sched_setaffinity", None)
    getter: Callable[[int], set[int]] | None = getattr(os, "sched_getaffinity", None)
    if setter is None or getter is None:
        return False
    try:
        setter(0, {min(getter(0))})
    except OSError:
        return False
    return True


# -- main ---------------------------------------------------------------------------------------------


def load(path: Path, *, calibrated: bool = True, word_confidence: bool = True) -> list[Result]:
    results = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        call = parse_generic_call(row, source=str(path), line=n)
        extraction = extract_call(
            call,
            default_region=str(row.get("region", "US")),
            calibrated=calibrated,
            word_confidence=word_confidence,
        )
        results.append(Result(row, call, extraction))
    return results


def fit_calibration(files: Sequence[Path], target: Path) -> None:
    """Fit calibration.py's steps and thresholds on the given files' raw confidences; write calibration_data.py.

    The files are the labelled dev file and the calibration sets (never tuned on); the frozen sets are never
    fitted on. A family's values are split by history (`changed` / `settled`) only where both halves have
    MIN_SUPPORT values: a thinner table says more about its few calls than about the next one."""
    results = [r for path in files for r in load(path, calibrated=False)]
    points: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    by_history: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for r in results:
        for field_name in FIELDS:
            labelled_here, expected = gold_value(r.row["gold"], field_name)
            fv = r.extraction.fields.get(field_name)
            if not labelled_here or fv is None or field_name not in calib.FAMILIES:
                continue
            point = (fv.confidence, same(field_name, fv.value, expected))
            history = calib.history_of(r.extraction.fields, field_name)
            finest, coarse, anything = calib.step_keys(
                calib.FAMILIES[field_name], calib.source_of(r.call, fv), history
            )
            by_history[finest].append(point)
            points[coarse].append(point)
            points[anything].append(point)
    points.update(calib.supported_histories(by_history))
    steps = {key: tuple(calib.fit_steps(p)) for key, p in sorted(points.items())}
    label_points: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for r in results:
        for kind in ("intent", "outcome", "sentiment"):
            label = getattr(r.extraction, kind)
            if r.row["gold"].get(kind) is None:
                continue  # unlabelled in this set
            right = label.value == r.row["gold"][kind]
            label_points[f"{kind}/{label.value}"].append((label.confidence, right))
            label_points[f"{kind}/any"].append((label.confidence, right))
    label_steps = {key: tuple(calib.fit_steps(p)) for key, p in sorted(label_points.items())}
    accepted: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for r in results:
        for field_name in FIELDS:
            labelled_here, expected = gold_value(r.row["gold"], field_name)
            fv = r.extraction.fields.get(field_name)
            if not labelled_here or fv is None or fv.status is not FieldStatus.ACCEPTED:
                continue
            fam = calib.FAMILIES.get(field_name)
            if fam is None:
                continue
            history = calib.history_of(r.extraction.fields, field_name)
            fitted = calib.steps_for(steps, fam, calib.source_of(r.call, fv), history)
            c = calib.apply_steps(fitted, fv.confidence)
            accepted[field_name].append((round(c, 3), same(field_name, fv.value, expected)))
    thresholds = {name: calib.fit_threshold(p) for name, p in sorted(accepted.items())}
    body = [
        '"""Fitted calibration (see calibration.py). Written by `bench/extraction.py --fit-calibration`'
        f" on {', '.join(path.name for path in files)}\n({len(results)} calls: the dev set and the"
        ' calibration sets, never tuned on); do not edit by hand."""',
        "",
        "from __future__ import annotations",
        "",
        f"STEPS: dict[str, tuple[tuple[float, float], ...]] = {steps!r}",
        f"LABEL_STEPS: dict[str, tuple[tuple[float, float], ...]] = {label_steps!r}",
        f"FIELD_THRESHOLDS: dict[str, float] = {thresholds!r}",
        "",
    ]
    target.write_text("\n".join(body), encoding="utf-8")
    print(
        f"wrote {target}: {len(steps)} field steps, {len(label_steps)} label steps, thresholds {thresholds}"
    )


def fit_word_confidence(dev_asr: Path) -> None:
    """Fit word_confidence.py's per-field bars on the dev ASR file (never the frozen ASR set) and print them.

    Values are extracted without the word-confidence check; for each value the rules (and calibration)
    accepted whose words the recognizer heard, its lowest word confidence and whether it was right."""
    results = load(dev_asr, word_confidence=False)
    points: dict[str, list[tuple[float | None, bool]]] = defaultdict(list)
    for r in results:
        heard = wconf.heard_words(r.call)
        for field_name in FIELDS:
            labelled_here, expected = gold_value(r.row["gold"], field_name)
            fv = r.extraction.fields.get(field_name)
            if not labelled_here or fv is None or fv.status is not FieldStatus.ACCEPTED:
                continue
            if field_name in wconf.CHECKED_FIELDS:
                low = wconf.lowest_heard(r.call, fv, heard)
                points[field_name].append((low, same(field_name, fv.value, expected)))
    print(
        f"word-confidence bars fitted on {dev_asr.name} ({len(results)} calls; support >= {wconf.FIT_SUPPORT}):"
    )
    for field_name, p in sorted(points.items()):
        target = PRECISION_TARGETS.get(field_name, 0.98)
        bar = wconf.fit_bar(p, target)
        used = wconf.LOW_WORD_CONFIDENCE if bar is None else bar
        kept = [right for low, right in p if low is None or low >= used]
        heard = [right for low, right in p if low is not None]
        shown = f"default {used:.2f}" if bar is None else f"{bar:.2f}"
        print(
            f"  {field_name:<14} accepted {len(p):>3} (heard {len(heard):>3}) right {sum(r for _, r in p):>3}"
            f"  bar {shown:>12}  kept right {sum(kept)}/{len(kept)},"
            f" right sent to review {sum(r for _, r in p) - sum(kept)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "labelled", type=Path, help="labelled calls, JSON Lines (tests/data/labelled-calls.jsonl)"
    )
    parser.add_argument("--errors", metavar="SPLIT", help="print wrong and missed values of this split")
    parser.add_argument(
        "--speed-calls", type=int, default=300, help="five-minute calls to time (default 300)"
    )
    parser.add_argument("--no-speed", action="store_true", help="skip the throughput measurement")
    for split, default, _held, what in SETS:
        parser.add_argument(f"--{split.replace('_', '-')}", type=Path, default=default, help=what, dest=split)
    parser.add_argument(
        "--no-frozen", action="store_true", help="leave the frozen held-out sets out (while tuning)"
    )
    parser.add_argument(
        "--fit-word-confidence",
        action="store_true",
        help="fit the recognizer word-confidence bars on the dev ASR file only, print them, and stop",
    )
    parser.add_argument("--json", action="store_true", help="print the side-by-side numbers as JSON only")
    parser.add_argument(
        "--fit-calibration",
        action="store_true",
        help="fit capture/calibration_data.py on the labelled (dev) file and the calibration sets (--calib-task,"
        " --calib-task-b, --calib-task-c), write it, and stop",
    )
    args = parser.parse_args(argv)
    if args.errors in CALIBRATION_SPLITS:
        print(
            f"error: the errors of {args.errors} are not printed: rules read on it would make the"
            " confidence fitted on it optimistic (tests/data/README.md); use a dev split",
            file=sys.stderr,
        )
        return 2
    if args.fit_calibration:
        fit_calibration(
            (args.labelled, *(getattr(args, split) for split in CALIBRATION_SPLITS)),
            Path(calib.__file__).parent.parent / "calibration_data.py",
        )
        return 0
    if args.fit_word_confidence:
        fit_word_confidence(args.dev_asr)
        return 0
    held_out = (
        () if args.no_frozen else tuple(getattr(args, split) for split, _path, held, _help in SETS if held)
    )
    for path in (args.labelled, *held_out):
        if not path.exists():
            print(f"error: {path} not found", file=sys.stderr)
            return 2
    for path in held_out:
        problem = check_frozen(path)
        if problem is not None:
            print(f"error: {problem}", file=sys.stderr)
            return 2
    results = load(args.labelled)
    sets = {f"dev ({args.labelled.name})": summary(score(results, "dev"), results)}
    loaded: dict[str, list[Result]] = {}
    for split, _, held, _ in SETS:
        source: Path = getattr(args, split)
        if (held and not held_out) or (not held and not source.exists()):
            continue  # frozen sets left out while tuning; a tuned-on set skipped when its file is absent
        loaded[split] = load(source)
        if loaded[split]:
            name = (
                f"{split} ({source.name})"
                if held
                else f"{split}, calibrated on ({source.name})"
                if split in CALIBRATION_SPLITS
                else f"{split}, tuned on ({source.name})"
            )
            sets[name] = summary(score(loaded[split], split), loaded[split])
    if args.json:
        speed = measure_speed(results, args.speed_calls, quiet=True) if not args.no_speed else None
        print(
            json.dumps(
                {"extractor_version": EXTRACTOR_VERSION, "sets": sets, "calls_per_second_per_core": speed},
                indent=1,
            )
        )
        return 0
    print_side_by_side(sets)
    print(
        f"callsync extraction benchmark — extractor version {EXTRACTOR_VERSION}, {len(results)} labelled calls"
    )
    print(
        "P(acc) = right accepted / accepted; R(acc) = right accepted / gold values; review = needs_review /"
        " emitted; found = right values emitted, any status"
    )
    for split in SPLITS:
        chosen = [r for r in results if r.row.get("split", "dev") == split]
        if chosen:
            print_split(score(chosen, split))
    everything = score(results, "all splits")
    print_split(everything)
    print_confusions(everything)
    print_calibration(results)
    print_caller_id(results)
    if args.errors in loaded:
        print_errors(loaded[args.errors], args.errors)
    elif args.errors:
        print_errors([r for r in results if r.row.get("split", "dev") == args.errors], args.errors)
    if not args.no_speed:
        measure_speed(results, args.speed_calls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
