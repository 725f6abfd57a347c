"""The challenger's test RMSE as served, scored on the test split preprocessing wrote.

A forecast for day D knows the actual temperatures of the days before D (they are in its
sequence) but not D's own: that comes from the temperature forecast table, else from the
household's mean temperature over the days before the test split. Serving therefore changes
one input value per row, the target day's scaled temperature, which sits in ``static`` and
again in the static tail of the tabular features. The written test rows with that value
replaced are exactly what serving would feed the model, so no feature is built twice and no
Spark job runs. (Rebuilding the test rows with every test day's temperature replaced, as
this once did, also put proxy temperatures into later test days' sequences, where serving
has the actual ones.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from energy_forecast import columns as C
from energy_forecast.features.arrays import (
    MODEL_COLUMNS,
    RowGroup,
    decode,
    decode_tabular,
    read_row_group,
)
from energy_forecast.features.manifest import FeaturesManifest
from energy_forecast.serving.temperatures import by_household_and_day

#: Where the target day's scaled temperature sits in ``static``.
TEMPERATURE_SLOT = C.STATIC_FEATURES.index(C.scaled(C.TEMPERATURE))
_READ = (*MODEL_COLUMNS, C.TABULAR_FEATURES, C.HOUSEHOLD, C.DATE, C.TARGET_KWH)


def household_mean_temperatures(validated: Path, before: date) -> pd.Series:
    """Each household's mean temperature over its validated rows dated before ``before``,
    indexed by household: the proxy a forecast uses when the table has no value. Two
    columns are read, and the mean is taken in Arrow, so no Python object is made per row.
    A Series, not a dict: looking a row group's households up in it reuses its index's hash
    table, where a dict of a million households is turned into a Series at every lookup."""
    table = pq.read_table(
        validated, columns=[C.HOUSEHOLD, C.TEMPERATURE], filters=[(C.DATE, "<", before)]
    )
    means = table.group_by(C.HOUSEHOLD).aggregate([(C.TEMPERATURE, "mean")])
    return pd.Series(
        means.column(f"{C.TEMPERATURE}_mean").to_numpy(),
        index=means.column(C.HOUSEHOLD).to_pandas(),
        dtype=np.float64,
    )


def served_temperatures(
    keys: pd.DataFrame,
    actual: np.ndarray,
    household_means: pd.Series,
    forecasts: pd.Series | None = None,
) -> np.ndarray:
    """Per row of ``keys`` (household, date): the table's forecast, else the household's
    mean, else (a household with no earlier day) the ``actual`` temperature: nothing better."""
    served = keys[C.HOUSEHOLD].map(household_means).to_numpy(dtype=np.float64)
    from_table = table_temperatures(keys, forecasts)
    served = np.where(np.isnan(from_table), served, from_table)
    return np.where(np.isnan(served), actual, served)


def table_temperatures(keys: pd.DataFrame, forecasts: pd.Series | None) -> np.ndarray:
    """Per row of ``keys`` (household, date): the forecast table's temperature, or NaN.
    ``forecasts`` comes from :func:`~energy_forecast.serving.temperatures.by_household_and_day`."""
    if forecasts is None:
        return np.full(len(keys), np.nan)
    dates = pd.to_datetime(keys[C.DATE]).dt.date
    wanted = pd.MultiIndex.from_arrays([keys[C.HOUSEHOLD].to_numpy(), dates])
    return forecasts.reindex(wanted).to_numpy(dtype=np.float64)


def model_inputs(table: pa.Table, manifest: FeaturesManifest) -> dict[str, np.ndarray]:
    """Decoded inputs of every model from written feature rows (``tabular`` is XGBoost's)."""
    arrays = decode(table, manifest.shape)
    arrays["tabular"] = decode_tabular(table, manifest.shape)
    return arrays


def read_inputs(
    group: RowGroup, manifest: FeaturesManifest
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """One row group of a written split: its keys with the actual kWh, and its decoded
    model inputs."""
    table = read_row_group(group, _READ)
    keys = table.select([C.HOUSEHOLD, C.DATE, C.TARGET_KWH]).to_pandas()
    return keys, model_inputs(table, manifest)


def with_target_day_temperature(
    arrays: dict[str, np.ndarray], manifest: FeaturesManifest, temperature_c: np.ndarray
) -> dict[str, np.ndarray]:
    """A copy of ``arrays`` whose target-day temperature is ``temperature_c`` (in °C,
    scaled here with the training statistics), in ``static`` and in the tabular features."""
    scale = manifest.scale_of(C.TEMPERATURE)
    scaled = (np.asarray(temperature_c, dtype=np.float64) - scale.mean) / scale.std
    static = arrays["static"].copy()
    static[:, TEMPERATURE_SLOT] = scaled
    tabular = arrays["tabular"].copy()
    shape = manifest.shape
    tabular[:, shape.sequence_length * shape.sequence_features + TEMPERATURE_SLOT] = scaled
    return {**arrays, "static": static, "tabular": tabular}


def actual_temperatures(arrays: dict[str, np.ndarray], manifest: FeaturesManifest) -> np.ndarray:
    """The target day's temperature in °C, read back from the written (scaled) features."""
    scale = manifest.scale_of(C.TEMPERATURE)
    return arrays["static"][:, TEMPERATURE_SLOT].astype(np.float64) * scale.std + scale.mean


def predictor(
    kind: str, model_dir: Path, manifest: FeaturesManifest
) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """The saved model, loaded once, as a function from decoded inputs to kWh."""
    if kind == "lstm":
        from energy_forecast.training import artifacts
        from energy_forecast.training.evaluate import predict_scaled, unscale

        model = artifacts.load_model(model_dir)
        scale = manifest.target_scale
        return lambda arrays: unscale(predict_scaled(model, arrays), scale.mean, scale.std)
    if kind == "xgboost":
        from energy_forecast.xgb.train import booster_predictor

        predict = booster_predictor(model_dir)
        return lambda arrays: predict(arrays["tabular"])
    raise ValueError(f"no served scorer for model kind {kind!r}")


def served_test_rmse(
    kind: str,
    model_dir: Path,
    manifest: FeaturesManifest,
    validated: Path,
    forecasts: pd.DataFrame | None = None,
) -> float:
    """The model's test RMSE in kWh when each target day's temperature is the one a
    forecast would have used; one row group in memory at a time."""
    first_test_day = date.fromisoformat(min(manifest.split_dates["test"]))
    lookup = by_household_and_day(forecasts)
    means = household_mean_temperatures(validated, first_test_day)
    predict = predictor(kind, model_dir, manifest)
    squared_errors, rows = 0.0, 0
    for group in manifest.row_groups("test"):
        keys, arrays = read_inputs(group, manifest)
        served = served_temperatures(keys, actual_temperatures(arrays, manifest), means, lookup)
        predicted = predict(with_target_day_temperature(arrays, manifest, served))
        squared_errors += float(np.sum((predicted - keys[C.TARGET_KWH].to_numpy()) ** 2))
        rows += len(keys)
    return math.sqrt(squared_errors / rows)
