"""The realized accuracy of published forecasts: what consumers got, measured day by day.

The test RMSE in a report is a promise made at training time. The forecasts a run publishes
for a day (``forecasts/date=<day>/forecasts.parquet``, :mod:`energy_forecast.serving.daily`)
meet their actuals only when a later run's data reaches that day. Each run therefore joins
every published table whose day its data now covers with the actual energy, and measures,
per forecast day and champion version, the error and how often the intervals held.

The whole series is rebuilt from the tables on every run, so it needs no state of its own: a
rerun gives the same rows, and a forecast day republished by a later run is measured as
republished.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from energy_forecast import columns as C
from energy_forecast.serving.daily import CHAMPION_VERSION as VERSION
from energy_forecast.serving.intervals import LEVELS, level_name

#: One row per forecast day and champion version, in this order.
REALIZED_COLUMNS: tuple[str, ...] = (
    C.DATE,
    VERSION,
    "n",
    "mae_kwh",
    "rmse_kwh",
    "bias_kwh",
    *(f"coverage_{level_name(level)}" for level in LEVELS),
)
_TABLE_FOLDER_PREFIX = "date="
#: The version of a row from a table written before tables named the version that made it.
UNKNOWN_VERSION = "unknown"


def published_days(root: Path) -> dict[str, Path]:
    """Every daily forecast table under ``root`` by ISO date."""
    if not root.is_dir():
        return {}
    tables = {
        folder.name.removeprefix(_TABLE_FOLDER_PREFIX): folder / "forecasts.parquet"
        for folder in root.iterdir()
        if folder.name.startswith(_TABLE_FOLDER_PREFIX)
    }
    return {day: path for day, path in sorted(tables.items()) if path.is_file()}


def read_actuals(validated: Path, days: Iterable[str]) -> pd.DataFrame:
    """Household, date and energy of the validated rows dated on ``days`` (ISO strings)."""
    wanted = [pd.Timestamp(day).date() for day in days]  # what a date32 filter compares
    table = pq.read_table(
        validated,
        columns=[C.HOUSEHOLD, C.DATE, C.ENERGY],
        filters=pc.field(C.DATE).isin(wanted),
    )
    actuals = table.to_pandas(date_as_object=False)
    actuals[C.HOUSEHOLD] = actuals[C.HOUSEHOLD].astype(str)
    return actuals


def joined_with_actuals(root: Path, validated: Path) -> pd.DataFrame:
    """Every published forecast (``status=forecast``) whose household has an actual for its
    day in ``validated``, with that actual as ``actual_kwh``."""
    tables = published_days(root)
    if not tables:
        return pd.DataFrame()
    actuals = read_actuals(validated, tables)
    if actuals.empty:
        return pd.DataFrame()
    days_with_actuals = set(pd.to_datetime(actuals[C.DATE]).dt.date.astype(str))
    forecasts = pd.concat(
        [_read_table(path) for day, path in tables.items() if day in days_with_actuals],
        ignore_index=True,
    )
    forecasts = forecasts[forecasts["status"] == "forecast"]
    forecasts[C.HOUSEHOLD] = forecasts[C.HOUSEHOLD].astype(str)
    forecasts[C.DATE] = pd.to_datetime(forecasts[C.DATE])
    actuals[C.DATE] = pd.to_datetime(actuals[C.DATE])
    joined = forecasts.merge(
        actuals.rename(columns={C.ENERGY: "actual_kwh"}), on=[C.HOUSEHOLD, C.DATE], how="inner"
    )
    return joined


def _read_table(path: Path) -> pd.DataFrame:
    """A daily table; one written before tables named their version gets ``unknown``."""
    table = pd.read_parquet(path)
    if VERSION not in table.columns:
        table[VERSION] = UNKNOWN_VERSION
    return table


def realized_accuracy(joined: pd.DataFrame) -> pd.DataFrame:
    """Per forecast day and champion version: rows, MAE, RMSE, bias (forecast minus actual,
    so positive means over-forecast) in kWh, and the share of actuals inside each interval."""
    if joined.empty:
        return pd.DataFrame(columns=list(REALIZED_COLUMNS))
    error = joined["predicted_kwh"] - joined["actual_kwh"]
    frame = pd.DataFrame(
        {
            C.DATE: joined[C.DATE].dt.date.astype(str),
            VERSION: joined[VERSION].astype(str),
            "error": error,
            "abs_error": error.abs(),
            "squared_error": error**2,
            **{
                f"inside_{level_name(level)}": _inside(joined, level_name(level))
                for level in LEVELS
            },
        }
    )
    grouped = frame.groupby([C.DATE, VERSION], sort=True)
    realized = pd.DataFrame(
        {
            "n": grouped.size(),
            "mae_kwh": grouped["abs_error"].mean(),
            "rmse_kwh": np.sqrt(grouped["squared_error"].mean()),
            "bias_kwh": grouped["error"].mean(),
            **{
                f"coverage_{level_name(level)}": grouped[f"inside_{level_name(level)}"].mean()
                for level in LEVELS
            },
        }
    ).reset_index()
    return realized.loc[:, list(REALIZED_COLUMNS)]


def _inside(joined: pd.DataFrame, level: str) -> pd.Series:
    lower, upper = joined[f"lower_{level}_kwh"], joined[f"upper_{level}_kwh"]
    inside = (joined["actual_kwh"] >= lower) & (joined["actual_kwh"] <= upper)
    # A version published without radii has no bounds: unknown, not "missed".
    return inside.astype(float).where(lower.notna() & upper.notna())
