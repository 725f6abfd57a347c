"""The XGBoost baseline: fit on the lag features, evaluate on exactly the held-out rows."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from energy_forecast.metrics import PREDICTION_COLUMNS
from energy_forecast.settings import XGBoostSettings
from energy_forecast.spark.cluster import InsufficientSlotsError

pytestmark = pytest.mark.spark

SETTINGS = XGBoostSettings(xgb_n_estimators=20, xgb_early_stopping_rounds=5)
HOUSEHOLDS = 40  # the size of the shared small_features fixture
MASTER = "local[2]"
KEY = ["household_id", "date"]


@pytest.fixture(scope="module")
def manifest_path(small_features: dict) -> Path:
    assert small_features["manifest"]["splits"]["train"]["row_groups"] >= 2
    return small_features["manifest_path"]


@pytest.fixture(scope="module")
def baseline(small_baseline: dict[str, str], manifest_path: Path) -> dict[str, str]:
    metrics = json.loads(Path(small_baseline["metrics"]).read_text())
    assert metrics["settings"] == dataclasses.asdict(SETTINGS)  # the fixture's settings
    return small_baseline


def _held_out(manifest_path: Path) -> pd.DataFrame:
    splits = json.loads(manifest_path.read_text())["splits"]
    frames = [
        pd.read_parquet(splits[name]["path"], columns=[*KEY, "split", "energy_kwh"])
        for name in ("val", "test")
    ]
    return pd.concat(frames).sort_values(KEY).reset_index(drop=True)


def test_run_xgboost_writes_model_predictions_and_metrics(baseline: dict[str, str]) -> None:
    assert set(baseline) == {"model", "predictions", "metrics"}
    assert Path(baseline["model"]).is_dir()
    assert Path(baseline["model"]).name == "model"
    assert Path(baseline["predictions"]).name == "predictions.parquet"
    assert Path(baseline["metrics"]).name == "metrics.json"
    assert Path(baseline["predictions"]).is_file() and Path(baseline["metrics"]).is_file()


def test_predictions_are_exactly_the_val_and_test_rows_with_their_actual_energy(
    baseline: dict[str, str], manifest_path: Path
) -> None:
    predictions = pd.read_parquet(baseline["predictions"])
    held_out = _held_out(manifest_path)

    assert tuple(predictions.columns) == PREDICTION_COLUMNS
    predictions = predictions.sort_values(KEY).reset_index(drop=True)
    assert not predictions.duplicated(KEY).any()
    pd.testing.assert_frame_equal(
        predictions[[*KEY, "split"]], held_out[[*KEY, "split"]], check_dtype=False
    )
    np.testing.assert_array_equal(predictions["actual_kwh"], held_out["energy_kwh"])
    assert np.isfinite(predictions["predicted_kwh"]).all()


def test_metrics_cover_val_and_test_with_the_number_of_rows_predicted(
    baseline: dict[str, str], manifest_path: Path
) -> None:
    metrics = json.loads(Path(baseline["metrics"]).read_text())
    splits = json.loads(manifest_path.read_text())["splits"]
    predictions = pd.read_parquet(baseline["predictions"])

    assert metrics["model"] == "xgboost"
    assert set(metrics["splits"]) == {"val", "test"}
    for name in ("val", "test"):
        n = metrics["splits"][name]["n"]
        assert n == splits[name]["rows"] == (predictions["split"] == name).sum() == HOUSEHOLDS
        assert metrics["splits"][name]["rmse"] >= metrics["splits"][name]["mae"] > 0
    assert metrics["settings"] == dataclasses.asdict(SETTINGS)
    assert 0 <= metrics["best_iteration"] < SETTINGS.xgb_n_estimators


def test_saved_model_loads_and_reproduces_the_predictions(
    spark, baseline: dict[str, str], manifest_path: Path
) -> None:
    from xgboost.spark import SparkXGBRegressorModel

    splits = json.loads(manifest_path.read_text())["splits"]
    model = SparkXGBRegressorModel.load(baseline["model"])
    rows = spark.read.parquet(splits["val"]["path"]).unionByName(
        spark.read.parquet(splits["test"]["path"])
    )

    again = model.transform(rows).select(*KEY, "prediction").toPandas()
    written = pd.read_parquet(baseline["predictions"])
    merged = written.merge(again, on=KEY, validate="one_to_one")

    assert len(merged) == len(written)
    np.testing.assert_allclose(merged["prediction"], merged["predicted_kwh"], rtol=1e-6)


def test_the_saved_booster_predicts_what_the_spark_model_predicted_without_spark(
    baseline: dict[str, str], manifest_path: Path
) -> None:
    """The report scores XGBoost as served from numpy arrays; early stopping's best
    iteration must bound the trees there as it does in ``xgboost.spark``."""
    import pyarrow.parquet as pq

    from energy_forecast.features.arrays import decode_tabular
    from energy_forecast.features.manifest import FeaturesManifest
    from energy_forecast.xgb.train import booster_predictor

    manifest = FeaturesManifest.load(manifest_path)
    table = pq.read_table(manifest.split_paths["test"], columns=[*KEY, "tabular_features"])

    predicted = booster_predictor(Path(baseline["model"]))(decode_tabular(table, manifest.shape))

    written = pd.read_parquet(baseline["predictions"])
    mine = table.select(KEY).to_pandas().assign(booster=predicted)
    merged = written.merge(mine, on=KEY, validate="one_to_one")
    assert len(merged) == table.num_rows > 0
    assert json.loads(Path(baseline["metrics"]).read_text())["best_iteration"] < 19
    np.testing.assert_allclose(merged["booster"], merged["predicted_kwh"], rtol=1e-6)


@pytest.mark.parametrize("empty", ["train", "val", "test"])
def test_an_empty_split_raises_value_error(tmp_path: Path, empty: str) -> None:
    from energy_forecast.xgb.train import run_xgboost

    manifest = {
        "settings": {"sequence_length": 3},
        "sequence_features": ["avg_temperature_c", "peak_hours_usage_kwh", "energy_kwh"],
        "static_features": ["household_size_scaled", "has_ac", "avg_temperature_c_scaled"],
        "target": "energy_kwh_scaled",
        "target_kwh": "energy_kwh",
        "scaler": {"energy_kwh": {"mean": 8.0, "std": 3.0}},
        "splits": {
            name: {"path": str(tmp_path / name), "rows": 0 if name == empty else 10}
            for name in ("train", "val", "test")
        },
    }
    manifest_path = tmp_path / "manifest.json"
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(ValueError, match=f"the {empty} split is empty"):
        run_xgboost(SETTINGS, manifest_path, tmp_path / "out", MASTER)

    assert not (tmp_path / "out").exists()


def test_more_workers_than_spark_task_slots_raises_a_clear_error(
    spark, manifest_path: Path, tmp_path: Path
) -> None:
    from energy_forecast.xgb.train import run_xgboost

    slots = spark.sparkContext.defaultParallelism
    settings = dataclasses.replace(SETTINGS, xgb_num_workers=slots + 1)

    with pytest.raises(
        InsufficientSlotsError, match=rf"xgb_num_workers={slots + 1}.*holds {slots}"
    ):
        run_xgboost(settings, manifest_path, tmp_path / "out", MASTER)

    assert not (tmp_path / "out").exists()


def test_unset_xgb_num_workers_trains_on_every_task_slot_held(
    spark, baseline: dict[str, str]
) -> None:
    assert SETTINGS.xgb_num_workers is None
    metrics = json.loads(Path(baseline["metrics"]).read_text())

    assert metrics["num_workers"] == spark.sparkContext.defaultParallelism == 2


def test_unset_xgb_num_workers_follows_the_slots_and_logs_the_choice(spark, caplog) -> None:
    from energy_forecast.xgb.train import resolve_num_workers

    slots = spark.sparkContext.defaultParallelism
    with caplog.at_level(logging.INFO, logger="energy_forecast.xgb.train"):
        assert resolve_num_workers(spark, None, declared_cores=slots) == slots
        # Fewer slots than the declared cores (a busy cluster): train on those held.
        assert resolve_num_workers(spark, None, declared_cores=slots + 2) == slots

    assert f"xgb_num_workers unset: {slots} workers" in caplog.text
    assert f"training XGBoost on the {slots} task slots held" in caplog.text


def test_a_set_xgb_num_workers_is_used_as_given(spark) -> None:
    from energy_forecast.xgb.train import resolve_num_workers

    assert resolve_num_workers(spark, 1, declared_cores=2) == 1
