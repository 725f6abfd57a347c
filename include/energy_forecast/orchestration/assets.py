"""Airflow Assets this project produces; other DAGs can be scheduled on them.

The URI is a logical name, the same for every DAG processor: where the champion really lies
(the worker's artifacts root) travels in each asset event's ``extra``.
"""

from __future__ import annotations

from airflow.sdk import Asset

#: Updated when a run publishes a new champion model, its forecasts and report.
CHAMPION = Asset(name="energy_forecast_champion", uri="energy-forecast://energy_forecast/champion")

#: Updated by every run that writes next-day forecasts with the champion, new or kept: each
#: event names the forecast days and their tables.
FORECASTS = Asset(
    name="energy_forecast_forecasts", uri="energy-forecast://energy_forecast/forecasts"
)

#: Updated by a run whose monitoring finds the champion degraded: the realized RMSE of its
#: recent published forecasts broke its promise by more than the run's tolerance. The event's
#: extra is the verdict (version, days, realized and promised RMSE).
DEGRADED = Asset(name="energy_forecast_degraded", uri="energy-forecast://energy_forecast/degraded")
