"""Train ``xgboost.spark.SparkXGBRegressor`` on the pipeline's lag features.

It reads the very Parquet the LSTM reads, so both models see the same rows, split and
targets. The label is energy in kWh (trees need no scaling); missing previous days are NaN
in the features and XGBoost learns where to send them. Early stopping watches the
validation split, which is passed alongside the training rows with an indicator column.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from energy_forecast import columns as C
from energy_forecast.features.arrays import decode_tabular, read_row_group
from energy_forecast.features.manifest import FeaturesManifest
from energy_forecast.metrics import metrics_by_split, write_json, write_predictions
from energy_forecast.settings import SparkResources, XGBoostSettings

if TYPE_CHECKING:
    import xgboost
    from pyspark.sql import SparkSession
    from xgboost.spark import SparkXGBRegressorModel

log = logging.getLogger(__name__)

MODEL_NAME = "xgboost"
#: The fitted booster in XGBoost's own format, inside the model folder: it scores numpy
#: arrays in the report without a Spark job.
BOOSTER_FILE = "booster.ubj"
_IS_VALIDATION = "is_validation"
_PREDICTION = "prediction"
#: What a prediction reads from a split; the features last.
_PREDICTION_INPUTS = (C.HOUSEHOLD, C.DATE, C.SPLIT, C.TARGET_KWH, C.TABULAR_FEATURES)


def build_regressor(settings: XGBoostSettings, num_workers: int):
    """The unfitted estimator; one place for every hyper-parameter."""
    from xgboost.spark import SparkXGBRegressor

    return SparkXGBRegressor(
        features_col=C.TABULAR_FEATURES,
        label_col=C.TARGET_KWH,
        prediction_col=_PREDICTION,
        validation_indicator_col=_IS_VALIDATION,
        num_workers=num_workers,
        # Always shuffle into num_workers partitions: when the input already has that many
        # (a union of one-file splits), XGBoost keeps them as they are, one worker holding
        # only validation rows, and Spark refuses a barrier stage over a union.
        force_repartition=True,
        max_depth=settings.xgb_max_depth,
        n_estimators=settings.xgb_n_estimators,
        learning_rate=settings.xgb_learning_rate,
        early_stopping_rounds=settings.xgb_early_stopping_rounds,
        eval_metric="rmse",
        random_state=settings.seed,
        tree_method="hist",
    )


def resolve_num_workers(
    spark: SparkSession, requested: int | None, declared_cores: int, web_ui: str | None = None
) -> int:
    """XGBoost's ``num_workers``: ``requested`` once that many task slots are there; with
    ``None``, the slots this application holds once it has its ``declared_cores`` (or, when
    the cluster cannot give them all in time, whatever it holds: at least one)."""
    from energy_forecast.spark.cluster import (
        InsufficientSlotsError,
        task_slots,
        wait_for_task_slots,
    )

    if requested is not None:
        wait_for_task_slots(spark, requested, f"xgb_num_workers={requested}", web_ui=web_ui)
        return requested
    purpose = f"xgb_num_workers unset, {declared_cores} declared cores"
    try:
        slots = wait_for_task_slots(spark, declared_cores, purpose, web_ui=web_ui)
    except InsufficientSlotsError as error:
        slots = task_slots(spark)
        if slots < 1:
            raise
        log.warning("%s; training XGBoost on the %d task slots held", error, slots)
    log.info("xgb_num_workers unset: %d workers, one per task slot this application holds", slots)
    return slots


def run_xgboost(
    settings: XGBoostSettings,
    features_manifest: Path,
    output_dir: Path,
    spark_master: str,
    resources: SparkResources | None = None,
    master_web_ui: str | None = None,
) -> dict[str, str]:
    """Fit on train (early stopping on val), predict val and test, write model and metrics.

    The application holds exactly ``xgb_num_workers`` cores of a cluster, so the LSTM's
    training application fits beside it; without ``xgb_num_workers`` it declares the
    resources' cores and trains on as many workers as it gets task slots.
    """
    from pyspark.sql import functions as F

    from energy_forecast.spark.session import get_session, in_background

    manifest = FeaturesManifest.load(features_manifest)
    for name in C.SPLITS:
        if manifest.split_rows[name] == 0:
            raise ValueError(f"the {name} split is empty; nothing to train or evaluate on")

    resources = resources or SparkResources()
    conf = resources.conf(cores=settings.xgb_num_workers)
    # XGBoost's import (scikit-learn's with it, 1.5 s) needs nothing from Spark: it runs
    # while this process waits for the driver JVM to start.
    importing = in_background(lambda: importlib.import_module("xgboost"))
    spark = get_session(
        "energy-forecast-xgboost", master=spark_master, conf=conf, web_ui=master_web_ui
    )
    importing.result()
    workers = resolve_num_workers(spark, settings.xgb_num_workers, resources.cores, master_web_ui)
    read = {name: spark.read.parquet(str(manifest.split_paths[name])) for name in ("train", "val")}
    fit_rows = (
        read["train"]
        .withColumn(_IS_VALIDATION, F.lit(False))
        .unionByName(read["val"].withColumn(_IS_VALIDATION, F.lit(True)))
    )

    started = time.perf_counter()
    model = build_regressor(settings, workers).fit(fit_rows)
    train_seconds = time.perf_counter() - started
    booster = model.get_booster()

    output_dir.mkdir(parents=True, exist_ok=True)
    model_path = output_dir / "model"
    # Spark writes the model's metadata in small jobs while this process predicts val and
    # test with a copy of the booster: no Python worker starts for a prediction UDF.
    saving = in_background(lambda: _save(model, booster, model_path))
    predictions = predict_splits(booster.copy(), manifest, ("val", "test"))
    saving.result()
    predictions_path = write_predictions(predictions, output_dir / "predictions.parquet")
    metrics = {
        "model": MODEL_NAME,
        "splits": metrics_by_split(predictions),
        "train_seconds": round(train_seconds, 3),
        "best_iteration": int(getattr(booster, "best_iteration", -1)),
        "num_workers": workers,
        "settings": {key: getattr(settings, key) for key in settings.__dataclass_fields__},
        "history": round_history(model),
    }
    metrics_path = write_json(metrics, output_dir / "metrics.json")
    log.info(
        "xgboost: best iteration %s, val RMSE %.3f kWh, test RMSE %.3f kWh, %.1f s",
        metrics["best_iteration"],
        metrics["splits"]["val"]["rmse"],
        metrics["splits"]["test"]["rmse"],
        train_seconds,
    )
    return {
        "model": str(model_path),
        "predictions": str(predictions_path),
        "metrics": str(metrics_path),
    }


def round_history(model: SparkXGBRegressorModel) -> list[dict[str, float]]:
    """Train and validation RMSE (kWh: the label is in kWh) after each boosting round."""
    summary = model.training_summary
    if summary is None:
        return []
    train = summary.train_objective_history.get("rmse", [])
    val = summary.validation_objective_history.get("rmse", [])
    return [
        {"round": index, "train_rmse_kwh": train_rmse, "val_rmse_kwh": val_rmse}
        for index, (train_rmse, val_rmse) in enumerate(zip(train, val, strict=False))
    ]


def _save(model: SparkXGBRegressorModel, booster: xgboost.Booster, model_path: Path) -> None:
    """``xgboost.spark``'s model folder, with the booster in XGBoost's own format inside."""
    model.write().overwrite().save(str(model_path))
    booster.save_model(str(model_path / BOOSTER_FILE))


def predict_splits(
    booster: xgboost.Booster, manifest: FeaturesManifest, splits: tuple[str, ...]
) -> pd.DataFrame:
    """Keys, actual and predicted kWh of every row of ``splits``, a row group at a time."""
    predict = _predictor(booster)
    frames = []
    for split in splits:
        for group in manifest.row_groups(split):
            table = read_row_group(group, _PREDICTION_INPUTS)
            frame = table.select(_PREDICTION_INPUTS[:-1]).to_pandas()
            frame["predicted_kwh"] = predict(decode_tabular(table, manifest.shape))
            frames.append(frame.rename(columns={C.TARGET_KWH: "actual_kwh"}))
    return pd.concat(frames, ignore_index=True)


def booster_predictor(model_dir: Path) -> Callable[[np.ndarray], np.ndarray]:
    """The booster saved in ``model_dir``, loaded once, as a function from rows of tabular
    features to kWh; see :func:`_predictor`."""
    import xgboost

    return _predictor(xgboost.Booster(model_file=str(Path(model_dir) / BOOSTER_FILE)))


def _predictor(booster: xgboost.Booster) -> Callable[[np.ndarray], np.ndarray]:
    """kWh from rows of tabular features: the trees up to the booster's early-stopping best
    iteration, as ``xgboost.spark`` predicts."""
    best = booster.attr("best_iteration")
    rounds = (0, int(best) + 1) if best is not None else (0, 0)
    return lambda features: booster.inplace_predict(features, iteration_range=rounds).astype(
        np.float64
    )
