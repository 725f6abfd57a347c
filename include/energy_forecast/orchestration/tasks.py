"""What each DAG task does: params and run id in, artifact paths out.

The DAG's task bodies are one call into this module, so the wiring stays readable and every
task can be exercised without a scheduler. Each function fails its task at once, without
retries, on an error a retry cannot fix (:mod:`energy_forecast.errors`).

Each task also records what it did on the DAG run's MLflow run (:mod:`energy_forecast.tracking`):
the download its Params and input, each training try a child run, the report every model's
test metrics and the gate's decision, publish the registered version.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energy_forecast.champion.backtest import data_tags, gate_record
from energy_forecast.champion.decision import PromotionDecision
from energy_forecast.champion.facts import RunFacts
from energy_forecast.champion.promotion import (
    evaluate_and_decide,
    report_sections,
    unchanged_reason,
)
from energy_forecast.champion.registry import (
    PROMOTED_AT_TAG,
    ChampionMovedError,
    Registry,
    Version,
)
from energy_forecast.errors import InputError
from energy_forecast.orchestration.failures import fails_fast
from energy_forecast.paths import RunLayout, data_roots, resolve_inside
from energy_forecast.runtime.atomic import write_text
from energy_forecast.runtime.log_relay import relay_output
from energy_forecast.runtime.long_lived import freezes_survivors
from energy_forecast.settings import (
    IngestSettings,
    MonitoringSettings,
    PublishSettings,
    SparkSettings,
)
from energy_forecast.spark.session import SparkConnection
from energy_forecast.tracking.runs import TRY_TAG, DagRunTracker, flat_params

if TYPE_CHECKING:
    import pandas as pd

    from energy_forecast.settings import SparkResources

log = logging.getLogger(__name__)

#: Lines that Spark, the training ranks and XGBoost write to the task's stdout/stderr.
_CHILD_OUTPUT = logging.getLogger("energy_forecast.child_output")


@freezes_survivors
@fails_fast
def download(
    run_id: str,
    params: Mapping[str, Any],
    data_interval_end: datetime | None = None,
    try_number: int = 1,
) -> dict[str, str]:
    """Fetch and validate the raw data, up to the run's point in time; also name the folder
    preprocessing writes to.

    A scheduled or backfilled run keeps only rows dated before its ``data_interval_end``, so
    a backfill is a walk-forward backtest; a manual run with no logical date uses all rows.
    Rows dated after the day the download runs are quarantined (``date_in_future``) in any
    run: with a data interval they would be cut off anyway, without one they are a mistake.
    """
    from energy_forecast.ingest.download import run_download

    layout = RunLayout.for_run(run_id)
    cutoff = data_interval_end.date() if data_interval_end else None
    outputs = run_download(
        IngestSettings.from_params(params),
        layout,
        cutoff=cutoff,
        run_date=datetime.now(UTC).date(),
    )
    tracker = DagRunTracker.for_run(run_id)
    parent = tracker.parent_run_id()
    tracker.log(
        parent,
        params=flat_params(params),
        tags={**data_tags(run_facts(run_id, params, outputs)), f"{TRY_TAG}.download": try_number},
    )
    tracker.finish(parent)
    return {**outputs, "features_dir": str(layout.features_dir)}


def run_facts(run_id: str, params: Mapping[str, Any], raw: Mapping[str, str]) -> RunFacts:
    """What the registry records about this run, from the download's manifest."""
    ingest = json.loads(Path(raw["manifest"]).read_text())
    return RunFacts(
        run_id=run_id,
        source=ingest["source"],
        input_sha256=ingest["input_sha256"],
        cutoff=ingest.get("cutoff"),
        data_last_date=str(ingest["last_date"]),
        params=dict(params),
    )


@freezes_survivors
@fails_fast
def skip_if_unchanged(run_id: str, params: Mapping[str, Any], raw: Mapping[str, str]) -> bool:
    """False (skip everything downstream) when the champion's run had this input, cut-off
    and Params; the log says why."""
    registry = Registry()
    reason = unchanged_reason(
        run_facts(run_id, params, raw), registry, PublishSettings.from_params(params)
    )
    if reason:
        log.info("skipping training and publishing: %s", reason)
        note = {"reason": reason, "champion_version": registry.current().name}
        tracker = DagRunTracker.for_run(run_id)
        tracker.log(tracker.parent_run_id(), tags={"skipped": reason})
        write_text(RunLayout.for_run(run_id).skip_note, json.dumps(note, indent=2))
    return reason is None


@freezes_survivors
@fails_fast
def check_features(raw: Mapping[str, str]) -> dict[str, str]:
    """Read the Spark application's manifest and prove no row was lost on the way."""
    import pyarrow.parquet as pq

    from energy_forecast.features.manifest import FeaturesManifest

    features_dir = Path(raw["features_dir"])
    manifest_path = features_dir / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(
            f"preprocessing wrote no manifest at {manifest_path}; see the preprocess task log"
        )
    manifest = FeaturesManifest.load(manifest_path)
    validated_rows = pq.ParquetFile(raw["validated"]).metadata.num_rows
    split_rows = manifest.split_rows
    if sum(split_rows.values()) != validated_rows:
        raise ValueError(
            f"feature rows per split {split_rows} do not add up to the {validated_rows} "
            "validated rows"
        )
    empty = [name for name, rows in split_rows.items() if rows == 0]
    if empty:
        raise InputError(f"feature splits {empty} are empty; check test_days/val_days")
    return {
        "manifest": str(manifest_path),
        "pipeline_model": str(manifest.pipeline_model),
        **{name: str(path) for name, path in manifest.split_paths.items()},
    }


@freezes_survivors
@fails_fast
def train_lstm(
    run_id: str,
    params: Mapping[str, Any],
    features: Mapping[str, str],
    spark: SparkConnection,
    try_number: int = 1,
) -> dict[str, str]:
    """Distributed LSTM training and its evaluation in kWh, as a child MLflow run."""
    from energy_forecast.settings import TrainSettings
    from energy_forecast.training import artifacts
    from energy_forecast.training.train import run_training

    tracker = DagRunTracker.for_run(run_id)
    child = tracker.child_run_id("lstm", try_number)
    with relay_output(_CHILD_OUTPUT), _failed_on_error(tracker, child):
        outputs = run_training(
            TrainSettings.from_params(params),
            Path(features["manifest"]),
            RunLayout.for_run(run_id).lstm_dir,
            spark.master,
            resources=SparkSettings.from_params(params).resources(spark.extras),
            master_web_ui=spark.master_web_ui,
        )
        _log_training(
            tracker, child, "lstm", outputs["metrics"],
            [Path(outputs["model"]), Path(outputs["model_config"])], features,
            artifacts.read_history(Path(outputs["model"]).parent), "epoch", try_number,
        )  # fmt: skip
    return outputs


@freezes_survivors
@fails_fast
def train_xgboost(
    run_id: str,
    params: Mapping[str, Any],
    features: Mapping[str, str],
    spark: SparkConnection,
    try_number: int = 1,
) -> dict[str, str]:
    """XGBoost on the same rows and split, evaluated like the LSTM, as a child MLflow run."""
    from energy_forecast.settings import XGBoostSettings
    from energy_forecast.xgb.train import BOOSTER_FILE, run_xgboost

    tracker = DagRunTracker.for_run(run_id)
    child = tracker.child_run_id("xgboost", try_number)
    with relay_output(_CHILD_OUTPUT), _failed_on_error(tracker, child):
        outputs = run_xgboost(
            XGBoostSettings.from_params(params),
            Path(features["manifest"]),
            RunLayout.for_run(run_id).xgboost_dir,
            spark.master,
            resources=SparkSettings.from_params(params).resources(spark.extras),
            master_web_ui=spark.master_web_ui,
        )
        history = json.loads(Path(outputs["metrics"]).read_text()).get("history", [])
        _log_training(
            tracker, child, "xgboost", outputs["metrics"],
            [Path(outputs["model"]) / BOOSTER_FILE], features, history, "round", try_number,
        )  # fmt: skip
    return outputs


def _log_training(
    tracker: DagRunTracker,
    child: str,
    model: str,
    metrics: str,
    model_files: list[Path],
    features: Mapping[str, str],
    history: list[dict[str, Any]],
    step_key: str,
    try_number: int,
) -> None:
    from energy_forecast.features.manifest import FeaturesManifest
    from energy_forecast.tracking.training import log_trained_model

    shape = FeaturesManifest.load(Path(features["manifest"])).shape
    log_trained_model(
        tracker, child, model, Path(metrics), model_files, shape, history, step_key, try_number
    )


@contextmanager
def _failed_on_error(tracker: DagRunTracker, mlflow_run_id: str) -> Iterator[None]:
    """Mark the MLflow run failed when the block raises (the task fails or retries)."""
    try:
        yield
    except BaseException:
        tracker.finish(mlflow_run_id, failed=True)
        raise


@freezes_survivors
@fails_fast
def report(
    run_id: str,
    params: Mapping[str, Any],
    raw: Mapping[str, str],
    features: Mapping[str, str],
    lstm: Mapping[str, str],
    xgboost: Mapping[str, str],
    spark_connection: SparkConnection,
    try_number: int = 1,
) -> dict[str, str]:
    """Compare every model on the same held-out rows, decide at the gate whether the
    challenger replaces the champion, then write the report with the decision in it.

    The decision is written once, to ``decision.json``, whose path publish receives; every
    model's metrics, the decision, the report and the PipelineModel go to the DAG run's
    MLflow run, whose gate records the backtest is read from.
    """
    from energy_forecast.features.manifest import FeaturesManifest
    from energy_forecast.monitoring.check import monitor
    from energy_forecast.report.build import compare_run, write_report
    from energy_forecast.serving.daily import forecasts_root

    layout = RunLayout.for_run(run_id)
    manifest = FeaturesManifest.load(Path(features["manifest"]))
    model_outputs = {
        "lstm": {key: lstm[key] for key in ("predictions", "metrics", "history")},
        "xgboost": {key: xgboost[key] for key in ("predictions", "metrics")},
    }
    settings = PublishSettings.from_params(params)
    resources = SparkSettings.from_params(params).resources(spark_connection.extras)
    facts = run_facts(run_id, params, raw)
    registry = Registry()
    tracker = DagRunTracker(registry.store, run_id)
    parent = tracker.parent_run_id()

    with relay_output(_CHILD_OUTPUT):
        run = compare_run(Path(raw["validated"]), model_outputs, layout.report_dir)
        comparison = run.comparison
        current = registry.current()
        monitoring = monitor(
            Path(raw["validated"]),
            forecasts_root(),
            manifest.split_dates["train"],
            facts.data_last_date,
            current.name if current else None,
            {
                version.name: version.metadata["served_test_rmse"]
                for version in registry.versions()
                if version.metadata.get("served_test_rmse") is not None
            },
            MonitoringSettings.from_params(params),
            layout.report_dir,
        )
        decision = evaluate_and_decide(
            facts,
            comparison.challenger,
            {
                "val": comparison.rmse(comparison.challenger, "val"),
                "test": comparison.rmse(comparison.challenger, "test"),
                "persistence_test": comparison.rmse("persistence", "test"),
            },
            {"lstm": Path(lstm["model"]).parent, "xgboost": Path(xgboost["model"])},
            manifest,
            Path(raw["validated"]),
            registry,
            settings,
            lambda: _spark_session("energy-forecast-report", resources, spark_connection),
            _temperature_forecasts(settings),
            monitoring.degradation,
        )
        decision_path = decision.save(layout.decision)
        gate_tags, gate_metrics = gate_record(facts, decision, run.intervals[comparison.challenger])
        model_metrics = {
            f"{split}_{name}.{model}": value
            for model, splits in run.metrics.items()
            for split, values in splits.items()
            for name, value in values.items()
        }
        interval_metrics = {
            f"{measure}_{level}.{model}": fit[key]
            for model, fits in run.intervals.items()
            for level, fit in fits.items()
            for measure, key in (
                ("interval_radius_kwh", "radius_kwh"),
                ("test_coverage", "test_coverage"),
            )
        }
        tracker.log(
            parent,
            metrics={**model_metrics, **interval_metrics, **gate_metrics, **monitoring.metrics()},
            tags={**gate_tags, f"{TRY_TAG}.report": try_number},
        )
        run_info = {
            "run_id": run_id,
            "source": raw["source"],
            "params": dict(params),
            "rows": manifest.split_rows,
            "split_dates": manifest.split_dates,
        }
        written = write_report(
            run,
            run_info,
            layout.report_dir,
            sections=[
                *monitoring.sections(layout.report_dir),
                *report_sections(decision, registry),
            ],
            extra_metrics={
                "promotion": decision.as_dict(),
                "degradation": monitoring.degradation.as_dict(),
            },
        )
        tracker.log_artifacts(parent, layout.report_dir, "report")
        tracker.log_artifacts(parent, Path(features["pipeline_model"]), "pipeline_model")
        tracker.finish(parent)
    return {**written, **monitoring.files, "decision": str(decision_path)}


@freezes_survivors
@fails_fast
def publish(
    run_id: str,
    params: Mapping[str, Any],
    raw: Mapping[str, str],
    features: Mapping[str, str],
    lstm: Mapping[str, str],
    xgboost: Mapping[str, str],
    report: Mapping[str, str],
    try_number: int = 1,
) -> dict[str, str]:
    """Register the challenger as the new champion when the gate said so; otherwise skip
    (no Asset event).

    The version (model, PipelineModel, report, next-day forecasts, metadata) is built and
    uploaded whole before it is registered and the alias ``champion`` moves to it, and only
    if the champion is still the one the gate compared against (checked again under the
    registry's lock). A retry whose earlier try already went live returns that version, so
    its Asset event is sent once.
    """
    from airflow.sdk.exceptions import AirflowSkipException

    from energy_forecast.champion.publish import publish_champion
    from energy_forecast.features.manifest import FeaturesManifest
    from energy_forecast.serving.forecast import forecast_next_day
    from energy_forecast.serving.intervals import radii_of

    decision = PromotionDecision.load(Path(report["decision"]))
    if not decision.promote:
        log.info("keeping the champion: %s", decision.reason)
        raise AirflowSkipException(f"champion kept: {decision.reason}")
    registry = Registry()
    current = registry.current()
    earlier = registry.find(run_id) and registry.find(
        run_id, run_facts(run_id, params, raw).fingerprint()
    )
    if earlier and (
        earlier.tags.get(PROMOTED_AT_TAG) or (current and current.number == earlier.number)
    ):
        # An earlier try went live and died before Airflow heard of it: same Asset event.
        log.info("run %s already published version %s; announcing it", run_id, earlier.name)
        return published_version(earlier)
    if not earlier and (current.name if current else None) != decision.incumbent_version:
        raise ChampionMovedError(
            f"the champion is version {current.name if current else 'none'}, not "
            f"{decision.incumbent_version or 'none'} as when the gate compared this run "
            "against it; not replacing it. The next run gates against the new champion."
        )
    model = decision.model
    model_files = (
        [Path(lstm["model"]), Path(lstm["model_config"])]
        if model == "lstm"
        else [Path(xgboost["model"])]
    )
    settings = PublishSettings.from_params(params)
    facts = run_facts(run_id, params, raw)
    metrics = json.loads(Path(report["metrics"]).read_text())
    manifest = FeaturesManifest.load(Path(features["manifest"]))
    radii = radii_of(metrics["intervals"][model])

    def write_forecasts(model_dir: Path, path: Path) -> Path:
        return forecast_next_day(
            model,
            model_dir,
            manifest,
            path,
            settings.stale_after_days,
            _temperature_forecasts(settings),
            radii,
        )

    tracker = DagRunTracker(registry.store, run_id)
    parent = tracker.parent_run_id()
    with relay_output(_CHILD_OUTPUT):
        version = publish_champion(
            registry,
            model=model,
            model_files=model_files,
            pipeline_model=Path(features["pipeline_model"]),
            report_dir=Path(report["report_dir"]),
            write_forecasts=write_forecasts,
            metadata={
                "run_id": run_id,
                "source": facts.source,
                "cutoff": facts.cutoff,
                "data_last_date": facts.data_last_date,
                # The last day whose actuals fitted or calibrated the model (train and
                # validation; test days are only scored): forecast writes no day up to it.
                "fitted_through": max(manifest.split_dates["train"] + manifest.split_dates["val"]),
                "input_sha256": facts.input_sha256,
                "params": facts.params,
                "fingerprint": facts.fingerprint(),
                "metrics": metrics["models"][model],
                "intervals": metrics["intervals"][model],
                "served_test_rmse": decision.evidence.served_test_rmse,
                "gate": dataclasses.asdict(decision.gate),
                "approval": _approval(run_id),
                "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            shape=manifest.shape,
            mlflow_run_id=parent,
            replaces=decision.incumbent_version,
        )
    tracker.log(parent, tags={"published_version": version.name, f"{TRY_TAG}.publish": try_number})
    tracker.finish(parent)
    log.info("promoted %s as version %s: %s", model, version.name, decision.reason)
    return published_version(version)


@freezes_survivors
@fails_fast
def forecast(
    run_id: str,
    params: Mapping[str, Any],
    raw: Mapping[str, str],
    spark_connection: SparkConnection,
    try_number: int = 1,
) -> dict[str, Any]:
    """Tomorrow's forecasts from this run's data with the current champion, new or kept,
    written as one table per forecast day; skipped (no Asset event) before any champion.

    A champion this run published already forecast this run's data; its rows are reused.
    """
    import pandas as pd
    from airflow.sdk.exceptions import AirflowSkipException

    from energy_forecast.champion.publish import FORECASTS_FILE
    from energy_forecast.serving.daily import champion_forecasts, write_daily_tables
    from energy_forecast.serving.intervals import radii_of
    from energy_forecast.serving.scoring import SavedModel

    registry = Registry()
    champion = registry.current()
    if champion is None:
        raise AirflowSkipException("no champion has been published yet: nothing to forecast with")
    champion = registry.verified(champion)
    settings = PublishSettings.from_params(params)
    with relay_output(_CHILD_OUTPUT):
        if champion.metadata.get("run_id") == run_id:
            forecasts = pd.read_parquet(champion.path / FORECASTS_FILE)
        else:
            resources = SparkSettings.from_params(params).resources(spark_connection.extras)
            spark = _spark_session("energy-forecast-forecast", resources, spark_connection)
            saved = SavedModel(
                champion.model, champion.path / "model", champion.path / "pipeline_model"
            )
            forecasts = champion_forecasts(
                saved,
                radii_of(champion.metadata.get("intervals", {})),
                spark.read.parquet(raw["validated"]),
                settings.stale_after_days,
            )
    tables = write_daily_tables(
        forecasts, champion.name, str(champion.metadata.get("fitted_through", ""))
    )
    if not tables:
        raise AirflowSkipException(
            f"champion version {champion.name} was trained on these days: no forecast to write"
        )
    forecast_rows = int((forecasts["status"] == "forecast").sum())
    tracker = DagRunTracker(registry.store, run_id)
    parent = tracker.parent_run_id()
    tracker.log(
        parent,
        metrics={"forecast.households": forecast_rows},
        tags={"forecast.champion_version": champion.name, f"{TRY_TAG}.forecast": try_number},
    )
    tracker.finish(parent)
    log.info(
        "forecast: %d households with champion version %s, days %s",
        forecast_rows,
        champion.name,
        sorted(tables),
    )
    return {
        "champion_version": champion.name,
        "model_uri": champion.uri,
        "forecast_dates": sorted(tables),
        "tables": tables,
        "households_forecast": forecast_rows,
    }


def route_promotion(params: Mapping[str, Any], report: Mapping[str, str]) -> list[str]:
    """The tasks after the gate: ``publish``, behind ``approve`` when the run asks for a
    person's approval and the gate would promote (a kept champion needs nobody)."""
    decision = PromotionDecision.load(Path(report["decision"]))
    if PublishSettings.from_params(params).approval == "required" and decision.promote:
        return ["approve", "publish"]
    return ["publish"]


def approval_request(report: Mapping[str, str]) -> tuple[str, str]:
    """Subject and Markdown body of the approval a person is asked for."""
    decision = PromotionDecision.load(Path(report["decision"]))
    evidence = decision.evidence
    subject = f"Promote {decision.model} as the energy_forecast champion?"
    body = "\n".join(
        [
            f"**The gate would promote.** {decision.reason}.",
            "",
            f"- served test RMSE: {evidence.served_test_rmse:.4f} kWh "
            f"({evidence.temperature_source})",
            f"- replaces version: {decision.incumbent_version or 'none (first champion)'}",
            f"- report: `{report['report_html']}`",
            "",
            "Approve to publish it; Reject keeps the current champion. The comment is recorded.",
        ]
    )
    return subject, body


def record_approval(run_id: str, response: Mapping[str, Any], try_number: int = 1) -> dict:
    """Keep a person's answer with the run: ``approval.json`` (publish copies it into the
    version's metadata) and tags on the DAG run's MLflow run."""
    user = response.get("responded_by_user") or {}
    answer = {
        "approved": response["chosen_options"] == ["Approve"],
        "chosen": response["chosen_options"][0],
        "by": user.get("name") or user.get("id"),
        "comment": (response.get("params_input") or {}).get("comment", ""),
        "at": str(response.get("responded_at")),
    }
    write_text(RunLayout.for_run(run_id).approval, json.dumps(answer, indent=2) + "\n")
    tracker = DagRunTracker(Registry().store, run_id)
    parent = tracker.parent_run_id()
    tracker.log(
        parent,
        tags={f"approval.{key}": value for key, value in answer.items()}
        | {f"{TRY_TAG}.approve": try_number},
    )
    tracker.finish(parent)
    log.info("promotion %s by %s: %s", answer["chosen"], answer["by"], answer["comment"])
    return answer


@fails_fast
def alert_degraded(report: Mapping[str, str]) -> dict[str, Any]:
    """The monitoring's verdict when the champion is degraded, for the Asset event; skipped
    (no event) otherwise."""
    from airflow.sdk.exceptions import AirflowSkipException

    from energy_forecast.monitoring.degradation import Degradation

    degradation = Degradation.load(Path(report["degradation"]))
    if not degradation.degraded:
        raise AirflowSkipException(degradation.reason)
    log.warning("ALERT: %s", degradation.reason)
    return degradation.as_dict()


def published_version(version: Version) -> dict[str, str]:
    """What the champion Asset event carries: this version's own number, URI and files,
    never the alias ``champion``, which a consumer reading late would find moved."""
    from energy_forecast.champion.publish import FORECASTS_FILE

    return {
        "version": version.name,
        "model_uri": version.uri,
        "version_dir": str(version.path),
        "model": version.model,
        "forecasts": str(version.path / FORECASTS_FILE),
        "report_html": str(version.path / "report" / "report.html"),
    }


def _approval(run_id: str) -> dict[str, Any] | None:
    path = RunLayout.for_run(run_id).approval
    return json.loads(path.read_text()) if path.exists() else None


def _spark_session(name: str, resources: SparkResources, connection: SparkConnection) -> Any:
    """A driver named ``name`` on the run's Spark connection, with the run's resources."""
    from energy_forecast.spark.session import get_session

    return get_session(
        name, master=connection.master, conf=resources.conf(), web_ui=connection.master_web_ui
    )


def _temperature_path(settings: PublishSettings) -> Path | None:
    if not settings.temperature_forecasts_path:
        return None
    return resolve_inside(
        settings.temperature_forecasts_path, data_roots(), "temperature_forecasts_path"
    )


def _temperature_forecasts(settings: PublishSettings) -> pd.DataFrame | None:
    from energy_forecast.serving.temperatures import read_temperature_forecasts

    path = _temperature_path(settings)
    return read_temperature_forecasts(path) if path else None
