"""
### Household energy forecast: daily retraining

Retrains next-day household energy forecasts from the Kaggle *Household Energy
Consumption* data set. Each task hands the next one **paths**, never data:

1. **download**: the Kaggle data (kagglehub cache), a local CSV or a seeded synthetic set;
   validated, bad rows quarantined with a reason, counts in a manifest.
2. **preprocess**: a Spark application (`spark-submit`, master from the `spark_default`
   connection) fits scaler + per-household day sequencer on the training days only and
   writes the fitted `PipelineModel`, Parquet features per split and the features of each
   household's next day, which the forecasts are made from.
3. **check_features**: reads the Spark application's manifest, checks every row landed in a
   split, and returns the feature paths.
4. **train**: a hybrid LSTM trained with PyTorch DDP launched by Spark's `TorchDistributor`,
   streaming Parquet row groups evenly to each process; checkpoints every epoch.
5. **xgboost**: `xgboost.spark` on lag features of the same rows and split, the LSTM's rival.
6. **report**: both models and two naive baselines (persistence, household mean) on the same
   held-out days, in kWh; the challenger is the lowest validation RMSE. The gate scores it as
   served and re-scores the current champion on the same test rows, and writes its decision
   to `decision.json`; the report shows it.
   Before the gate it measures every earlier published forecast whose day now has actuals
   (realized error and interval coverage per day and champion version), judges whether the
   champion is degraded (realized RMSE worse than its promise by more than
   `degradation_tolerance`; then a challenger that beats persistence replaces it without the
   margin) and compares the newest day's inputs with the training days (PSI).
   **alert_degraded** emits the `energy_forecast_degraded` Asset when the champion is.
7. **route_promotion / approve**: with `approval=required`, a promotion waits for a person
   to Approve or Reject it in the Airflow UI (Required actions); Reject keeps the champion.
8. **publish**: when the decision is to promote, a new version of the MLflow registered
   model `energy_forecast` (model, `PipelineModel`, report, next-day forecasts, metadata)
   gets the alias `champion` and the `energy_forecast_champion` Asset is updated with that
   version; otherwise the task is skipped.
9. **forecast**: every run with a champion, new or kept, forecasts the day after each
   household's last row from this run's data with the champion's own `PipelineModel` and
   model, with 80% and 95% intervals, as one table per forecast day under
   `artifacts/energy_forecast/forecasts/`, and updates the `energy_forecast_forecasts` Asset.

Each DAG run is one MLflow run (experiment `energy_forecast`) with its Params, every model's
metrics and the gate's decision; each training try is a child run with its epochs.

A scheduled or backfilled run uses only rows dated before its data interval's end; a run
whose input, cut-off and Params equal the champion's skips everything after download. An
error a retry cannot fix (a path outside the data roots, bad Params, malformed input) fails
its task at once; other failures are retried.

Every artifact of a run lives in `artifacts/energy_forecast/<run_id>/`; the run's page has a
**Report** tab (the `energy_forecast_reports` plugin). Params are grouped by stage in the
trigger form; their defaults run on one machine. Nothing machine-specific is decided here:
interpreter, application file, artifacts root and Spark resources are resolved on the worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task

from energy_forecast.orchestration.approval import PromotionApprovalOperator
from energy_forecast.orchestration.assets import CHAMPION, DEGRADED, FORECASTS
from energy_forecast.orchestration.params import all_params
from energy_forecast.orchestration.spark_submit import (
    CheckedSparkSubmitOperator,
    apply_train_timeout,
    spark_connection,
)
from energy_forecast.settings import TASK_TIMEOUTS, FeatureSettings, TrainSettings


@dag(
    dag_id="energy_forecast",
    schedule="@daily",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["energy", "forecasting", "spark", "pytorch", "xgboost"],
    params=all_params(),
    doc_md=__doc__,
)
def energy_forecast():
    @task(execution_timeout=TASK_TIMEOUTS["download"])
    def download() -> dict[str, str]:
        from energy_forecast.orchestration import tasks

        context = get_current_context()
        return tasks.download(
            context["run_id"], context["params"], context.get("data_interval_end"),
            context["ti"].try_number,
        )  # fmt: skip

    @task.short_circuit(execution_timeout=TASK_TIMEOUTS["check_features"])
    def skip_if_unchanged(raw: dict[str, str]) -> bool:
        from energy_forecast.orchestration import tasks

        context = get_current_context()
        return tasks.skip_if_unchanged(context["run_id"], context["params"], raw)

    preprocess = CheckedSparkSubmitOperator(
        task_id="preprocess",
        name="energy-forecast-preprocess",
        application_module="energy_forecast.features.app",
        settings_type=FeatureSettings,
        execution_timeout=TASK_TIMEOUTS["preprocess"],
        application_args=[
            "--validated", "{{ ti.xcom_pull(task_ids='download')['validated'] }}",
            "--output-dir", "{{ ti.xcom_pull(task_ids='download')['features_dir'] }}",
        ],
    )  # fmt: skip

    @task(execution_timeout=TASK_TIMEOUTS["check_features"])
    def check_features(raw: dict[str, str]) -> dict[str, str]:
        from energy_forecast.orchestration import tasks

        return tasks.check_features(raw)

    @task(execution_timeout=TrainSettings().execution_timeout, pre_execute=apply_train_timeout)
    def train(features: dict[str, str]) -> dict[str, str]:
        from energy_forecast.orchestration import tasks

        context = get_current_context()
        return tasks.train_lstm(
            context["run_id"], context["params"], features, spark_connection(),
            context["ti"].try_number,
        )  # fmt: skip

    @task(execution_timeout=TASK_TIMEOUTS["xgboost"])
    def xgboost(features: dict[str, str]) -> dict[str, str]:
        from energy_forecast.orchestration import tasks

        context = get_current_context()
        return tasks.train_xgboost(
            context["run_id"], context["params"], features, spark_connection(),
            context["ti"].try_number,
        )  # fmt: skip

    @task(execution_timeout=TASK_TIMEOUTS["report"])
    def report(raw, features, lstm, xgboost) -> dict[str, str]:
        from energy_forecast.orchestration import tasks

        context = get_current_context()
        return tasks.report(
            context["run_id"], context["params"], raw, features, lstm, xgboost,
            spark_connection(), context["ti"].try_number,
        )  # fmt: skip

    # A degraded champion (monitoring, in the report) is announced for other systems.
    @task(outlets=[DEGRADED], execution_timeout=TASK_TIMEOUTS["alert_degraded"])
    def alert_degraded(comparison) -> dict:
        from energy_forecast.orchestration import tasks

        verdict = tasks.alert_degraded(comparison)
        get_current_context()["outlet_events"][DEGRADED].extra = verdict
        return verdict

    @task.branch(execution_timeout=TASK_TIMEOUTS["check_features"])
    def route_promotion(comparison) -> list[str]:
        from energy_forecast.orchestration import tasks

        return tasks.route_promotion(get_current_context()["params"], comparison)

    # Runs after approve, or with approve skipped by route_promotion; a Reject skips it.
    @task(
        outlets=[CHAMPION],
        execution_timeout=TASK_TIMEOUTS["publish"],
        trigger_rule="none_failed_min_one_success",
    )
    def publish(raw, features, lstm, xgboost, comparison) -> dict[str, str]:
        from energy_forecast.orchestration import tasks

        context = get_current_context()
        published = tasks.publish(
            context["run_id"], context["params"], raw, features, lstm, xgboost, comparison,
            context["ti"].try_number,
        )  # fmt: skip
        context["outlet_events"][CHAMPION].extra = published
        return published

    # Runs whether publish promoted or was skipped (the champion was kept); not when
    # skip_if_unchanged stopped the run, whose short circuit skips everything after it.
    @task(
        outlets=[FORECASTS],
        execution_timeout=TASK_TIMEOUTS["forecast"],
        trigger_rule="none_failed",
    )
    def forecast(raw) -> dict:
        from energy_forecast.orchestration import tasks

        context = get_current_context()
        forecasts = tasks.forecast(
            context["run_id"], context["params"], raw, spark_connection(),
            context["ti"].try_number,
        )  # fmt: skip
        context["outlet_events"][FORECASTS].extra = forecasts
        return forecasts

    raw = download()
    features = check_features(raw)
    raw >> skip_if_unchanged(raw) >> preprocess >> features
    lstm = train(features)
    xgb = xgboost(features)
    comparison = report(raw, features, lstm, xgb)
    alert_degraded(comparison)
    approve = PromotionApprovalOperator(task_id="approve", report=comparison)
    published = publish(raw, features, lstm, xgb, comparison)
    route_promotion(comparison) >> [approve, published]
    approve >> published >> forecast(raw)


energy_forecast()
