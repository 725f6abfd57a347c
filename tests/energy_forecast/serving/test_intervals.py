"""Split-conformal intervals: calibrated on the validation days, checked on the test days,
carried by every forecast."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from energy_forecast.serving.intervals import (
    bounds,
    calibrate,
    conformal_radius,
    interval_columns,
    with_intervals,
)


def _predictions(rng: np.random.Generator, rows: int, noise: float) -> pd.DataFrame:
    actual = rng.uniform(4, 18, size=2 * rows)
    return pd.DataFrame(
        {
            "split": ["val"] * rows + ["test"] * rows,
            "actual_kwh": actual,
            "predicted_kwh": actual + rng.normal(0, noise, size=2 * rows),
        }
    )


def test_the_radius_is_the_conformal_rank_of_the_calibration_errors() -> None:
    errors = np.arange(1.0, 11.0)  # 1..10, n = 10

    assert conformal_radius(errors, 0.8) == 9.0  # ceil(11 * 0.8) = 9th smallest
    assert conformal_radius(errors, 0.9) == 10.0  # ceil(11 * 0.9) = 10th
    assert conformal_radius(errors, 0.95) == math.inf  # 11th: too few rows to promise it


def test_on_exchangeable_days_the_test_coverage_keeps_the_promise() -> None:
    fitted = calibrate(_predictions(np.random.default_rng(7), rows=4000, noise=1.1))

    for name, level in (("80", 0.8), ("95", 0.95)):
        assert fitted[name]["level"] == level
        assert fitted[name]["test_coverage"] == pytest.approx(level, abs=0.02)
        assert fitted[name]["calibration_rows"] == fitted[name]["test_rows"] == 4000
    assert fitted["95"]["radius_kwh"] > fitted["80"]["radius_kwh"] > 0
    assert fitted["80"]["radius_kwh"] == pytest.approx(1.1 * 1.2816, rel=0.05)  # normal 90th


def test_a_lower_bound_is_never_below_zero_kwh() -> None:
    lower, upper = bounds(np.array([0.5, 10.0]), 2.0)

    assert lower.tolist() == [0.0, 8.0] and upper.tolist() == [2.5, 12.0]


def test_forecasts_get_a_lower_and_upper_bound_per_level() -> None:
    forecasts = pd.DataFrame({"predicted_kwh": [10.0, np.nan]})

    with_intervals(forecasts, {"80": 1.5, "95": 3.0})

    assert (
        tuple(c for c in forecasts.columns if c != "predicted_kwh")
        == (
            "lower_80_kwh",
            "upper_80_kwh",
            "lower_95_kwh",
            "upper_95_kwh",
        )
        == interval_columns()
    )
    assert forecasts.iloc[0, 1:].tolist() == [8.5, 11.5, 7.0, 13.0]
    assert forecasts.iloc[1, 1:].isna().all()  # a stale household gets no bounds
