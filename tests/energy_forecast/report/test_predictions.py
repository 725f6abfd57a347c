"""Models are compared only on identical rows with identical actuals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from energy_forecast.metrics import PREDICTION_COLUMNS, write_predictions
from energy_forecast.report.predictions import RowMismatchError, check_same_rows, read_predictions


def predictions(rows: list[tuple[str, date, str, float]], offset: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": [h for h, _, _, _ in rows],
            "date": [d for _, d, _, _ in rows],
            "split": [s for _, _, s, _ in rows],
            "actual_kwh": [a for _, _, _, a in rows],
            "predicted_kwh": [a + offset for _, _, _, a in rows],
        }
    )


ROWS = [
    ("H1", date(2025, 4, 6), "val", 5.0),
    ("H1", date(2025, 4, 7), "test", 6.0),
    ("H2", date(2025, 4, 6), "val", 7.0),
    ("H2", date(2025, 4, 7), "test", 8.0),
]


def test_the_same_rows_in_another_order_and_date_type_are_accepted() -> None:
    other = predictions(ROWS[::-1], offset=1.0)
    other["date"] = pd.to_datetime(other["date"])  # timestamps instead of dates

    check_same_rows({"lstm": predictions(ROWS), "xgboost": other})


def test_a_missing_row_is_reported_with_the_models_and_an_example() -> None:
    with pytest.raises(
        RowMismatchError, match=r"1 rows only in 'lstm' \(e\.g\. H2 2025-04-07 test\)"
    ):
        check_same_rows({"lstm": predictions(ROWS), "xgboost": predictions(ROWS[:3])})


def test_the_same_day_in_another_split_is_a_different_row() -> None:
    moved = [*ROWS[:3], ("H2", date(2025, 4, 7), "val", 8.0)]

    with pytest.raises(RowMismatchError, match="not evaluated on the same rows"):
        check_same_rows({"lstm": predictions(ROWS), "xgboost": predictions(moved)})


def test_different_actuals_for_the_same_row_are_an_error() -> None:
    shifted = [(h, d, s, a + 0.5 if h == "H1" else a) for h, d, s, a in ROWS]

    with pytest.raises(RowMismatchError, match="disagree on the actual energy of 2 rows"):
        check_same_rows({"lstm": predictions(ROWS), "xgboost": predictions(shifted)})


def test_reading_refuses_repeated_rows_and_unreported_splits(tmp_path: Path) -> None:
    repeated = write_predictions(predictions([*ROWS, ROWS[0]]), tmp_path / "repeated.parquet")
    training = write_predictions(
        predictions([*ROWS, ("H1", date(2025, 4, 5), "train", 4.0)]), tmp_path / "train.parquet"
    )

    with pytest.raises(ValueError, match="more than one prediction"):
        read_predictions(repeated)
    with pytest.raises(ValueError, match="splits \\['train'\\]"):
        read_predictions(training)


def test_reading_returns_the_shared_columns(tmp_path: Path) -> None:
    path = write_predictions(predictions(ROWS), tmp_path / "p.parquet")

    frame = read_predictions(path)

    assert list(frame.columns) == list(PREDICTION_COLUMNS)
    assert len(frame) == len(ROWS)
