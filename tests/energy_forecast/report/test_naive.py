"""The naive baselines forecast from strictly earlier days, with counted fallbacks."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from energy_forecast.metrics import PREDICTION_COLUMNS
from energy_forecast.report.naive import (
    HOUSEHOLD_MEAN,
    PERSISTENCE,
    naive_forecasts,
    training_mean_kwh,
)

DAY = date(2025, 4, 1)


def day(n: int) -> date:
    return DAY + timedelta(days=n - 1)


def validated(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": [h for h, _, _ in rows],
            "date": [day(n) for _, n, _ in rows],
            "energy_kwh": [e for _, _, e in rows],
        }
    )


def targets(rows: list[tuple[str, int, str]], data: pd.DataFrame) -> pd.DataFrame:
    """Prediction rows whose actuals come from ``data`` and whose predictions are junk."""
    actual = data.set_index(["household_id", "date"])["energy_kwh"]
    return pd.DataFrame(
        {
            "household_id": [h for h, _, _ in rows],
            "date": [day(n) for _, n, _ in rows],
            "split": [s for _, _, s in rows],
            "actual_kwh": [actual[(h, day(n))] for h, n, _ in rows],
            "predicted_kwh": -1.0,
        }
    )


# Household A misses day 3; household B has no day before the first forecast day (4).
DATA = validated(
    [("A", 1, 1.0), ("A", 2, 2.0), ("A", 4, 4.0), ("A", 5, 5.0), ("B", 4, 10.0), ("B", 5, 20.0)]
)
# Deliberately not in date order: the output must follow this order anyway.
ROWS = targets([("A", 5, "test"), ("B", 4, "val"), ("A", 4, "val"), ("B", 5, "test")], DATA)
TRAINING_MEAN = 1.5  # days before day 4 are the training split: A's 1.0 and 2.0


def test_training_mean_uses_only_days_before_the_first_forecast_day() -> None:
    assert training_mean_kwh(DATA, ROWS) == pytest.approx(TRAINING_MEAN)


def test_persistence_takes_yesterday_else_the_latest_earlier_day_else_the_training_mean() -> None:
    forecasts = naive_forecasts(DATA, ROWS)

    assert forecasts.predictions[PERSISTENCE]["predicted_kwh"].tolist() == pytest.approx(
        [4.0, TRAINING_MEAN, 2.0, 10.0]  # A5: day 4; B4: no history; A4: day 3 missing -> day 2
    )
    assert forecasts.fallbacks[PERSISTENCE] == {
        "previous_day": 2,
        "earlier_day": 1,
        "training_mean": 1,
    }


def test_household_mean_averages_only_strictly_earlier_days() -> None:
    forecasts = naive_forecasts(DATA, ROWS)

    assert forecasts.predictions[HOUSEHOLD_MEAN]["predicted_kwh"].tolist() == pytest.approx(
        [(1.0 + 2.0 + 4.0) / 3, TRAINING_MEAN, (1.0 + 2.0) / 2, 10.0]
    )
    assert forecasts.fallbacks[HOUSEHOLD_MEAN] == {"household_history": 3, "training_mean": 1}
    assert forecasts.training_mean_kwh == pytest.approx(TRAINING_MEAN)


def test_outputs_keep_the_rows_keys_splits_and_actuals_in_order() -> None:
    forecasts = naive_forecasts(DATA, ROWS)

    for frame in forecasts.predictions.values():
        assert list(frame.columns) == list(PREDICTION_COLUMNS)
        pd.testing.assert_frame_equal(
            frame.drop(columns="predicted_kwh"), ROWS.drop(columns="predicted_kwh")
        )


def test_changing_the_target_day_or_later_never_changes_a_naive_prediction() -> None:
    rng = np.random.default_rng(7)
    data = validated(
        [
            (f"H{h}", n, float(rng.uniform(1, 20)))
            for h in range(5)
            for n in range(1, 8)
            if rng.random() > 0.2
        ]
    )
    rows = data[data["date"] >= day(6)]
    rows = targets(
        [
            (h, (d - DAY).days + 1, "val" if d == day(6) else "test")
            for h, d in zip(rows["household_id"], rows["date"], strict=True)
        ],
        data,
    )
    before = naive_forecasts(data, rows)

    for target_day in sorted(rows["date"].unique()):
        changed = data.copy()
        later = changed["date"] >= target_day
        changed.loc[later, "energy_kwh"] = changed.loc[later, "energy_kwh"] * 100 + 1000
        changed_rows = rows.assign(actual_kwh=rows["actual_kwh"] + 1000)
        after = naive_forecasts(changed, changed_rows)
        on_target = (rows["date"] == target_day).to_numpy()
        for name, frame in before.predictions.items():
            np.testing.assert_array_equal(
                after.predictions[name]["predicted_kwh"].to_numpy()[on_target],
                frame["predicted_kwh"].to_numpy()[on_target],
            )


def test_no_training_days_before_the_first_forecast_is_an_error() -> None:
    rows = targets([("A", 1, "val")], DATA)

    with pytest.raises(ValueError, match="no rows before"):
        naive_forecasts(DATA, rows)
