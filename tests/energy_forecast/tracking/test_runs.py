"""Each DAG run is one MLflow run, found again by every task; each training try a child."""

from __future__ import annotations

import threading

from energy_forecast.tracking.runs import (
    DAG_ID_TAG,
    KIND_TAG,
    PARENT_TAG,
    RUN_ID_TAG,
    TRY_TAG,
    DagRunTracker,
    flat_params,
)
from energy_forecast.tracking.store import TrackingStore

RUN_ID = "manual__2025-04-08T00:00:00+00:00"


def test_every_task_of_a_dag_run_finds_the_same_mlflow_run(tracking_store: TrackingStore) -> None:
    first = DagRunTracker(tracking_store, RUN_ID).parent_run_id()
    again = DagRunTracker(tracking_store, RUN_ID).parent_run_id()

    run = tracking_store.client().get_run(first)
    assert again == first
    assert run.info.run_name == RUN_ID
    assert run.data.tags[DAG_ID_TAG] == "energy_forecast" and run.data.tags[RUN_ID_TAG] == RUN_ID


def test_tasks_starting_at_once_make_one_mlflow_run(tracking_store: TrackingStore) -> None:
    found: list[str] = []
    start = threading.Barrier(6)

    def task() -> None:
        start.wait(timeout=30)
        found.append(DagRunTracker(tracking_store, RUN_ID).parent_run_id())

    threads = [threading.Thread(target=task) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(found) == 6 and len(set(found)) == 1
    assert len(tracking_store.client().search_runs([tracking_store.experiment_id()])) == 1


def test_each_training_try_is_a_child_run_of_its_own(tracking_store: TrackingStore) -> None:
    tracker = DagRunTracker(tracking_store, RUN_ID)

    first_try = tracker.child_run_id("lstm", 1)
    retry = tracker.child_run_id("lstm", 2)

    client = tracking_store.client()
    assert tracker.child_run_id("lstm", 1) == first_try != retry
    runs = {r: client.get_run(r) for r in (first_try, retry)}
    assert {run.info.run_name for run in runs.values()} == {"lstm", "lstm try 2"}
    for run in runs.values():
        assert run.data.tags[PARENT_TAG] == tracker.parent_run_id()
        assert run.data.tags[RUN_ID_TAG] == RUN_ID and run.data.tags[KIND_TAG] == "training"
    assert runs[retry].data.tags[TRY_TAG] == "2"


def test_history_rows_become_metrics_stepped_by_epoch(tracking_store: TrackingStore) -> None:
    tracker = DagRunTracker(tracking_store, RUN_ID)
    child = tracker.child_run_id("lstm", 1)
    epochs = [{"epoch": n, "train_rmse_kwh": 1.0 / n, "val_rmse_kwh": 2.0 / n} for n in (1, 2, 3)]

    tracker.log_history(child, epochs, "epoch")

    history = tracking_store.client().get_metric_history(child, "val_rmse_kwh")
    assert [(m.step, m.value) for m in history] == [(1, 2.0), (2, 1.0), (3, 2.0 / 3)]


def test_params_are_flattened_and_non_numbers_are_not_metrics(
    tracking_store: TrackingStore,
) -> None:
    tracker = DagRunTracker(tracking_store, RUN_ID)
    parent = tracker.parent_run_id()

    tracker.log(
        parent,
        params=flat_params({"epochs": 4, "spark": {"cores": 2}, "local_csv_path": None}),
        metrics={"test_rmse.lstm": 0.4, "incumbent": None},
        tags={"data.cutoff": "2025-04-08"},
    )

    data = tracking_store.client().get_run(parent).data
    assert data.params == {"epochs": "4", "spark.cores": "2", "local_csv_path": "null"}
    assert data.metrics == {"test_rmse.lstm": 0.4}
    assert data.tags["data.cutoff"] == "2025-04-08"


def test_a_run_id_with_a_quote_is_still_found_exactly(tracking_store: TrackingStore) -> None:
    odd = "manual__it's"
    plain = DagRunTracker(tracking_store, "manual__its").parent_run_id()

    found = DagRunTracker(tracking_store, odd).parent_run_id()

    assert found != plain
    assert DagRunTracker(tracking_store, odd).parent_run_id() == found
