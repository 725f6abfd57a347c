"""Next-day forecasts: each household for the day after its own last row, honestly labelled,
predicted from the next-day features preprocessing wrote, without Spark."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from energy_forecast.features.manifest import FeaturesManifest
from energy_forecast.serving.forecast import FORECAST_COLUMNS, forecast_next_day
from tests.builders import START

HOUSEHOLDS, DAYS = 40, 7
LAST_DAY = START + timedelta(days=DAYS - 1)
NEXT_DAY = LAST_DAY + timedelta(days=1)


@pytest.fixture(scope="module")
def run(small_features: dict, small_baseline: dict[str, str]) -> dict[str, Any]:
    """The shared small features, their manifest, an XGBoost and an untrained LSTM."""
    from tests.builders import save_untrained_lstm

    manifest = FeaturesManifest.load(small_features["manifest_path"])
    lstm_dir = small_features["root"] / "forecast_lstm"
    save_untrained_lstm(manifest.shape, lstm_dir)
    return {
        **small_features,
        "features": manifest,
        "models": {"xgboost": Path(small_baseline["model"]), "lstm": lstm_dir},
    }


def _forecast(run: dict[str, Any], kind: str, out: Path, **options: Any) -> pd.DataFrame:
    manifest = options.pop("manifest", run["features"])
    options.setdefault("stale_after_days", 7)
    path = forecast_next_day(kind, run["models"][kind], manifest, out, **options)
    assert not path.with_name(path.name + ".tmp").exists()
    return pd.read_parquet(path)


def _temperature_table(temperatures: dict[str, float]) -> pd.DataFrame:
    from energy_forecast.serving.temperatures import FORECAST_TEMPERATURE

    return pd.DataFrame(
        {
            "household_id": list(temperatures),
            "date": [NEXT_DAY] * len(temperatures),
            FORECAST_TEMPERATURE: list(temperatures.values()),
        }
    )


@pytest.mark.spark
@pytest.mark.parametrize("kind", ["xgboost", "lstm"])
def test_each_household_gets_one_finite_forecast_for_the_day_after_its_last_row(
    run: dict[str, Any], kind: str, tmp_path: Path
) -> None:
    forecasts = _forecast(run, kind, tmp_path / "forecasts.parquet")

    assert tuple(forecasts.columns) == FORECAST_COLUMNS
    assert forecasts["household_id"].tolist() == [f"H{h:05d}" for h in range(HOUSEHOLDS)]
    assert set(pd.to_datetime(forecasts["date"]).dt.date) == {NEXT_DAY}
    assert set(pd.to_datetime(forecasts["last_observed_date"]).dt.date) == {LAST_DAY}
    assert np.isfinite(forecasts["predicted_kwh"]).all()
    assert set(forecasts["model"]) == {kind}
    assert set(forecasts["status"]) == {"forecast"}


@pytest.mark.spark
def test_forecasts_carry_the_champions_intervals(run: dict[str, Any], tmp_path: Path) -> None:
    forecasts = _forecast(
        run, "xgboost", tmp_path / "forecasts.parquet", radii={"80": 1.0, "95": 2.5}
    )

    predicted = forecasts["predicted_kwh"]
    assert np.allclose(forecasts["upper_80_kwh"], predicted + 1.0)
    assert np.allclose(forecasts["upper_95_kwh"], predicted + 2.5)
    assert np.allclose(forecasts["lower_95_kwh"], np.maximum(predicted - 2.5, 0))
    assert (forecasts["lower_95_kwh"] <= forecasts["lower_80_kwh"]).all()


@pytest.mark.spark
def test_without_a_forecast_table_the_households_mean_temperature_stands_in(
    run: dict[str, Any], tmp_path: Path
) -> None:
    means = pd.read_parquet(run["validated"]).groupby("household_id")["avg_temperature_c"].mean()

    forecasts = _forecast(run, "xgboost", tmp_path / "forecasts.parquet")

    np.testing.assert_allclose(
        forecasts.set_index("household_id")["avg_temperature_c"].sort_index(),
        means.sort_index(),
    )
    assert set(forecasts["temperature_source"]) == {"household_mean"}


@pytest.mark.spark
@pytest.mark.parametrize("kind", ["xgboost", "lstm"])
def test_a_table_temperature_forecasts_exactly_as_features_rebuilt_by_the_pipeline_with_it(
    spark, run: dict[str, Any], kind: str, tmp_path: Path
) -> None:
    """The written row with its temperature slot replaced is the row the fitted pipeline
    builds from that temperature: the same prediction as scoring through Spark."""
    from pyspark.sql import functions as F

    from energy_forecast.features.next_day import next_day_rows
    from energy_forecast.serving.scoring import SavedModel, score

    temperatures = {"H00000": 31.5, "H00003": -4.0}
    forecasts = _forecast(
        run, kind, tmp_path / "forecasts.parquet", temperatures=_temperature_table(temperatures)
    ).set_index("household_id")

    history = spark.read.parquet(str(run["validated"]))
    table = spark.createDataFrame(list(temperatures.items()), "household_id string, t double")
    targets = (
        next_day_rows(history)
        .join(table, "household_id", "left")
        .withColumn("avg_temperature_c", F.coalesce("t", "avg_temperature_c"))
        .drop("t", "last_observed_date")
    )
    model = SavedModel(kind, run["models"][kind], run["features"].pipeline_model)
    rebuilt = score(model, history, targets).set_index("household_id")["predicted_kwh"]

    assert forecasts.loc["H00000", "avg_temperature_c"] == 31.5
    assert forecasts.loc["H00000", "temperature_source"] == "forecast_table"
    assert forecasts.loc["H00001", "temperature_source"] == "household_mean"
    np.testing.assert_allclose(
        forecasts["predicted_kwh"].sort_index(), rebuilt.sort_index(), rtol=1e-5, atol=1e-6
    )


def _with_household_last_seen_earlier(run: dict[str, Any], root: Path, days: int) -> Path:
    """A copy of the features whose H00002 was last observed ``days`` before the others."""
    features = root / "features"
    shutil.copytree(run["manifest_path"].parent, features)
    manifest_text = (features / "manifest.json").read_text()
    (features / "manifest.json").write_text(
        manifest_text.replace(str(run["manifest_path"].parent), str(features))
    )
    manifest = FeaturesManifest.load(features / "manifest.json")
    assert manifest.next_day_path.is_relative_to(features)
    (part,) = sorted(manifest.next_day_path.glob("part-*.parquet"))
    rows = pd.read_parquet(part)
    earlier = rows["household_id"] == "H00002"
    rows.loc[earlier, "last_observed_date"] = LAST_DAY - timedelta(days=days)
    rows.to_parquet(part, index=False)
    return features / "manifest.json"


@pytest.mark.spark
def test_households_older_than_the_stale_limit_are_flagged_and_not_forecast(
    run: dict[str, Any], tmp_path: Path
) -> None:
    manifest = FeaturesManifest.load(_with_household_last_seen_earlier(run, tmp_path, days=6))

    forecasts = _forecast(
        run, "xgboost", tmp_path / "f.parquet", manifest=manifest, stale_after_days=5
    ).set_index("household_id")

    assert forecasts.loc["H00002", "status"] == "stale"
    assert np.isnan(forecasts.loc["H00002", "predicted_kwh"])
    assert (forecasts.drop(index="H00002")["status"] == "forecast").all()
    assert np.isfinite(forecasts.drop(index="H00002")["predicted_kwh"]).all()


@pytest.mark.spark
def test_every_next_day_row_has_yesterday_as_a_real_day(run: dict[str, Any]) -> None:
    rows = pd.read_parquet(run["features"].next_day_path)

    assert len(rows) == HOUSEHOLDS
    assert rows["energy_kwh"].isna().all()
    assert all(mask[-1] == 1.0 for mask in rows["mask"])


def test_features_without_next_day_rows_are_refused_with_the_folder_named(
    tmp_path: Path,
) -> None:
    manifest = FeaturesManifest(
        path=tmp_path / "manifest.json",
        sequence_length=3,
        sequence_features=("a",),
        static_features=("b",),
        target="energy_kwh_scaled",
        target_kwh="energy_kwh",
        split_paths={},
        target_scale=None,  # type: ignore[arg-type]
        fingerprint="",
    )

    with pytest.raises(FileNotFoundError, match=f"{tmp_path} hold no next-day rows"):
        forecast_next_day("xgboost", tmp_path, manifest, tmp_path / "f.parquet", 7)
