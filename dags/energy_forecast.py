"""
### Household energy forecast: daily retraining

Retrains next-day household energy forecasts from the Kaggle *Household Energy
Consumption* data set. Each task hands the next one **paths**, never data:

1. **download**: the Kaggle data (kagglehub cache), a local CSV or a seeded synthetic set;
   validated, bad rows quarantined with a reason, counts in a manifest.
2. **preprocess**: a Spark application (`spark-submit`, master from the `spark_default`
   connection) fits scaler + per-household day sequencer on the training days only and
   writes the fitted `PipelineModel` and Parquet features per split.
3. **check_features**: reads the Spark application's manifest, checks every row landed in a
   split, and returns the feature paths.

Every artifact of a run lives in `artifacts/energy_forecast/<run_id>/`. Params are grouped
by stage in the trigger form; their defaults run on one machine.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task

import energy_forecast.features.app as preprocess_app
from energy_forecast.orchestration import (
    CheckedSparkSubmitOperator,
    application_path,
    spark_submit_conf,
)
from energy_forecast.params import all_params


@dag(
    dag_id="energy_forecast",
    schedule="@daily",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["energy", "forecasting", "spark", "pytorch"],
    params=all_params(),
    doc_md=__doc__,
)
def energy_forecast():
    @task
    def download() -> dict[str, str]:
        from energy_forecast.stages import download_stage

        context = get_current_context()
        return download_stage(context["run_id"], context["params"])

    preprocess = CheckedSparkSubmitOperator(
        task_id="preprocess",
        name="energy-forecast-preprocess",
        application=application_path(preprocess_app.__file__),
        conf=spark_submit_conf(),
        application_args=[
            "--validated", "{{ ti.xcom_pull(task_ids='download')['validated'] }}",
            "--output-dir", "{{ ti.xcom_pull(task_ids='download')['features_dir'] }}",
            "--sequence-length", "{{ params.sequence_length }}",
            "--test-days", "{{ params.test_days }}",
            "--val-days", "{{ params.val_days }}",
            "--rows-per-row-group", "{{ params.rows_per_row_group }}",
        ],
    )  # fmt: skip

    @task
    def check_features(raw: dict[str, str]) -> dict[str, str]:
        from energy_forecast.stages import check_features_stage

        return check_features_stage(raw)

    raw = download()
    features = check_features(raw)
    raw >> preprocess >> features


energy_forecast()
