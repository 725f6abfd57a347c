"""Next-day forecasts: each household's energy on the day after its own last row.

The rule (README "Forecasts"): a household is forecast for its last observed date + 1, so
yesterday is always a real day in its sequence (mask 1), the input pattern the models were
trained on. A household whose last row is more than ``stale_after_days`` before the newest
date in the data is flagged ``stale`` and gets no forecast: its "next day" is in the past.

The forecast day's temperature is not in the data. It comes from a table of temperature
forecasts (``household_id, date, temperature_c``) when one is given, and otherwise from the
household's mean temperature over its history: a documented proxy whose cost the report
measures (test RMSE served vs with actual temperatures).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from energy_forecast import columns as C
from energy_forecast.atomic import atomic_file
from energy_forecast.scoring import SavedModel, score
from energy_forecast.temperature_forecasts import FORECAST_TEMPERATURE, read_temperature_forecasts

FORECAST_COLUMNS: tuple[str, ...] = (
    C.HOUSEHOLD,
    C.DATE,
    "predicted_kwh",
    "model",
    "status",
    "last_observed_date",
    C.TEMPERATURE,
    "temperature_source",
)
FORECAST_TABLE = "forecast_table"
HOUSEHOLD_MEAN = "household_mean"
_LAST_DATE = "last_observed_date"
_SOURCE = "temperature_source"
_FORECASTS_SCHEMA = f"{C.HOUSEHOLD} string, {C.DATE} date, {FORECAST_TEMPERATURE} double"


def next_day_targets(
    history: Any, stale_after_days: int, temperatures: pd.DataFrame | None = None
) -> Any:
    """One row per household (validated columns plus ``last_observed_date``, the temperature's
    source and ``stale``), dated the day after the household's last row. ``temperatures`` is
    a table from :func:`energy_forecast.temperature_forecasts.read_temperature_forecasts`."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    newest = history.agg(F.max(C.DATE)).first()[0]
    if newest is None:
        raise ValueError("cannot forecast from an empty data set")
    last_row = Window.partitionBy(C.HOUSEHOLD).orderBy(F.col(C.DATE).desc())
    mean_temperature = history.groupBy(C.HOUSEHOLD).agg(
        F.avg(C.TEMPERATURE).alias("mean_temperature_c")
    )
    rows = (
        history.withColumn("_rank", F.row_number().over(last_row))
        .filter(F.col("_rank") == 1)
        .drop("_rank")
        .withColumn(_LAST_DATE, F.col(C.DATE))
        .withColumn(C.DATE, F.date_add(F.col(C.DATE), 1))
        .withColumn(C.DAY_OF_WEEK, F.date_format(F.col(C.DATE), "EEEE"))
        .withColumn(C.ENERGY, F.lit(None).cast("double"))
        .withColumn(C.PEAK_USAGE, F.lit(None).cast("double"))
        .withColumn("stale", F.datediff(F.lit(newest), F.col(_LAST_DATE)) > stale_after_days)
        .join(mean_temperature, C.HOUSEHOLD)
    )
    if temperatures is None:
        return rows.withColumn(C.TEMPERATURE, F.col("mean_temperature_c")).withColumn(
            _SOURCE, F.lit(HOUSEHOLD_MEAN)
        )
    table = history.sparkSession.createDataFrame(temperatures, schema=_FORECASTS_SCHEMA)
    rows = rows.join(table, [C.HOUSEHOLD, C.DATE], "left")
    return rows.withColumn(
        C.TEMPERATURE, F.coalesce(FORECAST_TEMPERATURE, "mean_temperature_c")
    ).withColumn(
        _SOURCE,
        F.when(F.col(FORECAST_TEMPERATURE).isNotNull(), F.lit(FORECAST_TABLE)).otherwise(
            F.lit(HOUSEHOLD_MEAN)
        ),
    )


def forecast_next_day(
    spark: Any,
    model: SavedModel,
    validated_path: Path,
    output_path: Path,
    stale_after_days: int,
    temperature_forecasts: Path | None = None,
) -> Path:
    """Write one row per household: its forecast, or ``status=stale`` and no forecast."""
    from pyspark.sql import functions as F

    history = spark.read.parquet(str(validated_path))
    temperatures = (
        read_temperature_forecasts(temperature_forecasts) if temperature_forecasts else None
    )
    targets = next_day_targets(history, stale_after_days, temperatures).localCheckpoint(eager=True)
    fresh = targets.filter(~F.col("stale")).select(*history.columns)
    predictions = score(model, history, fresh)
    households = targets.select(
        C.HOUSEHOLD, C.DATE, _LAST_DATE, C.TEMPERATURE, _SOURCE, "stale"
    ).toPandas()
    forecasts = households.merge(predictions, on=[C.HOUSEHOLD, C.DATE], how="left")
    forecasts["status"] = np.where(forecasts["stale"], "stale", "forecast")
    forecasts["model"] = model.kind
    served = forecasts["status"] == "forecast"
    if not np.all(np.isfinite(forecasts.loc[served, "predicted_kwh"])):
        raise ValueError(f"the {model.kind} forecasts contain NaN or infinity")
    with atomic_file(output_path) as tmp:
        forecasts.sort_values(C.HOUSEHOLD).loc[:, list(FORECAST_COLUMNS)].to_parquet(
            tmp, index=False
        )
    return output_path
