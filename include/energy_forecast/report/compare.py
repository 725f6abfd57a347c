"""Choosing the challenger on validation RMSE and measuring margins on the test split.

Only trained models can be challenger: the naive baselines are yardsticks, not something to
publish. The choice looks at the validation split alone, so the test split stays an honest
estimate of how the challenger will do; the test figures are reported, never used to choose.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from energy_forecast.report.naive import PERSISTENCE

#: model -> split -> metric name -> value, as :func:`energy_forecast.metrics.metrics_by_split`.
ModelMetrics = Mapping[str, Mapping[str, Mapping[str, float | int]]]

SELECTION_SPLIT = "val"
REPORT_SPLIT = "test"
SELECTION_METRIC = "rmse"


@dataclass(frozen=True)
class Comparison:
    """Every model's metrics, the challenger, the runner-up and how far apart they are."""

    metrics: ModelMetrics
    trained: tuple[str, ...]
    challenger: str
    runner_up: str | None

    def rmse(self, model: str, split: str) -> float:
        """RMSE of ``model`` on ``split`` in kWh, NaN when the split has no rows."""
        return _rmse(self.metrics, model, split)

    def margin(self, split: str = REPORT_SPLIT) -> tuple[float, float]:
        """Runner-up RMSE minus challenger RMSE on ``split``: (kWh, percent of the runner-up's).

        Positive means the challenger is better there. NaN when there is no runner-up.
        """
        if self.runner_up is None:
            return math.nan, math.nan
        return _improvement(self.rmse(self.challenger, split), self.rmse(self.runner_up, split))

    def improvement_over(self, model: str, baseline: str = PERSISTENCE) -> tuple[float, float]:
        """How much lower ``model``'s test RMSE is than ``baseline``'s: (kWh, percent)."""
        return _improvement(self.rmse(model, REPORT_SPLIT), self.rmse(baseline, REPORT_SPLIT))

    def as_dict(self) -> dict[str, Any]:
        """The machine-readable summary written into ``metrics.json``."""
        val_kwh, val_pct = self.margin(SELECTION_SPLIT)
        test_kwh, test_pct = self.margin(REPORT_SPLIT)
        return {
            "selection": {"split": SELECTION_SPLIT, "metric": SELECTION_METRIC},
            "challenger": self._summary(self.challenger),
            "runner_up": None if self.runner_up is None else self._summary(self.runner_up),
            "margin": {
                "val_rmse_kwh": val_kwh,
                "val_rmse_percent": val_pct,
                "test_rmse_kwh": test_kwh,
                "test_rmse_percent": test_pct,
            },
            "improvement_over_persistence_test": {
                model: dict(
                    zip(("rmse_kwh", "rmse_percent"), self.improvement_over(model), strict=True)
                )
                for model in self.metrics
                if model != PERSISTENCE
            },
        }

    def _summary(self, model: str) -> dict[str, Any]:
        return {
            "model": model,
            "val_rmse_kwh": self.rmse(model, SELECTION_SPLIT),
            "test_rmse_kwh": self.rmse(model, REPORT_SPLIT),
        }


def choose_challenger(metrics: ModelMetrics, candidates: Sequence[str]) -> tuple[str, str | None]:
    """The candidates with the lowest and second-lowest validation RMSE.

    Ties go to the candidate listed first. Candidates without validation rows cannot win.
    """
    ranked = sorted(
        (rmse, position, name)
        for position, name in enumerate(candidates)
        if not math.isnan(rmse := _rmse(metrics, name, SELECTION_SPLIT))
    )
    if not ranked:
        raise ValueError(f"none of {list(candidates)} has a validation RMSE to choose on")
    challenger = ranked[0][2]
    runner_up = ranked[1][2] if len(ranked) > 1 else None
    return challenger, runner_up


def compare_models(metrics: ModelMetrics, trained: Sequence[str]) -> Comparison:
    """Rank the ``trained`` models on validation RMSE; the other models are references."""
    unknown = [name for name in trained if name not in metrics]
    if unknown:
        raise ValueError(f"no metrics for trained models {unknown}")
    challenger, runner_up = choose_challenger(metrics, trained)
    return Comparison(
        metrics=metrics, trained=tuple(trained), challenger=challenger, runner_up=runner_up
    )


def _rmse(metrics: ModelMetrics, model: str, split: str) -> float:
    return float(metrics.get(model, {}).get(split, {}).get(SELECTION_METRIC, math.nan))


def _improvement(model_rmse: float, baseline_rmse: float) -> tuple[float, float]:
    difference = baseline_rmse - model_rmse
    percent = difference / baseline_rmse * 100 if baseline_rmse > 0 else math.nan
    return difference, percent
