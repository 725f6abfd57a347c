"""Score a saved model on chosen rows, building their features with the model's own pipeline.

Three callers need the same thing: next-day forecasts, the incumbent champion re-scored on
a challenger's test rows, and the challenger scored in the configuration that is served
(forecast temperatures instead of the day's actual ones). Each passes the history (validated
rows, as Spark reads them) and the target rows; the target rows replace any history row of
the same household and date, the ``PipelineModel`` saved with the model turns them into
features exactly as in training, and only the target rows are predicted. Everything stays
in Spark until the target rows' predictions, so no whole table is pulled into pandas, and
only the last ``sequence_length`` days of history before the first target day are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from energy_forecast import columns as C
from energy_forecast.errors import InputError

MODEL_KINDS: tuple[str, ...] = ("lstm", "xgboost")
PREDICTION_COLUMNS: tuple[str, ...] = (C.HOUSEHOLD, C.DATE, "predicted_kwh")


@dataclass(frozen=True)
class SavedModel:
    """A trained model and the fitted pipeline that makes its inputs."""

    kind: str
    model_dir: Path
    pipeline_model: Path

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"no scorer for model kind {self.kind!r}; known: {MODEL_KINDS}")


def score(model: SavedModel, history: Any, targets: Any) -> pd.DataFrame:
    """kWh predictions for each row of ``targets`` (Spark DataFrames of validated columns)."""
    from pyspark.sql import functions as F

    from energy_forecast.features.pipeline import history_days, scaler_statistics
    from energy_forecast.features.saved_pipeline import load_pipeline_model

    pipeline = load_pipeline_model(model.pipeline_model)
    keys = targets.select(C.HOUSEHOLD, C.DATE)
    first_target = targets.agg(F.min(C.DATE)).first()[0]
    if first_target is None:
        raise ValueError("no target rows to score")
    # Only the sequence window before the first target day reaches a prediction.
    oldest_needed = F.date_sub(F.lit(first_target), history_days(pipeline))
    past = history.filter(F.col(C.DATE) >= oldest_needed).join(
        keys, [C.HOUSEHOLD, C.DATE], "left_anti"
    )
    combined = past.unionByName(targets.select(*history.columns))
    # Materialise the few target rows: with constant rows folded into the plan, Spark cannot
    # feed the sequencer's higher-order functions straight into XGBoost's Python UDF.
    features = (
        pipeline.transform(combined)
        .join(keys, [C.HOUSEHOLD, C.DATE], "left_semi")
        .localCheckpoint(eager=True)
    )
    if model.kind == "lstm":
        scale = scaler_statistics(pipeline)[C.TARGET_KWH]
        return _predict_lstm(features, model.model_dir, scale)
    return _predict_xgboost(features, model.model_dir, history_days(pipeline))


def rmse_kwh(predictions: pd.DataFrame, actual: pd.DataFrame) -> float:
    """RMSE of ``predictions`` against ``actual`` (``energy_kwh``) on the rows both have."""
    joined = predictions.merge(actual[[C.HOUSEHOLD, C.DATE, C.ENERGY]], on=[C.HOUSEHOLD, C.DATE])
    if joined.empty:
        raise ValueError("no predicted row has an actual value to compare with")
    return float(((joined["predicted_kwh"] - joined[C.ENERGY]) ** 2).mean() ** 0.5)


def _predict_lstm(features: Any, model_dir: Path, scale: dict[str, float]) -> pd.DataFrame:
    from energy_forecast.features.arrays import FeatureShape, decode
    from energy_forecast.training import artifacts
    from energy_forecast.training.evaluate import predict_scaled, unscale

    model = artifacts.load_model(model_dir)
    table = features.select(C.HOUSEHOLD, C.DATE, C.SEQUENCE, C.MASK, C.STATIC, C.TARGET).toArrow()
    config = model.config
    shape = FeatureShape(config.sequence_length, config.sequence_features, config.static_features)
    scaled = predict_scaled(model, decode(table, shape))
    return _keyed(table, unscale(scaled, scale["mean"], scale["std"]))


def _predict_xgboost(features: Any, model_dir: Path, sequence_length: int) -> pd.DataFrame:
    """In this process with the saved booster: a Spark prediction UDF would start a Python
    worker per core, each importing XGBoost, for a few rows."""
    from energy_forecast.features.arrays import FeatureShape, decode_tabular
    from energy_forecast.xgb.train import BOOSTER_FILE, booster_predictor

    rows = features.select(C.HOUSEHOLD, C.DATE, C.TABULAR_FEATURES)
    if not (model_dir / BOOSTER_FILE).is_file():
        # xgboost.spark's own loader unpickles its estimator (cloudpickle): never for a file
        # on a shared volume. The booster in XGBoost's JSON format is data, not code.
        raise InputError(
            f"{model_dir} has no {BOOSTER_FILE}; only models saved with their booster in "
            "XGBoost's own format are served"
        )
    table = rows.toArrow()
    shape = FeatureShape(sequence_length, len(C.SEQUENCE_INPUTS), len(C.STATIC_FEATURES))
    return _keyed(table, booster_predictor(model_dir)(decode_tabular(table, shape)))


def _keyed(table: Any, predicted_kwh: np.ndarray) -> pd.DataFrame:
    """Predictions beside the household and date of the Arrow ``table``'s rows."""
    return pd.DataFrame(
        {
            C.HOUSEHOLD: table.column(C.HOUSEHOLD).to_pylist(),
            C.DATE: table.column(C.DATE).to_pylist(),
            "predicted_kwh": predicted_kwh,
        }
    )
