"""The evidence the promotion gate needs, gathered at report time, and its report sections.

For the run's challenger (the trained model with the lowest validation RMSE) it measures, on
the run's test rows:

- the test RMSE *as served*: the target day's temperature replaced by what the forecasts use
  (the temperature table, else the household's mean), beside the RMSE with actual
  temperatures (see :mod:`energy_forecast.serving.served`; no Spark);
- the current champion re-scored with its own PipelineModel on the same rows (Spark, and
  only when there is a champion).

Then it applies :func:`energy_forecast.champion.gate.decide` and returns a
:class:`~energy_forecast.champion.decision.PromotionDecision`. The report sections (the
decision with its numbers, served vs actual, the registry's history and the backtest, a query
over the MLflow runs: :mod:`.backtest`) are built from that decision by a separate call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from energy_forecast import columns as C
from energy_forecast.champion.backtest import backtest_rows
from energy_forecast.champion.decision import Evidence, PromotionDecision
from energy_forecast.champion.facts import RunFacts
from energy_forecast.champion.gate import Challenger, GatePolicy, Incumbent, decide
from energy_forecast.champion.registry import HISTORY_TITLES, Registry, history_rows
from energy_forecast.monitoring.degradation import Degradation
from energy_forecast.report.render import ReportSection
from energy_forecast.serving.scoring import SavedModel, rmse_kwh, score
from energy_forecast.settings import PublishSettings

if TYPE_CHECKING:
    from energy_forecast.features.manifest import FeaturesManifest

log = logging.getLogger(__name__)


def unchanged_reason(facts: RunFacts, registry: Registry, settings: PublishSettings) -> str | None:
    """Why this run can skip training and publishing, or None when it must run."""
    current = registry.current()
    if settings.promote == "force" or current is None:
        return None
    if current.metadata.get("fingerprint") == facts.fingerprint():
        return (
            f"input sha256 {facts.input_sha256[:12]}..., data up to {facts.data_last_date} and "
            "Params are "
            f"those of the current champion, version {current.name} "
            f"(run {current.metadata['run_id']}); "
            "nothing would change. Trigger with promote=force to run anyway"
        )
    return None


def evaluate_and_decide(
    facts: RunFacts,
    challenger_name: str,
    rmse: Mapping[str, float],
    model_dirs: Mapping[str, Path],
    manifest: FeaturesManifest,
    validated: Path,
    registry: Registry,
    settings: PublishSettings,
    spark: Callable[[], Any],
    temperatures: pd.DataFrame | None = None,
    degradation: Degradation | None = None,
) -> PromotionDecision:
    """Score as served, re-score the incumbent, decide. ``rmse`` holds the challenger's val
    and test RMSE and persistence's test RMSE, from the report, in kWh. ``spark`` starts a
    session; it is called only when there is an incumbent to re-score. ``degradation`` is
    the monitoring's verdict on the current champion, if any."""
    from energy_forecast.serving.served import served_test_rmse  # imports torch: not at parse

    served_rmse = served_test_rmse(
        challenger_name, model_dirs[challenger_name], manifest, validated, temperatures
    )
    current = registry.current()
    incumbent = None
    if current is not None:
        current = registry.verified(current)  # its files as published, before loading them
        saved = SavedModel(current.model, current.path / "model", current.path / "pipeline_model")
        incumbent = Incumbent(
            current.name,
            current.model,
            _rescore(spark(), saved, validated, manifest.split_dates["test"]),
            str(current.metadata.get("data_last_date", "")),
            *_degraded(degradation, current.name),
        )
    challenger = Challenger(
        challenger_name,
        rmse["test"],
        rmse["persistence_test"],
        facts.source,
        facts.data_last_date,
    )
    gate = decide(challenger, incumbent, GatePolicy.from_settings(settings))
    log.info("promotion gate: %s (%s)", "PROMOTE" if gate.promote else "KEEP", gate.reason)
    return PromotionDecision(
        gate,
        Evidence(
            served_test_rmse=served_rmse,
            actual_temperature_test_rmse=rmse["test"],
            temperature_source="forecast_table" if temperatures is not None else "household_mean",
            val_rmse=rmse["val"],
        ),
    )


def _degraded(degradation: Degradation | None, version: str) -> tuple[bool, str]:
    if degradation is None or degradation.champion_version != version:
        return False, ""
    return degradation.degraded, degradation.reason


def _rescore(spark: Any, model: SavedModel, validated: Path, test_dates: list[str]) -> float:
    """``model``'s test RMSE in kWh on this run's test rows, its features built by its own
    PipelineModel (it may have been fitted on other days, with another sequence length)."""
    from pyspark.sql import functions as F

    history = spark.read.parquet(str(validated))
    test_rows = history.filter(F.col(C.DATE).cast("string").isin(test_dates)).localCheckpoint(
        eager=True
    )
    actual = test_rows.select(C.HOUSEHOLD, C.DATE, C.ENERGY).toPandas()
    return rmse_kwh(score(model, history, test_rows), actual)


def report_sections(promotion: PromotionDecision, registry: Registry) -> list[ReportSection]:
    """The decision, served vs actual, the registry's history and the backtest table."""
    decision, evidence = promotion.gate, promotion.evidence
    incumbent = decision.incumbent
    gate_rows = [
        [f"challenger ({decision.challenger.model})", _kwh(decision.challenger.test_rmse)],
        ["persistence", _kwh(decision.challenger.persistence_test_rmse)],
    ]
    if incumbent:
        gate_rows.append(
            [
                f"incumbent version {incumbent.version} ({incumbent.model})",
                _kwh(incumbent.test_rmse),
            ]
        )
    served = [
        ["actual temperatures", _kwh(evidence.actual_temperature_test_rmse)],
        [f"as served ({evidence.temperature_source})", _kwh(evidence.served_test_rmse)],
    ]
    backtest = [
        [
            str(row.get("cutoff") or "everything"),
            str(row.get("data_last_date")),
            row["run_id"],
            row["model"],
            _kwh(row["val_rmse"]),
            _kwh(row["test_rmse"]),
            _kwh(row.get("served_test_rmse")),
            _share(row.get("coverage_80")),
            _share(row.get("coverage_95")),
            "yes" if row["promoted"] else "no",
        ]
        for row in backtest_rows(registry.store)
    ]
    verdict = "promote" if decision.promote else "keep the champion"
    return [
        ReportSection(
            "Promotion decision",
            [f"Decision: {verdict}. {decision.reason}.", f"Policy: {decision.policy}."],
            ["model, on this run's test rows", "test RMSE kWh"],
            gate_rows,
        ),
        ReportSection(
            "Served configuration (test RMSE)",
            [
                "Forecasts cannot know the day's actual temperature. The served figure "
                "replaces it with what the forecasts use; it is the accuracy consumers get."
            ],
            ["temperature of the target day", "test RMSE kWh"],
            served,
        ),
        ReportSection(
            "Registry history (MLflow model versions, newest first; * alias champion)",
            [] if (history := history_rows(registry)) else ["No champion registered yet."],
            HISTORY_TITLES,
            history,
        ),
        ReportSection(
            "Backtest (one row per run)",
            [],
            [
                "cut-off",
                "data to",
                "run id",
                "model",
                "val RMSE",
                "test RMSE",
                "served",
                "80% covered",
                "95% covered",
                "promoted",
            ],
            backtest,
            label_columns=4,
        ),
    ]


def _kwh(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "n/a"


def _share(value: Any) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, int | float) else "n/a"
