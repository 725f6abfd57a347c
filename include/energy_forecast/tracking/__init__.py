"""MLflow: where each DAG run's Params, metrics and artifacts are tracked (:mod:`.store`,
:mod:`.runs`) and what a logged model says it reads and returns (:mod:`.signature`).

Nothing here imports Airflow; the orchestration layer passes in the run id and try number.
The Model Registry that publishing writes to is :mod:`energy_forecast.champion.registry`.
"""
