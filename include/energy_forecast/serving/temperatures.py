"""Temperature forecasts a deployment may supply: ``household_id, date, temperature_c``.

Forecasts for a day cannot know its measured temperature; where this table has a value for
the household and day, forecasts and the served score use it, and elsewhere the household's
mean temperature stands in.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from energy_forecast import columns as C

log = logging.getLogger(__name__)

#: The table's temperature, renamed so it never collides with the validated column.
FORECAST_TEMPERATURE = "forecast_temperature_c"


def read_temperature_forecasts(path: Path) -> pd.DataFrame:
    """``household_id, date, forecast_temperature_c`` from a CSV or Parquet table of
    ``household_id, date, temperature_c``; one row per household and date.

    Rows whose date or temperature does not parse are left out, and the log counts them:
    such a day falls back to the household's mean, as a day missing from the table does.
    """
    path = Path(path)
    raw = (
        pd.read_parquet(path)
        if path.suffix == ".parquet"
        else pd.read_csv(path, dtype={C.HOUSEHOLD: str})
    )
    missing = {C.HOUSEHOLD, C.DATE, "temperature_c"} - set(raw.columns)
    if missing:
        raise ValueError(f"temperature forecasts {path} lack column(s) {sorted(missing)}")
    table = pd.DataFrame(
        {
            C.HOUSEHOLD: raw[C.HOUSEHOLD].astype(str),
            C.DATE: pd.to_datetime(raw[C.DATE], errors="coerce").dt.date,
            FORECAST_TEMPERATURE: pd.to_numeric(raw["temperature_c"], errors="coerce"),
        }
    )
    usable = table[C.DATE].notna() & np.isfinite(table[FORECAST_TEMPERATURE])
    if not usable.all():
        log.warning(
            "temperature forecasts %s: %d of %d rows have no usable date or temperature and "
            "are ignored",
            path,
            int((~usable).sum()),
            len(table),
        )
    return table[usable].drop_duplicates([C.HOUSEHOLD, C.DATE]).reset_index(drop=True)


def by_household_and_day(table: pd.DataFrame | None) -> pd.Series | None:
    """The table's temperatures indexed by (household, date), built once: per-batch lookups
    then reuse the index's hash table, where merging each batch with a table of a million
    rows would cost a pass over the whole table every time."""
    if table is None or not len(table):
        return None
    index = pd.MultiIndex.from_arrays([table[C.HOUSEHOLD], table[C.DATE]])
    return pd.Series(table[FORECAST_TEMPERATURE].to_numpy(dtype=np.float64), index=index)
