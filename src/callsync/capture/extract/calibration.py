"""Calibrated confidence: what an extractor's confidence means, measured, per field family and per source.

The extractors build confidence from rules (docs/extraction.md: "said once 0.80-0.85, read back and confirmed
+0.12 ..."). Those numbers order values well but are not probabilities. Here each value's raw confidence is
mapped to the precision that values of its family, from the same source (and, where the data allows, with
the same history), at that raw confidence actually had on the labelled dev set and the calibration sets of
task dialogues the rules were never tuned on (`tests/data/README.md`; never a frozen held-out set): an isotonic
(monotone) fit, made conservative by counting one imaginary wrong value per bin, so that accepted values at
confidence c were right at least c of the time where it was fitted. The fitted steps and the per-field
thresholds live in `callsync/capture/calibration_data.py`, written by `bench/extraction.py --fit-calibration`.

Sources (`source_of`): `caller_said` (the caller's own words), `agent_confirmed` (the agent read it back and
the caller confirmed, or the caller confirmed a value only the agent said), `spelled` (letter by letter),
`platform` (the platform's analysis, grounded in the words). The rules still decide what may be accepted;
calibration can only hold a value back: a value is accepted when its rules accept it **and** its calibrated
confidence reaches its field's calibrated threshold (chosen on the dev set for precision >= 0.98). A value
held back this way waits for review with reason `below_calibrated_threshold`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import replace

from callsync.capture.calibration_data import FIELD_THRESHOLDS, LABEL_STEPS, STEPS
from callsync.capture.extract.spoken import find_spelled_runs
from callsync.models import CallRecord, Extraction, FieldStatus, FieldValue, Label, Speaker

SOURCES = ("caller_said", "agent_confirmed", "spelled", "platform")
FAMILIES: Mapping[str, str] = {
    "full_name": "name",
    "first_name": "name",
    "last_name": "name",
    "email": "email",
    "phone": "phone",
    "phone_extension": "phone",
    "callback_phone": "phone",
    "company": "company",
    "job_title": "company",
    "amount": "amount",
    "amount_range": "amount",
    "currency": "amount",
    "date": "when",
    "time": "when",
    "address": "address",
    "zip": "address",
    "reference_id": "reference",
}
REASON = "below_calibrated_threshold"
PRECISION_TARGET = 0.98  # the precision the per-field thresholds are chosen for
# Fewer accepted dev values than this and a field's threshold is not fitted (0.0: the rules alone decide):
# two misses among twenty values say little, and a bar fitted on them would hold back most of the field.
MIN_SUPPORT = 40
_LONE_LETTER = re.compile(r"(?:^|[\s-])[A-Za-z](?:[\s.-]|$)")  # cheap test before looking for spelling
Steps = Sequence[tuple[float, float]]  # (raw confidence from which a step applies, calibrated confidence)


def source_of(call: CallRecord, fv: FieldValue) -> str:
    """Which kind of evidence a value rests on (see the module docstring)."""
    if fv.extractor.startswith("platform"):
        return "platform"
    spans = [e for e in fv.evidence if e.in_transcript and 0 <= e.turn < len(call.turns)]
    for e in spans:
        said = call.turns[e.turn].text[e.start : e.end]
        if _LONE_LETTER.search(said) and find_spelled_runs(said, min_letters=3):
            return "spelled"
    if any(call.turns[e.turn].speaker is Speaker.AGENT for e in spans):
        return "agent_confirmed"
    return "caller_said"


def history_of(fields: Mapping[str, FieldValue], name: str) -> str:
    """`changed` when the call replaced an earlier value of this field (or, for a time, of its date), else
    `settled`. On calls nobody tuned on, a changed day was right far less often than a settled one: the rules
    had to choose among several, and choosing is where they err (docs/extraction.md, "Extractor 61: confidence
    fitted on calls never tuned on")."""
    own = fields.get(name)
    related = fields.get("date") if name == "time" else None
    if any(fv is not None and fv.superseded for fv in (own, related)):
        return "changed"
    return "settled"


def apply_steps(steps: Steps, raw: float) -> float:
    """The calibrated confidence for a raw one: the step it falls in; below the first step, no more than raw."""
    if not steps:
        return raw
    k = bisect_right([low for low, _ in steps], round(raw, 6)) - 1
    if k < 0:
        return min(raw, steps[0][1])
    return steps[k][1]


def step_keys(family: str, source: str, history: str) -> tuple[str, str, str]:
    """The fitted step tables that may hold a value, most specific first (a table is fitted only where its
    support allows: `fit_steps` callers drop thin ones)."""
    return (f"{family}/{source}/{history}", f"{family}/{source}", f"{family}/any")


def steps_for(table: Mapping[str, Steps], family: str, source: str, history: str) -> Steps:
    """The most specific fitted table of `table` that holds such a value (none: no steps)."""
    return next((table[key] for key in step_keys(family, source, history) if table.get(key)), ())


def calibrated(call: CallRecord, name: str, fv: FieldValue, history: str = "settled") -> float:
    family = FAMILIES.get(name)
    if family is None:
        return fv.confidence
    steps = steps_for(STEPS, family, source_of(call, fv), history)
    return round(apply_steps(steps, fv.confidence), 3)


def threshold(name: str) -> float:
    return FIELD_THRESHOLDS.get(name, FIELD_THRESHOLDS.get(FAMILIES.get(name, ""), 0.0))


def calibrate_fields(call: CallRecord, fields: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
    out: dict[str, FieldValue] = {}
    for name, fv in fields.items():
        if name not in FAMILIES:
            out[name] = fv
            continue
        c = calibrated(call, name, fv, history_of(fields, name))
        if fv.status is FieldStatus.ACCEPTED and c < threshold(name):
            out[name] = replace(fv, confidence=c, status=FieldStatus.NEEDS_REVIEW, reason=REASON)
        else:
            out[name] = replace(fv, confidence=c)
    return out


def calibrate_label(kind: str, label: Label) -> Label:
    steps = LABEL_STEPS.get(f"{kind}/{label.value}") or LABEL_STEPS.get(f"{kind}/any", ())
    return replace(label, confidence=round(apply_steps(steps, label.confidence), 3))


def calibrate(call: CallRecord, extraction: Extraction) -> Extraction:
    """The extraction with calibrated confidences (and values below their field's threshold held back)."""
    return replace(
        extraction,
        fields=calibrate_fields(call, extraction.fields),
        intent=calibrate_label("intent", extraction.intent),
        outcome=calibrate_label("outcome", extraction.outcome),
        sentiment=calibrate_label("sentiment", extraction.sentiment),
    )


# -- fitting (used by bench/extraction.py --fit-calibration on the dev set) ----------------------------


def fit_steps(points: Sequence[tuple[float, bool]]) -> list[tuple[float, float]]:
    """Isotonic fit of (raw confidence, right?) points, conservative: each block's precision counts one
    imaginary wrong value (right / (n + 1)), then made non-decreasing."""
    if not points:
        return []
    by_raw: dict[float, list[int]] = {}
    for raw, right in points:
        cell = by_raw.setdefault(round(raw, 2), [0, 0])
        cell[0] += int(right)
        cell[1] += 1
    blocks = [[raw, right, n] for raw, (right, n) in sorted(by_raw.items())]
    merged: list[list[float]] = []
    for block in blocks:
        merged.append([float(x) for x in block])
        while len(merged) > 1 and merged[-2][1] / merged[-2][2] > merged[-1][1] / merged[-1][2]:
            last = merged.pop()
            merged[-1][1] += last[1]
            merged[-1][2] += last[2]
    steps: list[tuple[float, float]] = []
    best = 0.0
    for low, hits, n in merged:
        best = max(best, hits / (n + 1))
        steps.append((low, round(best, 3)))
    return steps


def supported_histories(
    by_history: Mapping[str, Sequence[tuple[float, bool]]],
) -> dict[str, Sequence[tuple[float, bool]]]:
    """The `family/source/history` point lists worth a table of their own: those whose `changed` and
    `settled` halves both hold MIN_SUPPORT values (a thinner half says more about its few calls than about the
    next one; its values fall back to the `family/source` table)."""
    kept: dict[str, Sequence[tuple[float, bool]]] = {}
    for key, pts in by_history.items():
        stem, history = key.rsplit("/", 1)
        other = by_history.get(f"{stem}/{'settled' if history == 'changed' else 'changed'}", ())
        if len(pts) >= MIN_SUPPORT and len(other) >= MIN_SUPPORT:
            kept[key] = pts
    return kept


def fit_threshold(points: Sequence[tuple[float, bool]], target: float = PRECISION_TARGET) -> float:
    """The lowest calibrated confidence at which accepted values reach `target` precision (1.0: none; 0.0
    when there are fewer than MIN_SUPPORT values to tell)."""
    if len(points) < MIN_SUPPORT:
        return 0.0
    for c in sorted({c for c, _ in points}):
        kept = [right for conf, right in points if conf >= c]
        if kept and sum(kept) / len(kept) >= target:
            return c
    return 1.0
