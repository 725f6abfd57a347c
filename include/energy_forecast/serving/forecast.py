"""Next-day forecasts: each household's energy on the day after its own last row.

Preprocessing writes one feature row per household for that day
(:mod:`energy_forecast.features.next_day`), made by the same fitted pipeline as the splits.
A household whose last row is more than ``stale_after_days`` before the newest date in the
data is flagged ``stale`` and gets no forecast: its "next day" is in the past.

The forecast day's temperature comes from a table of temperature forecasts
(``household_id, date, temperature_c``) where it has one, and otherwise from the
household's mean temperature over its history: a documented proxy whose cost the report
measures (test RMSE served vs with actual temperatures). Only the target day's slot of the
features holds it, so the table's value replaces the proxy there, as the served score does.

Each forecast carries 80% and 95% intervals: the champion's split-conformal radii
(:mod:`energy_forecast.serving.intervals`), calibrated on its run's validation days.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from energy_forecast import columns as C
from energy_forecast.features.manifest import FeaturesManifest
from energy_forecast.runtime.atomic import atomic_file
from energy_forecast.serving.intervals import LEVELS, interval_columns, level_name, with_intervals
from energy_forecast.serving.served import (
    model_inputs,
    predictor,
    table_temperatures,
    with_target_day_temperature,
)
from energy_forecast.serving.temperatures import by_household_and_day

FORECAST_COLUMNS: tuple[str, ...] = (
    C.HOUSEHOLD,
    C.DATE,
    "predicted_kwh",
    *interval_columns(),
    "model",
    "status",
    C.LAST_OBSERVED_DATE,
    C.TEMPERATURE,
    "temperature_source",
)
FORECAST_TABLE = "forecast_table"
HOUSEHOLD_MEAN = "household_mean"


#: Next-day rows decoded and predicted at a time: one per household, a million at 100x.
BATCH_ROWS = 65_536


def forecast_next_day(
    kind: str,
    model_dir: Path,
    manifest: FeaturesManifest,
    output_path: Path,
    stale_after_days: int,
    temperatures: pd.DataFrame | None = None,
    radii: Mapping[str, float] | None = None,
) -> Path:
    """Write one row per household: its forecast, or ``status=stale`` and no forecast.
    ``temperatures`` is a table from
    :func:`energy_forecast.serving.temperatures.read_temperature_forecasts`. The model is
    loaded once and the rows are decoded a batch at a time. ``radii`` (level name ->
    radius in kWh, for every level of :data:`LEVELS`) give the intervals; without them the
    bounds are empty (NaN)."""
    folder = manifest.next_day_path
    if folder is None or not folder.is_dir():
        raise FileNotFoundError(
            f"the features at {manifest.path.parent} hold no next-day rows; rerun preprocess"
        )
    files = sorted(folder.glob("part-*.parquet"))
    # Staleness is measured from the newest date in the data: one column read first.
    last_dates = pq.read_table(files, columns=[C.LAST_OBSERVED_DATE]).column(0)
    if not len(last_dates):
        raise ValueError("cannot forecast from an empty data set")
    stale_before = pd.Timestamp(pc.max(last_dates).as_py()) - pd.Timedelta(days=stale_after_days)
    predict = predictor(kind, model_dir, manifest)
    lookup = by_household_and_day(temperatures)
    pieces = []
    for file in files:
        for batch in pq.ParquetFile(file).iter_batches(batch_size=BATCH_ROWS):
            rows = pa.Table.from_batches([batch])
            pieces.append(_forecast_batch(rows, predict, manifest, lookup, stale_before))
    forecasts = pd.concat(pieces, ignore_index=True)
    forecasts = with_intervals(forecasts, radii or {level_name(x): np.nan for x in LEVELS})
    forecasts["model"] = kind
    with atomic_file(output_path) as tmp:
        forecasts.sort_values(C.HOUSEHOLD).loc[:, list(FORECAST_COLUMNS)].to_parquet(
            tmp, index=False
        )
    return output_path


def _forecast_batch(
    table: pa.Table,
    predict: Callable[[dict[str, np.ndarray]], np.ndarray],
    manifest: FeaturesManifest,
    table_lookup: pd.Series | None,
    stale_before: pd.Timestamp,
) -> pd.DataFrame:
    forecasts = table.select([C.HOUSEHOLD, C.DATE, C.LAST_OBSERVED_DATE, C.TEMPERATURE]).to_pandas()
    from_table = table_temperatures(forecasts, table_lookup)
    in_table = ~np.isnan(from_table)
    forecasts[C.TEMPERATURE] = np.where(in_table, from_table, forecasts[C.TEMPERATURE])
    forecasts["temperature_source"] = np.where(in_table, FORECAST_TABLE, HOUSEHOLD_MEAN)

    fresh = (pd.to_datetime(forecasts[C.LAST_OBSERVED_DATE]) >= stale_before).to_numpy()
    forecasts["status"] = np.where(fresh, "forecast", "stale")
    forecasts["predicted_kwh"] = np.nan
    if fresh.any():
        inputs = with_target_day_temperature(
            model_inputs(table, manifest), manifest, forecasts[C.TEMPERATURE].to_numpy()
        )
        predicted = predict({name: values[fresh] for name, values in inputs.items()})
        if not np.all(np.isfinite(predicted)):
            raise ValueError("the champion's forecasts contain NaN or infinity")
        forecasts.loc[fresh, "predicted_kwh"] = predicted
    return forecasts
