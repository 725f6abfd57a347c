"""Next-day forecasts: each household for the day after its own last row, honestly labelled."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from energy_forecast.forecast import FORECAST_COLUMNS
from energy_forecast.scoring import SavedModel
from tests.builders import START, validated_frame

HOUSEHOLDS, DAYS = 40, 7
LAST_DAY = START + timedelta(days=DAYS - 1)


# --- next_day_targets ------------------------------------------------------------------------


def _targets(spark, validated: pd.DataFrame, stale_after_days: int = 7, temperatures=None):
    from energy_forecast.forecast import next_day_targets

    history = spark.createDataFrame(validated)
    return (
        next_day_targets(history, stale_after_days, temperatures)
        .toPandas()
        .set_index("household_id")
    )


def _gaps() -> pd.DataFrame:
    """Three households over ten days: H00001 stops after day 7, H00002 after day 1."""
    missing = {(1, d) for d in range(7, 10)} | {(2, d) for d in range(1, 10)}
    return validated_frame(households=3, days=10, missing=missing)


@pytest.mark.spark
def test_each_household_is_forecast_for_the_day_after_its_own_last_row(spark) -> None:
    targets = _targets(spark, _gaps())

    assert targets.loc["H00000", "date"] == START + timedelta(days=10)
    assert targets.loc["H00001", "date"] == START + timedelta(days=7)
    assert targets.loc["H00001", "day_of_week"] == (START + timedelta(days=7)).strftime("%A")
    assert targets["energy_kwh"].isna().all() and targets["peak_hours_usage_kwh"].isna().all()


@pytest.mark.spark
def test_households_older_than_the_stale_limit_are_flagged(spark) -> None:
    targets = _targets(spark, _gaps(), stale_after_days=5)

    assert targets["stale"].to_dict() == {"H00000": False, "H00001": False, "H00002": True}


@pytest.mark.spark
def test_without_a_forecast_table_the_households_mean_temperature_stands_in(spark) -> None:
    validated = _gaps()
    means = validated.groupby("household_id")["avg_temperature_c"].mean()

    targets = _targets(spark, validated)

    pd.testing.assert_series_equal(
        targets["avg_temperature_c"].sort_index(), means.sort_index(), check_names=False
    )
    assert set(targets["temperature_source"]) == {"household_mean"}


@pytest.mark.spark
def test_a_forecast_table_gives_the_days_temperature_where_it_has_one(
    spark, tmp_path: Path
) -> None:
    from energy_forecast.temperature_forecasts import read_temperature_forecasts

    table = tmp_path / "temperatures.csv"
    day = START + timedelta(days=10)
    table.write_text(f"household_id,date,temperature_c\nH00000,{day.isoformat()},31.5\n")

    targets = _targets(spark, _gaps(), temperatures=read_temperature_forecasts(table))

    assert targets.loc["H00000", "avg_temperature_c"] == 31.5
    assert targets.loc["H00000", "temperature_source"] == "forecast_table"
    assert targets.loc["H00001", "temperature_source"] == "household_mean"


# --- forecast_next_day (Spark) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def run(small_features: dict) -> dict[str, Any]:
    """Validated data and the fitted pipeline, shared with other modules."""
    manifest = small_features["manifest"]
    return {**small_features, "pipeline_model": Path(manifest["pipeline_model"])}


def _forecast(spark, run: dict[str, Any], kind: str, model_dir: Path, out: Path) -> Path:
    from energy_forecast.forecast import forecast_next_day

    model = SavedModel(kind, model_dir, run["pipeline_model"])
    return forecast_next_day(spark, model, run["validated"], out, stale_after_days=7)


def _check_forecasts(path: Path, champion: str) -> None:
    forecasts = pd.read_parquet(path)

    assert tuple(forecasts.columns) == FORECAST_COLUMNS
    assert forecasts["household_id"].tolist() == [f"H{h:05d}" for h in range(HOUSEHOLDS)]
    assert set(pd.to_datetime(forecasts["date"]).dt.date) == {LAST_DAY + timedelta(days=1)}
    assert np.isfinite(forecasts["predicted_kwh"]).all()
    assert set(forecasts["model"]) == {champion}
    assert set(forecasts["status"]) == {"forecast"}
    assert not path.with_name(path.name + ".tmp").exists()


@pytest.mark.spark
def test_forecast_next_day_with_an_xgboost_champion_writes_one_forecast_per_household(
    spark, run: dict[str, Any], small_baseline: dict[str, str]
) -> None:
    model_dir = Path(small_baseline["model"])
    path = _forecast(spark, run, "xgboost", model_dir, run["root"] / "xgb" / "forecasts.parquet")

    _check_forecasts(path, "xgboost")


@pytest.mark.spark
def test_forecast_next_day_with_an_lstm_champion_writes_one_forecast_per_household(
    spark, run: dict[str, Any]
) -> None:
    from energy_forecast.training.manifest import FeaturesManifest
    from tests.builders import save_untrained_lstm

    model_dir = run["root"] / "lstm"
    save_untrained_lstm(FeaturesManifest.load(run["manifest_path"]).shape, model_dir)

    path = _forecast(spark, run, "lstm", model_dir, run["root"] / "lstm_out" / "forecasts.parquet")

    _check_forecasts(path, "lstm")


def test_an_unknown_model_kind_is_refused_before_spark_is_touched(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no scorer for model kind 'prophet'"):
        SavedModel("prophet", tmp_path, tmp_path)


@pytest.mark.spark
def test_every_forecast_row_has_yesterday_as_a_real_day(spark, run: dict[str, Any]) -> None:
    from pyspark.ml import PipelineModel
    from pyspark.sql import functions as F

    from energy_forecast.forecast import next_day_targets

    history = spark.read.parquet(str(run["validated"]))
    targets = next_day_targets(history, stale_after_days=7).select(*history.columns)
    features = PipelineModel.load(str(run["pipeline_model"])).transform(
        history.unionByName(targets)
    )
    masks = features.filter(F.col("energy_kwh").isNull()).select("mask").toPandas()

    assert len(masks) == HOUSEHOLDS
    assert all(mask[-1] == 1.0 for mask in masks["mask"])
