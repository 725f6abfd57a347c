"""Next-day forecasts: every household's energy on the day after the data ends.

The fitted ``PipelineModel`` builds the features of the new day exactly as it built the
training rows (same scaler, same calendar window), so the champion sees what it was
trained on. The new day's temperature is not in the data: the household's last observed
temperature stands in for a weather forecast, the one input a production deployment
would replace with a real forecast feed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from energy_forecast import columns as C
from energy_forecast.atomic import atomic_file

FORECAST_COLUMNS: tuple[str, ...] = ("household_id", "date", "predicted_kwh", "model")


def next_day_rows(validated: pd.DataFrame) -> pd.DataFrame:
    """One row per household for the day after the last date in the data, target unknown."""
    if validated.empty:
        raise ValueError("cannot forecast from an empty data set")
    latest = validated.sort_values([C.HOUSEHOLD, C.DATE]).groupby(C.HOUSEHOLD).tail(1)
    next_day = pd.Timestamp(validated[C.DATE].max()) + timedelta(days=1)
    rows = latest.assign(
        **{
            C.DATE: next_day.date(),
            C.DAY_OF_WEEK: next_day.day_name(),
            C.ENERGY: np.nan,
            C.PEAK_USAGE: np.nan,
        }
    )
    return rows.loc[:, list(validated.columns)].reset_index(drop=True)


def _features_of_next_day(spark: Any, validated_path: Path, pipeline_model: Path) -> Any:
    from pyspark.ml import PipelineModel
    from pyspark.sql import functions as F

    history = spark.read.parquet(str(validated_path))
    new_rows = next_day_rows(pd.read_parquet(validated_path))
    target_day = new_rows[C.DATE].iloc[0]
    combined = history.unionByName(spark.createDataFrame(new_rows, schema=history.schema))
    features = PipelineModel.load(str(pipeline_model)).transform(combined)
    # Materialise the few new rows: with the constant rows folded into the plan, Spark cannot
    # feed the sequencer's higher-order functions straight into XGBoost's Python UDF.
    return features.filter(F.col(C.DATE) == F.lit(target_day)).localCheckpoint(eager=True)


def _predict_lstm(features: Any, model_dir: Path, scale: dict[str, float]) -> pd.DataFrame:
    from energy_forecast.training import artifacts
    from energy_forecast.training.dataset import FeatureShape, decode
    from energy_forecast.training.evaluate import predict_scaled, unscale

    model = artifacts.load_model(model_dir)
    table = features.select(C.HOUSEHOLD, C.DATE, C.SEQUENCE, C.MASK, C.STATIC, C.TARGET).toArrow()
    config = model.config
    shape = FeatureShape(config.sequence_length, config.sequence_features, config.static_features)
    scaled = predict_scaled(model, decode(table, shape))
    return pd.DataFrame(
        {
            "household_id": table.column(C.HOUSEHOLD).to_pylist(),
            "date": table.column(C.DATE).to_pylist(),
            "predicted_kwh": unscale(scaled, scale["mean"], scale["std"]),
        }
    )


def _predict_xgboost(features: Any, model_dir: Path) -> pd.DataFrame:
    from pyspark.sql import functions as F
    from xgboost.spark import SparkXGBRegressorModel

    model = SparkXGBRegressorModel.load(str(model_dir))
    return (
        model.transform(features.select(C.HOUSEHOLD, C.DATE, C.TABULAR_FEATURES))
        .select(C.HOUSEHOLD, C.DATE, F.col("prediction").cast("double").alias("predicted_kwh"))
        .toPandas()
    )


def forecast_next_day(
    spark: Any,
    champion: str,
    model_dir: Path,
    validated_path: Path,
    pipeline_model: Path,
    target_scale: dict[str, float],
    output_path: Path,
) -> Path:
    """Write the champion's next-day forecast for every household as Parquet."""
    if champion not in ("lstm", "xgboost"):
        raise ValueError(f"no forecaster for champion {champion!r}")
    features = _features_of_next_day(spark, validated_path, pipeline_model)
    if champion == "lstm":
        forecasts = _predict_lstm(features, model_dir, target_scale)
    else:
        forecasts = _predict_xgboost(features, model_dir)
    if not np.all(np.isfinite(forecasts["predicted_kwh"])):
        raise ValueError(f"the {champion} forecasts contain NaN or infinity")
    forecasts["model"] = champion
    with atomic_file(output_path) as tmp:
        forecasts.sort_values(C.HOUSEHOLD).loc[:, list(FORECAST_COLUMNS)].to_parquet(
            tmp, index=False
        )
    return output_path
