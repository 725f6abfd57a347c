"""``airflow dags test energy_forecast`` end to end, on synthetic data and on the real file.

The synthetic run keeps Airflow's metadata in Postgres (when the machine serves it) and the
real-file run in SQLite, so both deployments' databases are exercised.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from tests.e2e.airflow_cli import LocalAirflow, fresh_postgres_database

pytestmark = pytest.mark.e2e

MODELS = {"lstm", "xgboost", "persistence", "household_mean"}
#: Small models and few epochs: the e2e run proves the wiring, the benchmark the quality.
FAST_TRAINING = {"epochs": 4, "patience": 2, "xgb_n_estimators": 60}


@pytest.fixture(scope="module")
def sqlite_airflow(tmp_path_factory):
    local = LocalAirflow(tmp_path_factory.mktemp("airflow-sqlite"))
    local.migrate()
    return local


@pytest.fixture(scope="module")
def postgres_airflow(tmp_path_factory):
    url = fresh_postgres_database(f"energy_forecast_e2e_{os.getpid()}")
    local = LocalAirflow(tmp_path_factory.mktemp("airflow-postgres"), database_url=url)
    local.migrate()
    return local


def _assert_row_counts_add_up(run_dir, expected_input_rows):
    ingest = json.loads((run_dir / "raw" / "manifest.json").read_text())
    features = json.loads((run_dir / "features" / "manifest.json").read_text())
    validated = pd.read_parquet(run_dir / "raw" / "validated.parquet")
    quarantined = pd.read_csv(run_dir / "raw" / "quarantine.csv")

    assert ingest["input_rows"] == expected_input_rows
    assert ingest["input_rows"] == ingest["valid_rows"] + ingest["quarantined_rows"]
    assert ingest["valid_rows"] == len(validated)
    assert ingest["quarantined_rows"] == len(quarantined)
    split_rows = {name: split["rows"] for name, split in features["splits"].items()}
    assert sum(split_rows.values()) == len(validated)
    for name, split in features["splits"].items():
        assert len(pd.read_parquet(split["path"], columns=["household_id"])) == split_rows[name]
    assert (run_dir / "features" / "pipeline_model" / "metadata").is_dir()
    return split_rows, validated


def _assert_models_reported_and_published(run, validated, split_rows, airflow):
    run_dir = run.run_dir
    for model_dir, files in {
        "lstm": ["model.pt", "model_config.json", "history.json", "predictions.parquet"],
        "xgboost": ["model", "predictions.parquet", "metrics.json"],
    }.items():
        for name in files:
            assert (run_dir / model_dir / name).exists(), f"{model_dir}/{name} missing"

    metrics = json.loads((run_dir / "report" / "metrics.json").read_text())
    assert set(metrics["models"]) == MODELS
    for split in ("val", "test"):
        assert {m["splits"][split]["n"] for m in metrics["models"].values()} == {split_rows[split]}
    assert metrics["champion"]["model"] in {"lstm", "xgboost"}
    html = (run_dir / "report" / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') >= 3
    assert (run_dir / "report" / "report.md").exists()
    assert "Model comparison" in run.log

    champion_dir = airflow.artifacts / "energy_forecast" / "champion"
    champion = json.loads((champion_dir / "champion.json").read_text())
    assert champion["champion"] == metrics["champion"]["model"]
    assert (champion_dir / "pipeline_model" / "metadata").is_dir()
    assert (champion_dir / "report" / "report.html").exists()
    forecasts = pd.read_parquet(champion_dir / "forecasts.parquet")
    assert len(forecasts) == validated["household_id"].nunique()
    assert forecasts["household_id"].is_unique
    assert set(forecasts["model"]) == {metrics["champion"]["model"]}
    assert np.isfinite(forecasts["predicted_kwh"]).all()
    next_day = pd.Timestamp(validated["date"].max()) + pd.Timedelta(days=1)
    assert set(pd.to_datetime(forecasts["date"])) == {next_day}
    return metrics


def test_synthetic_run_succeeds_end_to_end(postgres_airflow):
    run = postgres_airflow.dags_test(
        {"source": "synthetic", "synthetic_households": 150, "synthetic_days": 8, **FAST_TRAINING}
    )

    assert run.state == "success", run.log[-5000:]
    split_rows, validated = _assert_row_counts_add_up(run.run_dir, expected_input_rows=150 * 8)
    assert split_rows == {"train": 150 * 6, "val": 150, "test": 150}
    _assert_models_reported_and_published(run, validated, split_rows, postgres_airflow)


def test_real_file_run_succeeds_and_both_models_beat_persistence(sqlite_airflow, real_csv):
    run = sqlite_airflow.dags_test(
        {"source": "local", "local_csv_path": str(real_csv), "num_processes": 2}
    )

    assert run.state == "success", run.log[-5000:]
    split_rows, validated = _assert_row_counts_add_up(run.run_dir, expected_input_rows=90_000)
    # 4/1-4/5 train, 4/6 validation, 4/7 test plus the one 4/8 row
    assert split_rows == {"train": 64_285, "val": 12_857, "test": 12_858}
    metrics = _assert_models_reported_and_published(run, validated, split_rows, sqlite_airflow)
    persistence = metrics["models"]["persistence"]["splits"]["test"]["rmse"]
    for model in ("lstm", "xgboost"):
        assert metrics["models"][model]["splits"]["test"]["rmse"] < persistence
