"""The walk-forward backtest is a query over the DAG runs' MLflow runs: one row per run that
reached the gate, whatever order or concurrency they ran in."""

from __future__ import annotations

import multiprocessing

from energy_forecast.champion.backtest import backtest_rows, gate_record
from energy_forecast.tracking.runs import DagRunTracker
from energy_forecast.tracking.store import TrackingStore
from tests.energy_forecast.champion import racing_publishers
from tests.energy_forecast.champion.racing_publishers import decision, facts

#: Writers are forked from a server that has imported MLflow once, not spawned (20 imports
#: of MLflow on two cores take over a minute); each is still a process of its own.
_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(
    ["mlflow.store.tracking.sqlalchemy_store", racing_publishers.__name__]
)


def _record(store: TrackingStore, run_id: str, data_last_date: str, test_rmse: float) -> None:
    tracker = DagRunTracker(store, run_id)
    tags, metrics = gate_record(facts(run_id, data_last_date), decision(test_rmse))
    tracker.log(tracker.parent_run_id(), tags=tags, metrics=metrics)


def test_a_row_is_the_gates_numbers_as_logged_on_the_run(tracking_store: TrackingStore) -> None:
    _record(tracking_store, "run-1", "2025-04-08", 0.4)

    assert backtest_rows(tracking_store) == [
        {
            "run_id": "run-1",
            "cutoff": None,
            "data_last_date": "2025-04-08",
            "model": "lstm",
            "val_rmse": 0.5,
            "test_rmse": 0.4,
            "served_test_rmse": 0.45,
            "coverage_80": None,
            "coverage_95": None,
            "promoted": True,
        }
    ]


def test_a_row_gives_the_challengers_interval_coverage_on_the_test_days(
    tracking_store: TrackingStore,
) -> None:
    tracker = DagRunTracker(tracking_store, "run-1")
    intervals = {"80": {"test_coverage": 0.81}, "95": {"test_coverage": 0.96}}
    tags, metrics = gate_record(facts("run-1", "2025-04-08"), decision(0.4), intervals)
    tracker.log(tracker.parent_run_id(), tags=tags, metrics=metrics)

    (row,) = backtest_rows(tracking_store)

    assert (row["coverage_80"], row["coverage_95"]) == (0.81, 0.96)


def test_rows_are_ordered_by_the_datas_last_date_and_runs_without_a_gate_are_left_out(
    tracking_store: TrackingStore,
) -> None:
    _record(tracking_store, "day-8", "2025-04-08", 0.4)
    _record(tracking_store, "day-5", "2025-04-05", 0.5)
    DagRunTracker(tracking_store, "skipped").parent_run_id()  # logged, never gated

    assert [row["run_id"] for row in backtest_rows(tracking_store)] == ["day-5", "day-8"]


def test_a_retried_report_leaves_one_row(tracking_store: TrackingStore) -> None:
    _record(tracking_store, "run-1", "2025-04-08", 0.4)
    _record(tracking_store, "run-1", "2025-04-08", 0.4)

    assert len(backtest_rows(tracking_store)) == 1


def test_twenty_concurrent_writers_lose_no_row(tracking_store: TrackingStore) -> None:
    start = _FORKSERVER.Barrier(20)
    root = tracking_store.folder.parents[1]
    writers = [
        _FORKSERVER.Process(
            target=racing_publishers.record_gate, args=(str(root), f"run-{n}", start)
        )
        for n in range(20)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=240)

    assert [writer.exitcode for writer in writers] == [0] * 20
    rows = backtest_rows(tracking_store)
    assert sorted(row["run_id"] for row in rows) == sorted(f"run-{n}" for n in range(20))
