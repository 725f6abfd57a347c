"""``airflow dags test energy_forecast`` end to end, on synthetic data and on the real file.

The synthetic backfill keeps Airflow's metadata in Postgres (when the machine serves it) and
the real-file runs in SQLite, so both deployments' databases are exercised. The real-file
runs share one Airflow home and MLflow store: promote, keep, force, skip, then the MLflow
UI (``mlflow server`` on that store) is looked at in Chromium. Screenshots go to
``$ENERGY_FORECAST_SCREENSHOTS`` (default: the test's tmp folder).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deploy.topology import drop_database
from energy_forecast.champion.backtest import backtest_rows
from energy_forecast.champion.registry import CHAMPION_ALIAS, MODEL_NAME, Registry
from energy_forecast.tracking.runs import KIND_TAG, MODEL_TAG, PARENT_TAG, RUN_ID_TAG
from energy_forecast.tracking.store import TrackingStore
from tests.champion_reader import ChampionReader
from tests.e2e.airflow_cli import LocalAirflow, fresh_postgres_database
from tests.mlflow_ui import check_run_and_champion, chromium_page, local_mlflow_ui

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
    sections = (
        "Prediction intervals",
        "Promotion decision",
        "Served configuration",
        "Registry history",
        "Backtest",
    )
    for section in sections:
        assert section in html, section
    for model in MODELS:
        for level in ("80", "95"):
            fit = metrics["intervals"][model][level]
            assert fit["test_rows"] == split_rows["test"] and 0 < fit["test_coverage"] <= 1
    assert "Model comparison" in run.log
    return metrics


def _registry(airflow) -> Registry:
    return Registry(TrackingStore.local(airflow.artifacts))


def _mlflow_runs(registry: Registry, dag_run_id: str) -> dict[str, object]:
    """The DAG run's MLflow runs by kind: ``dag_run`` and each trained model's name."""
    store = registry.store
    runs = store.client().search_runs([store.experiment_id()], max_results=1000)
    return {
        run.data.tags.get(MODEL_TAG, run.data.tags[KIND_TAG]): run
        for run in runs
        if run.data.tags.get(RUN_ID_TAG) == dag_run_id
    }


def _assert_tracked(registry: Registry, run, epochs: int) -> None:
    """The DAG run is one MLflow run with Params, input tags and every model's test RMSE;
    each training try a child run with its epochs (or rounds) and its model files."""
    runs = _mlflow_runs(registry, run.run_id)
    parent = runs["dag_run"]
    assert parent.info.run_name == run.run_id
    assert parent.data.tags["airflow.dag_id"] == "energy_forecast"
    assert len(parent.data.tags["data.input_sha256"]) == 64
    assert parent.data.tags["data.cutoff"] and parent.data.tags["gate.decision"]
    assert {f"test_rmse.{model}" for model in MODELS} <= set(parent.data.metrics)
    assert "source" in parent.data.params
    client = registry.store.client()
    for model, step_metric in (("lstm", "val_rmse_kwh"), ("xgboost", "val_rmse_kwh")):
        child = runs[model]
        assert child.data.tags[PARENT_TAG] == parent.info.run_id
        assert child.data.tags["airflow.try_number"] == "1"
        history = client.get_metric_history(child.info.run_id, step_metric)
        assert len(history) >= (2 if model == "xgboost" else epochs), model
        assert {"test_rmse", "val_rmse"} <= set(child.data.metrics), model
        files = {f.path for f in client.list_artifacts(child.info.run_id, "model")}
        assert "model/MLmodel" in files, files
    artifacts = {f.path for f in client.list_artifacts(parent.info.run_id)}
    assert {"report", "pipeline_model"} <= artifacts


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
    backtest = backtest_rows(_registry(postgres_airflow).store)
    assert [row["cutoff"] for row in backtest] == dates
    assert not any(row["promoted"] for row in backtest)  # synthetic data never promotes
    assert _registry(postgres_airflow).current() is None
    assert postgres_airflow.asset_events() == postgres_airflow.asset_events("forecast") == 0
    assert states["forecast"] == "skipped"  # no champion to forecast with
    assert "Backtest" in (runs[-1].run_dir / "report" / "report.html").read_text()


def test_on_the_real_file_the_gate_promotes_keeps_forces_and_skips(
    sqlite_airflow, real_csv, tmp_path, capsys
):
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
    assert registry.current().name == "1"
    assert sqlite_airflow.asset_events() == 1
    lstm_history = json.loads((first.run_dir / "lstm" / "history.json").read_text())
    _assert_tracked(registry, first, epochs=len(lstm_history))
    forecasts = pd.read_parquet(registry.current().path / "forecasts.parquet")
    assert len(forecasts) == validated["household_id"].nunique() == 12_857
    assert forecasts["household_id"].is_unique and set(forecasts["status"]) == {"forecast"}
    assert np.isfinite(forecasts["predicted_kwh"]).all()
    for level in ("80", "95"):
        lower, upper = forecasts[f"lower_{level}_kwh"], forecasts[f"upper_{level}_kwh"]
        assert ((lower <= forecasts["predicted_kwh"]) & (forecasts["predicted_kwh"] < upper)).all()
    with capsys.disabled():
        print("\nintervals on the real file's test day (model, level, radius, coverage, width):")
        for model, fits in metrics["intervals"].items():
            for level, fit in fits.items():
                print(
                    f"  {model} {level}%: radius {fit['radius_kwh']:.3f} kWh, coverage "
                    f"{fit['test_coverage']:.3f}, mean width {fit['test_mean_width_kwh']:.3f} kWh"
                )
    days = pd.to_datetime(forecasts["date"]).dt.strftime("%Y-%m-%d").value_counts().to_dict()
    assert days == {"2025-04-08": 12_856, "2025-04-09": 1}

    weak = sqlite_airflow.dags_test({**local, "epochs": 1, "xgb_n_estimators": 2})
    assert weak.state == "success", weak.log[-5000:]
    assert sqlite_airflow.task_states(weak.run_id)["publish"] == "skipped"
    assert "keeping the champion" in weak.log
    assert registry.current().name == "1"
    assert sqlite_airflow.asset_events() == 1
    # The kept champion still forecasts this run's data, with its own pipeline: the same
    # forecasts it published from the same data.
    assert sqlite_airflow.task_states(weak.run_id)["forecast"] == "success"
    assert sqlite_airflow.asset_events("forecast") == 2
    forecasts_folder = sqlite_airflow.artifacts / "energy_forecast" / "forecasts"
    daily = pd.read_parquet(forecasts_folder / "date=2025-04-08" / "forecasts.parquet")
    published = forecasts[pd.to_datetime(forecasts["date"]) == pd.Timestamp("2025-04-08")]
    assert daily["household_id"].tolist() == published["household_id"].tolist()
    assert np.allclose(daily["predicted_kwh"], published["predicted_kwh"], atol=1e-3)
    assert np.allclose(daily["upper_95_kwh"], published["upper_95_kwh"], atol=1e-3)

    forced = {**local, **FAST_TRAINING}
    force = sqlite_airflow.dags_test({**forced, "promote": "force", "promote_reason": "e2e"})
    assert force.state == "success", force.log[-5000:]
    assert registry.current().name == "2"
    assert registry.current().metadata["gate"]["reason"] == "promote=force: e2e"
    assert registry.current().tags[RUN_ID_TAG] == force.run_id
    assert sqlite_airflow.asset_events() == 2

    again = sqlite_airflow.dags_test(forced)
    assert again.state == "success", again.log[-5000:]
    assert "skipping training and publishing" in again.log
    states = sqlite_airflow.task_states(again.run_id)
    assert states["train"] == states["publish"] == states["forecast"] == "skipped"
    assert sqlite_airflow.asset_events("forecast") == 3  # first, weak and forced runs

    reader.done.set()
    reader.join()
    assert reader.problems == [] and reader.reads > 0
    assert [v.name for v in registry.versions()] == ["1", "2"]
    alias = registry.store.client().get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS)
    assert str(alias.version) == "2"
    decisions = [row["promoted"] for row in backtest_rows(registry.store)]
    assert decisions.count(True) == 2 and len(decisions) == 3  # the skipped run never gated
    history = sqlite_airflow.python("-m", "energy_forecast.champion.registry")
    assert history.returncode == 0, history.stderr[-3000:]
    assert force.run_id in history.stdout and first.run_id in history.stdout
    with capsys.disabled():
        print(f"\nregistry history after the e2e sequence:\n{history.stdout}")

    screenshots = Path(os.environ.get("ENERGY_FORECAST_SCREENSHOTS") or tmp_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    with (
        local_mlflow_ui(registry.store, tmp_path / "mlflow-server.log") as url,
        chromium_page() as page,
    ):
        check_run_and_champion(page, url, force.run_id, "2", screenshots)


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


def _real_households(real_csv: Path, target: Path, households: int, shift: dict) -> Path:
    """The first ``households`` of the real file, with ``shift`` kWh added to the energy of
    the days it names (month-first dates, as the file writes them)."""
    rows = pd.read_csv(real_csv, dtype=str)
    rows = rows[rows["Household_ID"].isin(rows["Household_ID"].unique()[:households])]
    energy = rows["Energy_Consumption_kWh"].astype(float)
    for day, kwh in shift.items():
        energy = energy.where(rows["Date"] != day, energy + kwh)
    rows["Energy_Consumption_kWh"] = energy.round(1).astype(str)
    target.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(target, index=False)
    return target


def test_a_champion_whose_forecasts_miss_is_degraded_and_replaced_without_the_margin(
    tmp_path_factory, real_csv
):
    """Version 1 forecasts 4/6. The actuals that arrive for 4/6 are 4 kWh higher than every
    household's usual (a shifted feed), so the next run measures its published forecasts
    far worse than promised: it alerts, emits ``energy_forecast_degraded``, and a challenger
    that beats persistence replaces the champion though the margin (5 kWh) is out of reach.
    """
    local = LocalAirflow(tmp_path_factory.mktemp("airflow-degraded"))
    data = local.root / "data"
    local.env["ENERGY_FORECAST_DATA_ROOTS"] = str(data)
    local.migrate()
    registry = _registry(local)
    conf = {**FAST_TRAINING, "source": "local", "promotion_margin_kwh": 5.0}
    as_recorded = _real_households(real_csv, data / "as_recorded.csv", 2_000, {})
    shifted = _real_households(real_csv, data / "shifted.csv", 2_000, {"4/6/2025": 4.0})

    first = local.dags_test({**conf, "local_csv_path": str(as_recorded)}, "2025-04-06")
    assert first.state == "success", first.log[-5000:]
    assert registry.current().name == "1"
    forecasts = local.artifacts / "energy_forecast" / "forecasts"
    assert len(pd.read_parquet(forecasts / "date=2025-04-06" / "forecasts.parquet")) == 2_000
    assert local.asset_events("alert_degraded") == 0

    second = local.dags_test({**conf, "local_csv_path": str(shifted)}, "2025-04-07")

    assert second.state == "success", second.log[-5000:]
    realized = pd.read_csv(second.run_dir / "report" / "realized_accuracy.csv", dtype=str)
    assert realized[["date", "champion_version", "n"]].values.tolist() == [
        ["2025-04-06", "1", "2000"]
    ]
    degradation = json.loads((second.run_dir / "report" / "degradation.json").read_text())
    promise = registry.versions()[0].metadata["served_test_rmse"]
    assert degradation["degraded"] is True
    assert degradation["realized_rmse_kwh"] > 2 * promise
    assert "ALERT" in second.log
    assert local.asset_events("alert_degraded") == 1
    decision = json.loads((second.run_dir / "decision.json").read_text())["gate"]
    assert decision["promote"] is True and "degraded" in decision["reason"]
    assert registry.current().name == "2"
    report = (second.run_dir / "report" / "report.html").read_text()
    assert "Realized accuracy" in report and "Input drift" in report
