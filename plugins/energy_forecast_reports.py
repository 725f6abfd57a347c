"""Airflow plugin: each run's report as a tab of the run's page, a link to its MLflow run, the
champion in the navigation.

``airflow api-server`` mounts the app under ``/energy-forecast``; the UI shows the views in
an iframe. Their ``href`` is relative on purpose: the UI resolves it against its
``<base href>``, which follows ``[api] base_url``, so the links keep working when Airflow is
served under a sub-path. The UI fills ``{DAG_ID}`` and ``{RUN_ID}`` in URL-encoded.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin
from energy_forecast_reports_app import app

URL_PREFIX = "/energy-forecast"
_BASE = URL_PREFIX.lstrip("/")


class EnergyForecastReportsPlugin(AirflowPlugin):
    name = "energy_forecast_reports"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": app, "url_prefix": URL_PREFIX, "name": "Energy forecast reports"}
    ]
    external_views: ClassVar[list[dict[str, str]]] = [
        {
            "name": "Report",
            "href": f"{_BASE}/runs/{{RUN_ID}}/report?dag_id={{DAG_ID}}",
            "destination": "dag_run",
            "url_route": "energy-forecast-report",
        },
        # No url_route: the MLflow UI opens in its own tab (it refuses to be framed).
        {
            "name": "MLflow run",
            "href": f"{_BASE}/runs/{{RUN_ID}}/mlflow?dag_id={{DAG_ID}}",
            "destination": "dag_run",
        },
        {
            "name": "Energy forecast champion",
            "href": f"{_BASE}/champion",
            "destination": "nav",
            "category": "browse",
            "url_route": "energy-forecast-champion",
        },
    ]
