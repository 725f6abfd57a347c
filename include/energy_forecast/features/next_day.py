"""The rows next-day forecasts are made from, built beside every other row's features.

The rule (README "Forecasts"): a household is forecast for its last observed date + 1, so
yesterday is always a real day in its sequence (mask 1), the input pattern the models were
trained on. The forecast day's temperature is not in the data; these rows carry the
household's mean temperature over its history, the documented proxy, and publishing puts a
temperature forecast in its place where a table gives one (only the target day's slot of
the features holds it).

Preprocessing transforms these rows with the splits' rows, in the same pass and with the
same fitted pipeline, so publishing predicts from written features and starts no Spark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from energy_forecast import columns as C

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def next_day_rows(history: DataFrame) -> DataFrame:
    """One row per household, in ``history``'s columns plus ``last_observed_date``: its last
    row moved to the next day, with no energy or peak usage, and its mean temperature.

    One hash aggregation per household (``max_by`` the date), not a window: a window would
    sort every row by household and date, a second full sort at 100x the real file.
    """
    from pyspark.sql import functions as F

    carried = [c for c in history.columns if c not in (C.HOUSEHOLD, C.DATE)]
    last = history.groupBy(C.HOUSEHOLD).agg(
        F.max(C.DATE).alias(C.LAST_OBSERVED_DATE),
        F.max_by(F.struct(*carried), F.col(C.DATE)).alias("_last_row"),
        F.avg(C.TEMPERATURE).alias("_mean_temperature"),
    )
    return (
        last.select(C.HOUSEHOLD, C.LAST_OBSERVED_DATE, "_mean_temperature", "_last_row.*")
        .withColumn(C.DATE, F.date_add(F.col(C.LAST_OBSERVED_DATE), 1))
        .withColumn(C.DAY_OF_WEEK, F.date_format(F.col(C.DATE), "EEEE"))
        .withColumn(C.ENERGY, F.lit(None).cast("double"))
        .withColumn(C.PEAK_USAGE, F.lit(None).cast("double"))
        .withColumn(C.TEMPERATURE, F.col("_mean_temperature"))
        .select(*history.columns, C.LAST_OBSERVED_DATE)
    )
