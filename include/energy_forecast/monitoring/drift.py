"""Input drift: this run's newest day against the training days, feature by feature.

The population stability index compares two distributions over the same bins,
``PSI = sum((p_cur - p_ref) * ln(p_cur / p_ref))``. Bins are the deciles of the training
days' values; a feature with at most ``BINS`` distinct training values (household size, AC)
gets one bin per value. A common reading, and the defaults of the thresholds: below 0.1 the
population is stable, 0.1 to 0.25 it has shifted, above 0.25 it has drifted. Empty bins get
a small floor so one missing category cannot make the index infinite.

numpy on columns read with pyarrow, which the report already depends on: a hand-written
index of a few lines, rather than a monitoring framework and its install.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from energy_forecast import columns as C

#: The inputs compared: the target's own history, and the day's known features.
DRIFT_FEATURES: tuple[str, ...] = (
    C.ENERGY,
    C.TEMPERATURE,
    C.PEAK_USAGE,
    C.HOUSEHOLD_SIZE,
    C.HAS_AC,
)
BINS = 10
_FLOOR = 1e-4


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float
    reference_rows: int
    current_rows: int
    status: str  # "stable", "shifted" or "drifted"


def bin_edges(reference: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Interior bin edges: midpoints between the distinct values of a discrete feature,
    else the reference's quantiles."""
    values = np.unique(reference)
    if values.size <= bins:
        return (values[:-1] + values[1:]) / 2
    return np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))


def population_stability(reference: np.ndarray, current: np.ndarray, bins: int = BINS) -> float:
    """The PSI of ``current`` against ``reference`` over the reference's bins."""
    if reference.size == 0 or current.size == 0:
        raise ValueError("population stability needs rows on both sides")
    edges = bin_edges(reference, bins)
    expected = _shares(reference, edges)
    actual = _shares(current, edges)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def status_of(psi: float, warning: float, alert: float) -> str:
    return "drifted" if psi >= alert else "shifted" if psi >= warning else "stable"


def input_drift(
    validated: Path,
    reference_days: Sequence[str],
    current_day: str,
    warning: float,
    alert: float,
) -> list[FeatureDrift]:
    """Each of :data:`DRIFT_FEATURES` on ``current_day`` against ``reference_days`` (ISO)."""
    days = [np.datetime64(day, "D") for day in [*reference_days, current_day]]
    table = pq.read_table(
        validated,
        columns=[C.DATE, *DRIFT_FEATURES],
        filters=pc.field(C.DATE).isin([day.astype(object) for day in days]),
    )
    dates = table.column(C.DATE).to_numpy().astype("datetime64[D]")
    is_current = dates == np.datetime64(current_day, "D")
    drift = []
    for feature in DRIFT_FEATURES:
        values = table.column(feature).to_numpy(zero_copy_only=False).astype(np.float64)
        reference, current = values[~is_current], values[is_current]
        psi = population_stability(reference, current)
        drift.append(
            FeatureDrift(feature, psi, reference.size, current.size, status_of(psi, warning, alert))
        )
    return drift


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    return np.maximum(counts / values.size, _FLOOR)
