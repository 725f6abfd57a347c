"""Input drift: the newest day's features against the training days, as a population
stability index with thresholds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from energy_forecast.monitoring.drift import (
    DRIFT_FEATURES,
    bin_edges,
    input_drift,
    population_stability,
    status_of,
)
from tests.builders import validated_frame


def test_the_same_distribution_is_stable_and_a_shifted_one_is_not() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(8, 2, 20_000)

    same = population_stability(reference, rng.normal(8, 2, 2_000))
    shifted = population_stability(reference, rng.normal(10, 2, 2_000))

    assert same < 0.05
    assert shifted > 0.25


def test_a_discrete_feature_gets_one_bin_per_value() -> None:
    assert bin_edges(np.array([1, 2, 2, 3, 5, 5])).tolist() == [1.5, 2.5, 4.0]
    # all households with AC today, half of them in training
    assert population_stability(np.array([0.0, 1.0] * 50), np.ones(50)) > 0.25


def test_status_follows_the_thresholds() -> None:
    assert [status_of(x, 0.1, 0.25) for x in (0.05, 0.1, 0.3)] == ["stable", "shifted", "drifted"]


def test_every_feature_is_compared_on_the_newest_day(tmp_path: Path) -> None:
    frame = validated_frame(households=40, days=7)
    newest = frame["date"] == date(2025, 4, 7)
    frame.loc[newest, "avg_temperature_c"] += 15  # a heat wave on the newest day
    path = tmp_path / "validated.parquet"
    frame.to_parquet(path, index=False)
    training = [f"2025-04-0{d}" for d in range(1, 6)]

    drift = {d.feature: d for d in input_drift(path, training, "2025-04-07", 0.1, 0.25)}

    assert list(drift) == list(DRIFT_FEATURES)
    assert drift["avg_temperature_c"].status == "drifted"
    assert drift["avg_temperature_c"].reference_rows == 200
    assert drift["avg_temperature_c"].current_rows == 40
    assert drift["has_ac"].psi == pytest.approx(0.0, abs=1e-9)  # the same households
