"""The walk-forward backtest: a query over the DAG runs' MLflow runs, not a file.

The report logs each run's gate decision and the challenger's figures on the run's own MLflow
run (:func:`gate_record`); a backfill over past days therefore leaves one row per day, and
concurrent runs cannot lose each other's rows (each writes only its own run).
:func:`backtest_rows` reads them back, ordered by the data's last date.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from energy_forecast.tracking.runs import DAG_RUN, KIND_TAG, RUN_ID_TAG

if TYPE_CHECKING:
    from energy_forecast.champion.decision import PromotionDecision
    from energy_forecast.champion.facts import RunFacts
    from energy_forecast.tracking.store import TrackingStore

DECISION_TAG = "gate.decision"
REASON_TAG = "gate.reason"
CHALLENGER_TAG = "gate.challenger"
INCUMBENT_TAG = "gate.incumbent_version"
CUTOFF_TAG = "data.cutoff"
LAST_DATE_TAG = "data.last_date"
INPUT_TAG = "data.input_sha256"
SOURCE_TAG = "data.source"
VAL_METRIC = "challenger.val_rmse_kwh"
TEST_METRIC = "challenger.test_rmse_kwh"
SERVED_METRIC = "challenger.served_test_rmse_kwh"
INCUMBENT_METRIC = "gate.incumbent_test_rmse_kwh"
PERSISTENCE_METRIC = "gate.persistence_test_rmse_kwh"
#: The challenger's interval coverage on the test days, per level name ("80", "95").
COVERAGE_METRIC = "challenger.test_coverage_{level}"


def data_tags(facts: RunFacts) -> dict[str, str]:
    """What a DAG run's MLflow run records about its input."""
    return {
        INPUT_TAG: facts.input_sha256,
        CUTOFF_TAG: facts.cutoff or "none",
        LAST_DATE_TAG: facts.data_last_date,
        SOURCE_TAG: facts.source,
    }


def gate_record(
    facts: RunFacts,
    decision: PromotionDecision,
    intervals: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[dict[str, str], dict[str, float | None]]:
    """The tags and metrics the report logs on the DAG run's MLflow run; ``intervals`` are
    the challenger's (level name -> its calibration, with ``test_coverage``)."""
    gate = decision.gate
    tags = {
        **data_tags(facts),
        DECISION_TAG: "promote" if decision.promote else "keep",
        REASON_TAG: decision.reason,
        CHALLENGER_TAG: decision.model,
        INCUMBENT_TAG: decision.incumbent_version or "none",
    }
    metrics = {
        VAL_METRIC: decision.evidence.val_rmse,
        TEST_METRIC: gate.challenger.test_rmse,
        SERVED_METRIC: decision.evidence.served_test_rmse,
        PERSISTENCE_METRIC: gate.challenger.persistence_test_rmse,
        INCUMBENT_METRIC: gate.incumbent.test_rmse if gate.incumbent else None,
        **{
            COVERAGE_METRIC.format(level=level): fit.get("test_coverage")
            for level, fit in (intervals or {}).items()
        },
    }
    return tags, metrics


def backtest_rows(store: TrackingStore) -> list[dict[str, Any]]:
    """One row per DAG run that reached the gate, ordered by the data's last date."""
    client = store.client()
    runs = client.search_runs(
        [store.experiment_id()],
        filter_string=f"tags.`{KIND_TAG}` = '{DAG_RUN}'",
        max_results=50_000,
    )
    rows = [_row(run.data.tags, run.data.metrics) for run in runs if DECISION_TAG in run.data.tags]
    return sorted(rows, key=lambda r: (r["data_last_date"], r["run_id"]))


def _row(tags: Mapping[str, str], metrics: Mapping[str, float]) -> dict[str, Any]:
    cutoff = tags.get(CUTOFF_TAG)
    return {
        "run_id": tags.get(RUN_ID_TAG, "?"),
        "cutoff": None if cutoff in (None, "none") else cutoff,
        "data_last_date": tags.get(LAST_DATE_TAG, ""),
        "model": tags.get(CHALLENGER_TAG, "?"),
        "val_rmse": metrics.get(VAL_METRIC),
        "test_rmse": metrics.get(TEST_METRIC),
        "served_test_rmse": metrics.get(SERVED_METRIC),
        "coverage_80": metrics.get(COVERAGE_METRIC.format(level="80")),
        "coverage_95": metrics.get(COVERAGE_METRIC.format(level="95")),
        "promoted": tags.get(DECISION_TAG) == "promote",
    }
