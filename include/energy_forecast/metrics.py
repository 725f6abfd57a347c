"""Regression metrics in kWh and the one prediction-file format every model writes.

The LSTM, XGBoost and the naive baselines all go through :func:`regression_metrics` and
:func:`write_predictions`, so the report compares like with like.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from energy_forecast.runtime.atomic import atomic_file, write_text

#: Columns of every predictions Parquet file (one row per household and target day).
PREDICTION_COLUMNS: tuple[str, ...] = (
    "household_id",
    "date",
    "split",
    "actual_kwh",
    "predicted_kwh",
)

#: Energy below this is treated as zero by MAPE, which is undefined there.
_MAPE_FLOOR_KWH = 1e-6


def regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float | int]:
    """MAE, RMSE, MAPE (percent), R² and n for one model on one set of rows."""
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    if actual.shape != predicted.shape:
        raise ValueError(f"shape mismatch: actual {actual.shape} vs predicted {predicted.shape}")
    n = int(actual.size)
    if n == 0:
        return {"mae": math.nan, "rmse": math.nan, "mape": math.nan, "r2": math.nan, "n": 0}
    if not np.all(np.isfinite(predicted)):
        raise ValueError("predictions contain NaN or infinity")
    error = predicted - actual
    ss_res = float(np.sum(error**2))
    ss_tot = float(np.sum((actual - actual.mean()) ** 2))
    nonzero = np.abs(actual) > _MAPE_FLOOR_KWH
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": math.sqrt(ss_res / n),
        "mape": float(np.mean(np.abs(error[nonzero] / actual[nonzero])) * 100)
        if nonzero.any()
        else math.nan,
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan,
        "n": n,
    }


def metrics_by_split(predictions: pd.DataFrame) -> dict[str, dict[str, float | int]]:
    """Metrics for each split present in a predictions frame."""
    return {
        split: regression_metrics(rows["actual_kwh"].to_numpy(), rows["predicted_kwh"].to_numpy())
        for split, rows in predictions.groupby("split", sort=True)
    }


def write_predictions(predictions: pd.DataFrame, path: Path) -> Path:
    """Write predictions in the shared format, refusing frames that do not match it."""
    missing = [c for c in PREDICTION_COLUMNS if c not in predictions.columns]
    if missing:
        raise ValueError(f"predictions lack columns {missing}")
    with atomic_file(path) as tmp:
        predictions.loc[:, list(PREDICTION_COLUMNS)].to_parquet(tmp, index=False)
    return path


def write_json(payload: dict[str, Any], path: Path) -> Path:
    """Write JSON atomically (temp file + rename) so readers never see half a file."""
    return write_text(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
