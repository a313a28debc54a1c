"""The feedback loop's arithmetic (pure): from people's verdicts on extracted values (reviewer decisions,
weekly spot checks), each field's measured precision at its current confidence threshold, and the lowest
threshold that keeps the precision at the target. A suggestion is only offered, never applied."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

TARGET_PRECISION = 0.95
MIN_OBSERVATIONS = 5


@dataclass(frozen=True)
class Observation:
    field: str  # canonical field (email, company, ...)
    confidence: float
    correct: bool
    source: str  # "review" | "spot_check"


@dataclass(frozen=True)
class FieldFeedback:
    field: str
    threshold: float
    observations: int
    above: int  # observations at or above the threshold
    precision: float | None  # correct share of those
    suggested: float | None  # lowest threshold with precision >= target (None: not enough data)
    target: float

    @property
    def change(self) -> str | None:
        """'raise' / 'lower' when the suggestion differs from the current threshold."""
        if self.suggested is None or abs(self.suggested - self.threshold) < 1e-9:
            return None
        return "raise" if self.suggested > self.threshold else "lower"


def _precision(obs: list[Observation], bar: float) -> tuple[int, float | None]:
    above = [o for o in obs if round(o.confidence, 6) >= bar]
    return len(above), (sum(o.correct for o in above) / len(above) if above else None)


def feedback(
    observations: Iterable[Observation],
    thresholds: dict[str, float],
    *,
    target: float = TARGET_PRECISION,
    min_observations: int = MIN_OBSERVATIONS,
) -> list[FieldFeedback]:
    by_field: dict[str, list[Observation]] = {}
    for o in observations:
        by_field.setdefault(o.field, []).append(o)
    out = []
    for field in sorted(by_field):
        obs = by_field[field]
        current = thresholds.get(field, 1.01)
        above, precision = _precision(obs, current)
        suggested = None
        if len(obs) >= min_observations:
            for bar in sorted({round(o.confidence, 2) for o in obs}):
                n, p = _precision(obs, bar)
                if n >= min_observations and p is not None and p >= target:
                    suggested = bar
                    break
        out.append(FieldFeedback(field, current, len(obs), above, precision, suggested, target))
    return out
