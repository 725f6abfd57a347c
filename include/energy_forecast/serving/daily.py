"""Every run's next-day forecasts from the current champion, one table per forecast day.

A run promotes a new champion now and then, but it has new data every day, and consumers
need tomorrow's forecast every day. So every run that has a champion forecasts the day after
each household's last row, from this run's data, with the champion as published: its own
``PipelineModel`` builds the features (:func:`energy_forecast.serving.scoring.score`, as the
gate re-scores the incumbent), its model predicts, its split-conformal radii give the
intervals. A run that has just promoted its own model already wrote these rows with the
version (:mod:`energy_forecast.serving.forecast`, which also applies a temperature table);
a kept champion forecasts with the household's mean temperature for the day.

    <artifacts>/energy_forecast/forecasts/date=2025-04-09/forecasts.parquet

One file per forecast day (a household's day after its own last row), in the columns of
:data:`~energy_forecast.serving.forecast.FORECAST_COLUMNS` and the champion version that
made it; later runs measure it against the day's actuals (:mod:`energy_forecast.monitoring`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from energy_forecast import columns as C
from energy_forecast.paths import DAG_ID, FORECASTS_FOLDER, artifacts_root
from energy_forecast.runtime.atomic import atomic_file
from energy_forecast.serving.forecast import FORECAST_COLUMNS, HOUSEHOLD_MEAN
from energy_forecast.serving.intervals import LEVELS, level_name, with_intervals
from energy_forecast.serving.scoring import SavedModel, score

log = logging.getLogger(__name__)

#: The column each daily table adds to the forecast columns: the version that forecast it.
CHAMPION_VERSION = "champion_version"


def forecasts_root(root: Path | None = None) -> Path:
    """The folder of the daily forecast tables under the artifacts root."""
    return (root or artifacts_root()) / DAG_ID / FORECASTS_FOLDER


def champion_forecasts(
    champion: SavedModel,
    radii: Mapping[str, float],
    history: Any,
    stale_after_days: int,
) -> pd.DataFrame:
    """One row per household of ``history`` (validated rows, a Spark DataFrame): the
    champion's forecast for the day after its last row, or ``status=stale`` and none."""
    from energy_forecast.features.next_day import next_day_rows

    targets = next_day_rows(history).localCheckpoint(eager=True)
    keys = targets.select(C.HOUSEHOLD, C.DATE, C.LAST_OBSERVED_DATE, C.TEMPERATURE).toPandas()
    if keys.empty:
        raise ValueError("cannot forecast from an empty data set")
    predicted = score(champion, history, targets.drop(C.LAST_OBSERVED_DATE))
    forecasts = keys.merge(predicted, on=[C.HOUSEHOLD, C.DATE], how="left")
    last_observed = pd.to_datetime(forecasts[C.LAST_OBSERVED_DATE])
    fresh = last_observed >= last_observed.max() - pd.Timedelta(days=stale_after_days)
    forecasts["status"] = np.where(fresh, "forecast", "stale")
    forecasts.loc[~fresh, "predicted_kwh"] = np.nan
    if not np.isfinite(forecasts.loc[fresh, "predicted_kwh"]).all():
        raise ValueError("the champion's forecasts contain NaN or infinity")
    forecasts["temperature_source"] = HOUSEHOLD_MEAN
    forecasts["model"] = champion.kind
    # A version published without radii gets empty bounds rather than none at all.
    forecasts = with_intervals(forecasts, {**{level_name(x): np.nan for x in LEVELS}, **radii})
    return forecasts.sort_values(C.HOUSEHOLD).loc[:, list(FORECAST_COLUMNS)]


def write_daily_tables(
    forecasts: pd.DataFrame, version: str, trained_through: str = "", root: Path | None = None
) -> dict[str, str]:
    """One table per forecast day under :func:`forecasts_root`, with the champion ``version``
    that made each row; returns each day's path by ISO date.

    A day's table is merged by household: this run's rows replace that household's earlier
    forecast for the day (its actual has not arrived, or the household would not be forecast
    for it), and every other household's published forecast stays, to meet its actual. A
    late household forecast for a day already written by an earlier run thus no longer
    erases everyone else's forecasts for that day.

    A day on or before ``trained_through`` (the last day whose actuals fitted or calibrated
    the champion, ISO) is not written: its "forecast" would be hindsight and would overwrite
    a real one (a rerun of an old date after a newer promotion)."""
    written = {}
    days = pd.to_datetime(forecasts[C.DATE]).dt.date
    for day, rows in forecasts.groupby(days, sort=True):
        if trained_through and day.isoformat() <= trained_through:
            log.warning(
                "not writing forecasts for %s: champion version %s was trained on data "
                "through %s", day, version, trained_through,
            )  # fmt: skip
            continue
        folder = forecasts_root(root) / f"date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "forecasts.parquet"
        rows = rows.assign(**{CHAMPION_VERSION: version})
        if path.exists():
            earlier = pd.read_parquet(path)
            kept = earlier[~earlier[C.HOUSEHOLD].isin(rows[C.HOUSEHOLD])]
            rows = pd.concat([kept, rows], ignore_index=True).sort_values(C.HOUSEHOLD)
        with atomic_file(path) as tmp:
            rows.to_parquet(tmp, index=False)
        written[day.isoformat()] = str(path)
    return written
