"""Airflow Assets this project produces; other DAGs can be scheduled on them."""

from __future__ import annotations

from airflow.sdk import Asset

from energy_forecast.publish import CHAMPION_DIR

#: Updated when a run publishes a new champion model, its forecasts and report.
CHAMPION = Asset(name="energy_forecast_champion", uri=CHAMPION_DIR.as_uri())
