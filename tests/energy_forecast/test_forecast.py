"""Next-day forecasts: one finite prediction per household, for the day after the data ends."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from energy_forecast.forecast import FORECAST_COLUMNS, next_day_rows
from energy_forecast.settings import BaselineSettings
from tests.builders import START, validated_frame

HOUSEHOLDS, DAYS = 40, 7
LAST_DAY = START + timedelta(days=DAYS - 1)


# --- next_day_rows (pandas only) -------------------------------------------------------------


def _household_1_stops_a_day_early() -> pd.DataFrame:
    """Three households over four days; H00001 lacks the last day. Rows shuffled."""
    validated = validated_frame(households=3, days=4)
    dropped = (validated["household_id"] == "H00001") & (
        validated["date"] == START + timedelta(days=3)
    )
    return validated[~dropped].sample(frac=1.0, random_state=0)


def test_next_day_rows_gives_one_row_per_household_dated_the_day_after_the_data() -> None:
    validated = _household_1_stops_a_day_early()

    rows = next_day_rows(validated)

    assert list(rows.columns) == list(validated.columns)
    assert sorted(rows["household_id"]) == ["H00000", "H00001", "H00002"]
    # H00001 stopped reporting early and still gets the common next day.
    assert set(rows["date"]) == {START + timedelta(days=4)}
    assert set(rows["day_of_week"]) == {(START + timedelta(days=4)).strftime("%A")}


def test_next_day_rows_leave_the_energy_unknown() -> None:
    rows = next_day_rows(_household_1_stops_a_day_early())

    assert rows["energy_kwh"].isna().all()
    assert rows["peak_hours_usage_kwh"].isna().all()


def test_next_day_rows_carry_each_households_last_temperature_size_and_ac() -> None:
    validated = _household_1_stops_a_day_early()
    last_day = {"H00000": 3, "H00001": 2, "H00002": 3}
    expected = pd.concat(
        validated[
            (validated["household_id"] == household)
            & (validated["date"] == START + timedelta(days=day))
        ]
        for household, day in last_day.items()
    ).set_index("household_id")

    rows = next_day_rows(validated).set_index("household_id")

    columns = ["avg_temperature_c", "household_size", "has_ac"]
    pd.testing.assert_frame_equal(rows.loc[expected.index, columns], expected[columns])


def test_next_day_rows_refuse_an_empty_data_set() -> None:
    with pytest.raises(ValueError, match="empty"):
        next_day_rows(validated_frame().iloc[:0])


# --- forecast_next_day (Spark) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def run(small_features: dict) -> dict[str, Any]:
    """Validated data, the fitted features and their manifest, shared with other modules."""
    manifest = small_features["manifest"]
    return {
        **small_features,
        "pipeline_model": Path(manifest["pipeline_model"]),
        "scale": manifest["scaler"][manifest["target_kwh"]],
    }


def _forecast(spark, run: dict[str, Any], champion: str, model_dir: Path, out: Path) -> Path:
    from energy_forecast.forecast import forecast_next_day

    return forecast_next_day(
        spark, champion, model_dir, run["validated"], run["pipeline_model"], run["scale"], out
    )


def _check_forecasts(path: Path, champion: str) -> None:
    forecasts = pd.read_parquet(path)

    assert tuple(forecasts.columns) == FORECAST_COLUMNS
    assert forecasts["household_id"].tolist() == [f"H{h:05d}" for h in range(HOUSEHOLDS)]
    assert set(pd.to_datetime(forecasts["date"]).dt.date) == {LAST_DAY + timedelta(days=1)}
    assert np.isfinite(forecasts["predicted_kwh"]).all()
    assert set(forecasts["model"]) == {champion}
    assert not path.with_name(path.name + ".tmp").exists()


@pytest.mark.spark
def test_forecast_next_day_with_an_xgboost_champion_writes_one_forecast_per_household(
    spark, run: dict[str, Any]
) -> None:
    from energy_forecast.baseline.xgb import run_baseline

    settings = BaselineSettings(xgb_n_estimators=10, xgb_early_stopping_rounds=3)
    baseline = run_baseline(settings, run["manifest_path"], run["root"] / "xgboost", "local[2]")

    path = _forecast(
        spark, run, "xgboost", Path(baseline["model"]), run["root"] / "xgb" / "forecasts.parquet"
    )

    _check_forecasts(path, "xgboost")


@pytest.mark.spark
def test_forecast_next_day_with_an_lstm_champion_writes_one_forecast_per_household(
    spark, run: dict[str, Any]
) -> None:
    from energy_forecast.training import artifacts
    from energy_forecast.training.model import LSTMConfig, build_model

    manifest = run["manifest"]
    config = LSTMConfig(
        sequence_length=manifest["sequence_length"],
        sequence_features=len(manifest["sequence_features"]),
        static_features=len(manifest["static_features"]),
        lstm_hidden_size=4,
        static_hidden_size=4,
        head_hidden_size=4,
    )
    model_dir = run["root"] / "lstm"
    artifacts.save_model(build_model(config, seed=0).state_dict(), config, model_dir)

    path = _forecast(spark, run, "lstm", model_dir, run["root"] / "lstm_out" / "forecasts.parquet")

    _check_forecasts(path, "lstm")


@pytest.mark.spark
def test_forecast_next_day_raises_for_an_unknown_champion(
    spark, run: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "forecasts.parquet"

    with pytest.raises(ValueError, match="no forecaster for champion 'prophet'"):
        _forecast(spark, run, "prophet", tmp_path, out)

    assert not out.exists()
