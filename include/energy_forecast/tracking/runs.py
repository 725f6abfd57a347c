"""One MLflow run per DAG run, one child run per training try.

The parent run is named after the Airflow run id and found again by its tags, so every task
of the DAG run, on any worker and in any try, logs into the same one; it is created under
the store's lock, so two tasks starting at once cannot make two. Each try of a training task
is a child run of its own (``lstm``, ``lstm try 2``): a retry's epochs never mix with those
of the try that died.

Every task marks the runs it wrote to finished when it is done; a later task may still log
to them (MLflow allows it), and the run's end time is the last task's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from energy_forecast.paths import DAG_ID
from energy_forecast.tracking.store import TrackingStore

DAG_ID_TAG = "airflow.dag_id"
RUN_ID_TAG = "airflow.run_id"
TRY_TAG = "airflow.try_number"
KIND_TAG = "energy_forecast.kind"
MODEL_TAG = "energy_forecast.model"
PARENT_TAG = "mlflow.parentRunId"
DAG_RUN = "dag_run"
TRAINING = "training"
#: MLflow's limits per value and per batch.
_PARAM_CHARS = 6000
_BATCH = 100


@dataclass(frozen=True)
class DagRunTracker:
    """The MLflow runs of one Airflow DAG run."""

    store: TrackingStore
    dag_run_id: str

    @classmethod
    def for_run(cls, dag_run_id: str) -> DagRunTracker:
        return cls(TrackingStore.from_environment(), dag_run_id)

    # --- finding or making runs -----------------------------------------------------------
    def parent_run_id(self) -> str:
        """The DAG run's MLflow run id, created on first use."""
        if found := self._find({KIND_TAG: DAG_RUN}):
            return found
        with self.store.lock():
            if found := self._find({KIND_TAG: DAG_RUN}):
                return found
            run = self.store.client().create_run(
                self.store.experiment_id(),
                run_name=self.dag_run_id,
                tags={DAG_ID_TAG: DAG_ID, RUN_ID_TAG: self.dag_run_id, KIND_TAG: DAG_RUN},
            )
            return run.info.run_id

    def existing_parent_run_id(self) -> str | None:
        """The DAG run's MLflow run id, if a task of it has logged anything."""
        return self._find({KIND_TAG: DAG_RUN})

    def child_run_id(self, model: str, try_number: int) -> str:
        """The child run of this try of ``model``'s training, created on first use."""
        tags = {KIND_TAG: TRAINING, MODEL_TAG: model, TRY_TAG: str(try_number)}
        if found := self._find(tags):
            return found
        parent = self.parent_run_id()
        with self.store.lock():
            if found := self._find(tags):
                return found
            name = model if try_number <= 1 else f"{model} try {try_number}"
            run = self.store.client().create_run(
                self.store.experiment_id(),
                run_name=name,
                tags={DAG_ID_TAG: DAG_ID, RUN_ID_TAG: self.dag_run_id, PARENT_TAG: parent, **tags},
            )
            return run.info.run_id

    def _find(self, tags: Mapping[str, str]) -> str | None:
        wanted = {RUN_ID_TAG: self.dag_run_id, **tags}
        runs = self.store.client().search_runs(
            [self.store.experiment_id()], filter_string=_tag_filter(wanted), max_results=1000
        )
        matching = [r for r in runs if all(r.data.tags.get(k) == v for k, v in wanted.items())]
        return min(matching, key=lambda r: r.info.start_time).info.run_id if matching else None

    # --- logging --------------------------------------------------------------------------
    def log(
        self,
        mlflow_run_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float | None] | None = None,
        tags: Mapping[str, Any] | None = None,
        step: int = 0,
    ) -> None:
        """Params (as text), finite metrics and tags, in MLflow's batch sizes."""
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        batches = [
            ("params", [Param(k, _text(v)) for k, v in sorted((params or {}).items())]),
            (
                "metrics",
                [
                    Metric(k, float(v), now, step)
                    for k, v in sorted((metrics or {}).items())
                    if isinstance(v, int | float)
                ],
            ),
            ("tags", [RunTag(k, _text(v)) for k, v in sorted((tags or {}).items())]),
        ]
        client = self.store.client()
        for kind, entries in batches:
            for start in range(0, len(entries), _BATCH):
                client.log_batch(mlflow_run_id, **{kind: entries[start : start + _BATCH]})

    def log_history(
        self, mlflow_run_id: str, rows: Iterable[Mapping[str, Any]], step_key: str
    ) -> None:
        """Per-epoch (or per-round) rows as metrics, their ``step_key`` as MLflow's step."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [
            Metric(key, float(value), now, int(row[step_key]))
            for row in rows
            for key, value in row.items()
            if key != step_key and isinstance(value, int | float)
        ]
        client = self.store.client()
        for start in range(0, len(metrics), 1000):
            client.log_batch(mlflow_run_id, metrics=metrics[start : start + 1000])

    def log_artifacts(self, mlflow_run_id: str, folder: Path, artifact_path: str) -> None:
        self.store.client().log_artifacts(mlflow_run_id, str(folder), artifact_path)

    def finish(self, mlflow_run_id: str, failed: bool = False) -> None:
        self.store.client().set_terminated(mlflow_run_id, "FAILED" if failed else "FINISHED")


def flat_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings flattened to dotted keys, as MLflow's Params are flat."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            flat.update(flat_params(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:_PARAM_CHARS]


def _tag_filter(tags: Mapping[str, str]) -> str:
    """A search filter on ``tags``; values MLflow's filter syntax cannot quote are left to the
    exact match done after the search."""
    clauses = [
        f"tags.`{key}` = '{value}'"
        for key, value in tags.items()
        if "'" not in value and "\\" not in value
    ]
    return " and ".join(clauses)
