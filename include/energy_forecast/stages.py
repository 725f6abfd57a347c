"""What each DAG task does, in plain Python: params and run id in, artifact paths out.

The DAG's task bodies are one call into this module, so the wiring stays readable and every
stage can be exercised without Airflow.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from energy_forecast.log_relay import relay_output
from energy_forecast.paths import RunLayout
from energy_forecast.settings import IngestSettings, SparkSettings
from energy_forecast.spark import SparkConnection

#: Lines that Spark, the training ranks and XGBoost write to the task's stdout/stderr.
_CHILD_OUTPUT = logging.getLogger("energy_forecast.child_output")


def download_stage(run_id: str, params: Mapping[str, Any]) -> dict[str, str]:
    """Fetch and validate the raw data; also name the folder preprocessing writes to."""
    from energy_forecast.ingest.stage import run_download

    layout = RunLayout.for_run(run_id)
    outputs = run_download(IngestSettings.from_params(params), layout)
    return {**outputs, "features_dir": str(layout.features_dir)}


def check_features_stage(raw: Mapping[str, str]) -> dict[str, str]:
    """Read the Spark application's manifest and prove no row was lost on the way."""
    import pyarrow.parquet as pq

    features_dir = Path(raw["features_dir"])
    manifest_path = features_dir / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(
            f"preprocessing wrote no manifest at {manifest_path}; see the preprocess task log"
        )
    manifest = json.loads(manifest_path.read_text())
    validated_rows = pq.ParquetFile(raw["validated"]).metadata.num_rows
    split_rows = {name: split["rows"] for name, split in manifest["splits"].items()}
    if sum(split_rows.values()) != validated_rows:
        raise ValueError(
            f"feature rows per split {split_rows} do not add up to the {validated_rows} "
            "validated rows"
        )
    empty = [name for name, rows in split_rows.items() if rows == 0]
    if empty:
        raise ValueError(f"feature splits {empty} are empty; check test_days/val_days")
    return {
        "manifest": str(manifest_path),
        "pipeline_model": manifest["pipeline_model"],
        **{name: split["path"] for name, split in manifest["splits"].items()},
    }


def train_stage(
    run_id: str,
    params: Mapping[str, Any],
    features: Mapping[str, str],
    spark: SparkConnection,
) -> dict[str, str]:
    """Distributed LSTM training and its evaluation in kWh."""
    from energy_forecast.settings import TrainSettings
    from energy_forecast.training.stage import run_training

    with relay_output(_CHILD_OUTPUT):
        return run_training(
            TrainSettings.from_params(params),
            Path(features["manifest"]),
            RunLayout.for_run(run_id).lstm_dir,
            spark.master,
            resources=SparkSettings.from_params(params).resources(spark.extras),
            master_web_ui=spark.master_web_ui,
        )


def baseline_stage(
    run_id: str,
    params: Mapping[str, Any],
    features: Mapping[str, str],
    spark: SparkConnection,
) -> dict[str, str]:
    """XGBoost on the same rows and split, evaluated like the LSTM."""
    from energy_forecast.baseline.xgb import run_baseline
    from energy_forecast.settings import BaselineSettings

    with relay_output(_CHILD_OUTPUT):
        return run_baseline(
            BaselineSettings.from_params(params),
            Path(features["manifest"]),
            RunLayout.for_run(run_id).xgboost_dir,
            spark.master,
            resources=SparkSettings.from_params(params).resources(spark.extras),
            master_web_ui=spark.master_web_ui,
        )


def report_stage(
    run_id: str,
    params: Mapping[str, Any],
    raw: Mapping[str, str],
    features: Mapping[str, str],
    lstm: Mapping[str, str],
    xgboost: Mapping[str, str],
) -> dict[str, str]:
    """Compare every model on the same held-out rows and choose the champion."""
    from energy_forecast.report.stage import run_report

    manifest = json.loads(Path(features["manifest"]).read_text())
    run_info = {
        "run_id": run_id,
        "source": raw["source"],
        "params": {key: params[key] for key in params},
        "rows": {name: split["rows"] for name, split in manifest["splits"].items()},
        "split_dates": {name: split["dates"] for name, split in manifest["splits"].items()},
    }
    model_outputs = {
        "lstm": {
            "predictions": lstm["predictions"],
            "metrics": lstm["metrics"],
            "history": lstm["history"],
        },
        "xgboost": {"predictions": xgboost["predictions"], "metrics": xgboost["metrics"]},
    }
    return run_report(
        Path(raw["validated"]), model_outputs, run_info, RunLayout.for_run(run_id).report_dir
    )


def publish_stage(
    run_id: str,
    params: Mapping[str, Any],
    raw: Mapping[str, str],
    features: Mapping[str, str],
    lstm: Mapping[str, str],
    xgboost: Mapping[str, str],
    report: Mapping[str, str],
    spark_connection: SparkConnection,
) -> dict[str, str]:
    """Copy the champion to the stable location with its next-day forecasts."""
    from energy_forecast.forecast import forecast_next_day
    from energy_forecast.publish import publish_champion
    from energy_forecast.spark import get_session

    champion = report["champion"]
    if champion == "lstm":
        model_files = [Path(lstm["model"]), Path(lstm["model_config"])]
        model_dir = Path(lstm["model"]).parent
    elif champion == "xgboost":
        model_files = [Path(xgboost["model"])]
        model_dir = Path(xgboost["model"])
    else:
        raise ValueError(f"the report chose an unknown champion {champion!r}")
    manifest = json.loads(Path(features["manifest"]).read_text())
    resources = SparkSettings.from_params(params).resources(spark_connection.extras)
    with relay_output(_CHILD_OUTPUT):
        spark = get_session(
            "energy-forecast-publish", master=spark_connection.master, conf=resources.conf()
        )

        def write_forecasts(path: Path) -> Path:
            return forecast_next_day(
                spark,
                champion,
                model_dir,
                Path(raw["validated"]),
                Path(features["pipeline_model"]),
                manifest["scaler"][manifest["target_kwh"]],
                path,
            )

        return publish_champion(
            champion=champion,
            model_files=model_files,
            pipeline_model=Path(features["pipeline_model"]),
            report_dir=Path(report["report_dir"]),
            write_forecasts=write_forecasts,
            summary={"run_id": run_id, "source": raw["source"], **dict(report)},
        )
