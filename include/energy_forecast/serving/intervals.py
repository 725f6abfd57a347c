"""Prediction intervals by split conformal prediction, calibrated on the validation days.

For one model, the absolute errors ``|actual - predicted|`` on the ``n`` validation rows give,
at level ``1 - a``, the radius ``q``: the ``ceil((n + 1)(1 - a))``-th smallest of them.
``predicted +/- q`` then covers a new row's actual with probability at least ``1 - a`` when
the rows are exchangeable with the validation rows (Vovk et al.; Angelopoulos and Bates, "A
Gentle Introduction to Conformal Prediction", 2021). Days are not exactly exchangeable, so
the report checks the promise on the test days, and the published forecasts carry the
champion's radii. Energy is never negative, so a lower bound is clipped at 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

#: Nominal coverage of each published interval.
LEVELS: tuple[float, ...] = (0.8, 0.95)
CALIBRATION_SPLIT = "val"
CHECK_SPLIT = "test"


def level_name(level: float) -> str:
    """``0.8`` -> ``"80"``: how columns, metrics and report rows name a level."""
    return f"{round(level * 100):d}"


def conformal_radius(abs_errors: np.ndarray, level: float) -> float:
    """The split-conformal radius at ``level`` from calibration errors (infinite when
    there are too few rows to promise ``level``)."""
    errors = np.sort(np.asarray(abs_errors, dtype=float))
    rank = math.ceil((len(errors) + 1) * level)
    return float(errors[rank - 1]) if 0 < rank <= len(errors) else math.inf


def bounds(predicted: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower (never below 0 kWh) and upper bounds around ``predicted``."""
    predicted = np.asarray(predicted, dtype=float)
    return np.maximum(predicted - radius, 0.0), predicted + radius


def calibrate(predictions: pd.DataFrame, levels: tuple[float, ...] = LEVELS) -> dict[str, dict]:
    """Per level: the radius from the validation rows and, on the test rows, the share of
    actuals inside the interval and its mean width, from one model's predictions
    (``split, actual_kwh, predicted_kwh``)."""
    errors = (predictions["actual_kwh"] - predictions["predicted_kwh"]).abs()
    calibration = errors[predictions["split"] == CALIBRATION_SPLIT].to_numpy()
    test = predictions[predictions["split"] == CHECK_SPLIT]
    fitted = {}
    for level in levels:
        radius = conformal_radius(calibration, level)
        lower, upper = bounds(test["predicted_kwh"].to_numpy(), radius)
        actual = test["actual_kwh"].to_numpy()
        inside = (actual >= lower) & (actual <= upper)
        fitted[level_name(level)] = {
            "level": level,
            "radius_kwh": radius,
            "calibration_rows": len(calibration),
            "test_rows": len(test),
            "test_coverage": float(inside.mean()) if len(test) else math.nan,
            "test_mean_width_kwh": float((upper - lower).mean()) if len(test) else math.nan,
        }
    return fitted


def with_intervals(forecasts: pd.DataFrame, radii: Mapping[str, float]) -> pd.DataFrame:
    """``forecasts`` with ``lower_<level>_kwh`` and ``upper_<level>_kwh`` for each level in
    ``radii`` (level name -> radius); rows without a forecast get no bounds."""
    for name, radius in sorted(radii.items()):
        lower, upper = bounds(forecasts["predicted_kwh"].to_numpy(), radius)
        forecasts[f"lower_{name}_kwh"], forecasts[f"upper_{name}_kwh"] = lower, upper
    return forecasts


def interval_columns(levels: tuple[float, ...] = LEVELS) -> tuple[str, ...]:
    return tuple(
        f"{side}_{level_name(level)}_kwh" for level in levels for side in ("lower", "upper")
    )


def radii_of(calibration: Mapping[str, Mapping[str, object]]) -> dict[str, float]:
    """Level name -> radius from :func:`calibrate`'s result as stored in JSON (an infinite
    radius is stored as null)."""
    return {
        level: math.inf if fit.get("radius_kwh") is None else float(fit["radius_kwh"])
        for level, fit in calibration.items()
    }
