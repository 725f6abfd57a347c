"""``airflow dags test energy_forecast`` end to end, on synthetic data and on the real file.

The synthetic backfill keeps Airflow's metadata in Postgres (when the machine serves it) and
the real-file runs in SQLite, so both deployments' databases are exercised. The real-file
runs share one Airflow home and registry: promote, keep, force, skip.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pandas as pd
import pytest

from deploy.topology import drop_database
from energy_forecast.champion.registry import Registry
from tests.champion_reader import ChampionReader
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
    name = f"energy_forecast_e2e_{os.getpid()}"
    url = fresh_postgres_database(name)
    local = LocalAirflow(tmp_path_factory.mktemp("airflow-postgres"), database_url=url)
    try:
        local.migrate()
        yield local
    finally:
        if url:
            drop_database(name)


def _assert_row_counts_add_up(run_dir, expected_input_rows):
    ingest = json.loads((run_dir / "raw" / "manifest.json").read_text())
    features = json.loads((run_dir / "features" / "manifest.json").read_text())
    validated = pd.read_parquet(run_dir / "raw" / "validated.parquet")
    quarantined = pd.read_csv(run_dir / "raw" / "quarantine.csv")

    assert ingest["input_rows"] == expected_input_rows
    accounted = ingest["valid_rows"] + ingest["quarantined_rows"] + ingest["rows_after_cutoff"]
    assert ingest["input_rows"] == accounted
    assert ingest["valid_rows"] == len(validated)
    assert ingest["quarantined_rows"] == len(quarantined)
    split_rows = {name: split["rows"] for name, split in features["splits"].items()}
    assert sum(split_rows.values()) == len(validated)
    for name, split in features["splits"].items():
        assert len(pd.read_parquet(split["path"], columns=["household_id"])) == split_rows[name]
    assert (run_dir / "features" / "pipeline_model" / "metadata").is_dir()
    return split_rows, validated


def _assert_models_reported(run, split_rows):
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
    assert metrics["challenger"]["model"] in {"lstm", "xgboost"}
    html = (run_dir / "report" / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') >= 3
    for section in ("Promotion decision", "Served configuration", "Registry history", "Backtest"):
        assert section in html, section
    assert "Model comparison" in run.log
    return metrics


def _registry(airflow) -> Registry:
    return Registry(airflow.artifacts)


def test_a_synthetic_backfill_is_a_walk_forward_backtest_that_never_promotes(postgres_airflow):
    conf = {"source": "synthetic", "synthetic_households": 100, "synthetic_days": 10}
    dates = ["2025-04-08", "2025-04-09", "2025-04-10"]

    runs = [postgres_airflow.dags_test({**conf, **FAST_TRAINING}, day) for day in dates]

    for run, day in zip(runs, dates, strict=True):
        assert run.state == "success", run.log[-5000:]
        ingest = json.loads((run.run_dir / "raw" / "manifest.json").read_text())
        features = json.loads((run.run_dir / "features" / "manifest.json").read_text())
        feature_dates = [d for split in features["splits"].values() for d in split["dates"]]
        assert ingest["cutoff"] == day
        assert max(feature_dates) < day  # point in time: nothing from the run's date on
        states = postgres_airflow.task_states(run.run_id)
        assert states["report"] == "success" and states["publish"] == "skipped"
    split_rows, _ = _assert_row_counts_add_up(runs[0].run_dir, expected_input_rows=100 * 10)
    _assert_models_reported(runs[0], split_rows)
    backtest = _registry(postgres_airflow).backtest()
    assert [row["cutoff"] for row in backtest] == dates
    assert not any(row["promoted"] for row in backtest)  # synthetic data never promotes
    assert _registry(postgres_airflow).current() is None
    assert postgres_airflow.asset_events() == 0
    assert "Backtest" in (runs[-1].run_dir / "report" / "report.html").read_text()


def test_on_the_real_file_the_gate_promotes_keeps_forces_and_skips(sqlite_airflow, real_csv):
    local = {"source": "local", "local_csv_path": str(real_csv)}
    registry = _registry(sqlite_airflow)
    reader = ChampionReader(registry)
    reader.start()

    first = sqlite_airflow.dags_test(local)
    assert first.state == "success", first.log[-5000:]
    split_rows, validated = _assert_row_counts_add_up(first.run_dir, expected_input_rows=90_000)
    # 4/1-4/5 train, 4/6 validation, 4/7 test plus the one 4/8 row
    assert split_rows == {"train": 64_285, "val": 12_857, "test": 12_858}
    metrics = _assert_models_reported(first, split_rows)
    persistence = metrics["models"]["persistence"]["splits"]["test"]["rmse"]
    for model in ("lstm", "xgboost"):
        assert metrics["models"][model]["splits"]["test"]["rmse"] < persistence
    assert registry.current().name == "v0001"
    assert sqlite_airflow.asset_events() == 1
    forecasts = pd.read_parquet(registry.pointer.resolve() / "forecasts.parquet")
    assert len(forecasts) == validated["household_id"].nunique() == 12_857
    assert forecasts["household_id"].is_unique and set(forecasts["status"]) == {"forecast"}
    assert np.isfinite(forecasts["predicted_kwh"]).all()
    days = pd.to_datetime(forecasts["date"]).dt.strftime("%Y-%m-%d").value_counts().to_dict()
    assert days == {"2025-04-08": 12_856, "2025-04-09": 1}

    weak = sqlite_airflow.dags_test({**local, "epochs": 1, "xgb_n_estimators": 2})
    assert weak.state == "success", weak.log[-5000:]
    assert sqlite_airflow.task_states(weak.run_id)["publish"] == "skipped"
    assert "keeping the champion" in weak.log
    assert registry.current().name == "v0001"
    assert sqlite_airflow.asset_events() == 1

    forced = {**local, **FAST_TRAINING}
    force = sqlite_airflow.dags_test({**forced, "promote": "force", "promote_reason": "e2e"})
    assert force.state == "success", force.log[-5000:]
    assert registry.current().name == "v0002"
    assert registry.current().metadata["gate"]["reason"] == "promote=force: e2e"
    assert sqlite_airflow.asset_events() == 2

    again = sqlite_airflow.dags_test(forced)
    assert again.state == "success", again.log[-5000:]
    assert "skipping training and publishing" in again.log
    states = sqlite_airflow.task_states(again.run_id)
    assert states["train"] == states["publish"] == "skipped"

    reader.done.set()
    reader.join()
    assert reader.problems == [] and reader.reads > 0
    assert [v.name for v in registry.versions()] == ["v0001", "v0002"]


def test_a_path_outside_the_data_roots_fails_the_run_on_its_first_try(sqlite_airflow, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("not read: the path is refused before the file is opened\n")

    started = time.monotonic()
    run = sqlite_airflow.dags_test({"source": "local", "local_csv_path": str(outside)})
    elapsed = time.monotonic() - started

    assert run.state == "failed"
    assert "is outside the allowed roots" in run.log
    assert sqlite_airflow.task_states(run.run_id)["download"] == "failed"
    assert sqlite_airflow.try_numbers(run.run_id)["download"] == 1
    assert elapsed < 120, "a retry_delay of 2 minutes was waited"
