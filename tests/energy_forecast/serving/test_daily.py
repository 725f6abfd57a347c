"""Every run forecasts with the champion as published, new or kept: its own pipeline on this
run's data, one table per forecast day."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from energy_forecast.features.manifest import FeaturesManifest
from energy_forecast.serving.daily import champion_forecasts, forecasts_root, write_daily_tables
from energy_forecast.serving.forecast import FORECAST_COLUMNS, forecast_next_day
from energy_forecast.serving.scoring import SavedModel
from tests.builders import START

HOUSEHOLDS, DAYS = 40, 7
NEXT_DAY = START + timedelta(days=DAYS)


@pytest.fixture(scope="module")
def champion(small_features: dict, small_baseline: dict[str, str]) -> dict[str, Any]:
    manifest = FeaturesManifest.load(small_features["manifest_path"])
    saved = SavedModel("xgboost", Path(small_baseline["model"]), manifest.pipeline_model)
    return {**small_features, "features": manifest, "saved": saved}


@pytest.mark.spark
def test_a_kept_champion_forecasts_what_it_forecast_when_it_was_published(
    spark: Any, champion: dict[str, Any], tmp_path: Path
) -> None:
    """Same data, same pipeline: the champion's own features built anew give the forecasts
    that publishing made from the features preprocessing wrote."""
    history = spark.read.parquet(str(champion["validated"]))
    radii = {"80": 1.0, "95": 2.0}

    daily = champion_forecasts(champion["saved"], radii, history, stale_after_days=7)
    published = pd.read_parquet(
        forecast_next_day(
            "xgboost",
            champion["saved"].model_dir,
            champion["features"],
            tmp_path / "published.parquet",
            7,
            radii=radii,
        )
    )

    assert tuple(daily.columns) == FORECAST_COLUMNS
    assert daily["household_id"].tolist() == published["household_id"].tolist()
    assert set(pd.to_datetime(daily["date"]).dt.date) == {NEXT_DAY}
    assert np.allclose(daily["predicted_kwh"], published["predicted_kwh"], atol=1e-4)
    assert np.allclose(daily["upper_95_kwh"], daily["predicted_kwh"] + 2.0)
    assert set(daily["status"]) == {"forecast"} and set(daily["model"]) == {"xgboost"}


@pytest.mark.spark
def test_a_household_silent_for_longer_than_the_limit_is_stale_not_forecast(
    spark: Any, champion: dict[str, Any]
) -> None:
    from pyspark.sql import functions as F

    history = spark.read.parquet(str(champion["validated"]))
    quiet = history.filter(
        (F.col("household_id") != "H00000") | (F.col("date") <= F.lit(START.isoformat()))
    )

    daily = champion_forecasts(champion["saved"], {}, quiet, stale_after_days=2)

    stale = daily[daily["household_id"] == "H00000"].iloc[0]
    assert stale["status"] == "stale" and np.isnan(stale["predicted_kwh"])
    assert (daily["status"] == "forecast").sum() == HOUSEHOLDS - 1


def test_each_forecast_day_is_a_table_of_its_own_merged_by_household(tmp_path: Path) -> None:
    """A later run's forecast for a household replaces that household's row only: the
    other households' published forecasts stay to meet their actuals."""
    day_one = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3"],
            "date": pd.to_datetime(["2025-04-09", "2025-04-09", "2025-04-10"]),
            "predicted_kwh": [1.0, 2.0, 3.0],
        }
    )

    first = write_daily_tables(day_one, "3", root=tmp_path)
    again = write_daily_tables(
        day_one.assign(predicted_kwh=[4.0, 5.0, 6.0]).head(2), "4", root=tmp_path
    )

    root = forecasts_root(tmp_path)
    assert first == {
        "2025-04-09": str(root / "date=2025-04-09" / "forecasts.parquet"),
        "2025-04-10": str(root / "date=2025-04-10" / "forecasts.parquet"),
    }
    assert list(again) == ["2025-04-09"]
    assert pd.read_parquet(first["2025-04-09"])["predicted_kwh"].tolist() == [4.0, 5.0]
    assert pd.read_parquet(first["2025-04-10"])["predicted_kwh"].tolist() == [3.0]
    assert pd.read_parquet(first["2025-04-09"])["champion_version"].tolist() == ["4", "4"]

    late = write_daily_tables(day_one.iloc[[1]].assign(predicted_kwh=7.0), "5", root=tmp_path)

    merged = pd.read_parquet(late["2025-04-09"])
    assert merged[["household_id", "predicted_kwh", "champion_version"]].values.tolist() == [
        ["H1", 4.0, "4"],
        ["H2", 7.0, "5"],
    ]
    assert sorted(p.name for p in root.iterdir()) == ["date=2025-04-09", "date=2025-04-10"]


def test_a_day_the_champion_was_trained_on_is_never_written_as_a_forecast(tmp_path: Path) -> None:
    """A rerun of an old date after a newer promotion would otherwise overwrite that day's
    real forecast with the hindsight of a model that saw its actuals."""
    days = pd.DataFrame(
        {
            "household_id": ["H1", "H2"],
            "date": pd.to_datetime(["2025-04-08", "2025-04-09"]),
            "predicted_kwh": [1.0, 2.0],
        }
    )

    written = write_daily_tables(days, "2", trained_through="2025-04-08", root=tmp_path)

    assert list(written) == ["2025-04-09"]
    assert not (forecasts_root(tmp_path) / "date=2025-04-08").exists()
