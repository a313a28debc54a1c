"""The feedback arithmetic: precision at the current threshold and the lowest threshold meeting the target."""

from __future__ import annotations

from callsync.analytics.feedback import Observation, feedback


def _obs(field: str, pairs: list[tuple[float, bool]]) -> list[Observation]:
    return [Observation(field, c, ok, "spot_check") for c, ok in pairs]


def test_precision_at_threshold_and_a_raise_when_low_confidence_values_are_wrong() -> None:
    obs = _obs("company", [(0.80, False), (0.80, False), (0.85, True), (0.90, True), (0.90, True),
                           (0.92, True), (0.95, True)])  # fmt: skip
    (f,) = feedback(obs, {"company": 0.80}, target=0.95, min_observations=5)
    assert (f.observations, f.above) == (7, 7)
    assert f.precision == 5 / 7
    assert f.suggested == 0.85 and f.change == "raise"


def test_a_lower_threshold_is_offered_when_values_below_it_were_right() -> None:
    obs = _obs("email", [(0.6, True), (0.65, True), (0.7, True), (0.8, True), (0.85, True), (0.9, True)])
    (f,) = feedback(obs, {"email": 0.80}, min_observations=5)
    assert f.suggested == 0.6 and f.change == "lower" and f.precision == 1.0


def test_too_few_verdicts_suggest_nothing() -> None:
    (f,) = feedback(_obs("phone", [(0.9, True)] * 3), {"phone": 0.8}, min_observations=5)
    assert f.suggested is None and f.change is None and f.precision == 1.0
