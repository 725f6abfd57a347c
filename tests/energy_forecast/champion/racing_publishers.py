"""Publishers and gate writers run as separate processes by the races in ``test_registry``
and ``test_backtest``.

A module of its own so that ``multiprocessing`` (spawn) can import these functions.
"""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from energy_forecast.champion.backtest import gate_record
from energy_forecast.champion.decision import Evidence, PromotionDecision
from energy_forecast.champion.facts import RunFacts
from energy_forecast.champion.gate import Challenger, GatePolicy, decide
from energy_forecast.champion.registry import ChampionMovedError, Registry
from energy_forecast.tracking.runs import DagRunTracker
from energy_forecast.tracking.store import TrackingStore


def local_store(root: Path, lock_url: str | None = None) -> TrackingStore:
    return TrackingStore.local(root, lock_url)


def publish(
    root: str, lock_url: str | None, run_id: str, data_last_date: str, replaces: str | None,
    inside_build: Barrier, results: Queue,
) -> None:  # fmt: skip
    """Register a version gated against ``replaces``; every racer waits inside its build."""
    store = local_store(Path(root), lock_url)
    mlflow_run = DagRunTracker(store, run_id).parent_run_id()

    def build(folder: Path) -> dict:
        (folder / "forecasts.parquet").write_text(run_id)
        inside_build.wait(timeout=60)  # both builds are under way before either registers
        return {"model": "lstm", "run_id": run_id, "data_last_date": data_last_date}

    try:
        version = Registry(store).register(build, mlflow_run_id=mlflow_run, replaces=replaces)
        results.put((run_id, f"version {version.name}"))
    except ChampionMovedError as error:
        results.put((run_id, f"refused: {error}"))


def facts(run_id: str, data_last_date: str) -> RunFacts:
    return RunFacts(run_id, "kaggle", "ab" * 32, None, data_last_date, {"epochs": 2})


def decision(test_rmse: float) -> PromotionDecision:
    gate = decide(Challenger("lstm", test_rmse, 0.9, "kaggle", "2025-04-08"), None, GatePolicy())
    return PromotionDecision(gate, Evidence(0.45, test_rmse, "household_mean", 0.5))


def record_gate(root: str, run_id: str, start: Barrier) -> None:
    """Log one DAG run's gate decision on its own MLflow run, all writers at once."""
    tracker = DagRunTracker(local_store(Path(root)), run_id)
    start.wait(timeout=120)
    tags, metrics = gate_record(facts(run_id, "2025-04-08"), decision(0.4))
    tracker.log(tracker.parent_run_id(), tags=tags, metrics=metrics)
