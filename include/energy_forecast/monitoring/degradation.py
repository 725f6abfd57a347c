"""Whether the champion broke its promise: the alert that closes the forecasting loop.

A champion is promoted on its served test RMSE (:mod:`energy_forecast.champion.decision`):
the error consumers should expect. Its published forecasts are later measured against
their actuals (:mod:`.realized`). When the realized RMSE of the champion's last
``window_days`` measured forecast days, pooled over their rows, exceeds that promise by more
than ``tolerance`` (a fraction), the champion is *degraded*: the run says so, emits the
``energy_forecast_degraded`` Asset event, and the gate lets a challenger that beats
persistence replace it without the usual margin (:func:`energy_forecast.champion.gate.decide`).

Only the current champion's own forecasts count: an earlier version's misses say nothing
about the model now serving.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self

import pandas as pd

from energy_forecast import columns as C
from energy_forecast.monitoring.realized import VERSION
from energy_forecast.runtime.atomic import write_text


@dataclass(frozen=True)
class Degradation:
    """The champion's recent realized error against its promise, and the verdict."""

    champion_version: str | None
    days: tuple[str, ...]
    rows: int
    realized_rmse_kwh: float | None
    promised_rmse_kwh: float | None
    tolerance: float
    degraded: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "days": list(self.days)}

    def save(self, path: Path) -> Path:
        return write_text(Path(path), json.dumps(self.as_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Self:
        raw = json.loads(Path(path).read_text())
        return cls(**{**raw, "days": tuple(raw["days"])})


def assess(
    realized: pd.DataFrame,
    champion_version: str | None,
    promised_rmse_kwh: float | None,
    window_days: int,
    tolerance: float,
) -> Degradation:
    """The verdict on ``champion_version`` from the realized series (:func:`.realized_accuracy`)."""

    def verdict(days=(), rows=0, rmse=None, degraded=False, reason="") -> Degradation:
        return Degradation(
            champion_version, tuple(days), rows, rmse, promised_rmse_kwh, tolerance, degraded,
            reason,
        )  # fmt: skip

    if champion_version is None:
        return verdict(reason="no champion yet: nothing was promised")
    own = realized[realized[VERSION] == champion_version].sort_values(C.DATE)
    recent = own.tail(window_days)
    if recent.empty:
        return verdict(reason=f"no forecast of version {champion_version} has met its actuals yet")
    rows = int(recent["n"].sum())
    rmse = math.sqrt(float((recent["n"] * recent["rmse_kwh"] ** 2).sum()) / rows)
    days = recent[C.DATE].tolist()
    span = f"{len(days)} forecast day(s) {days[0]}..{days[-1]}, {rows} rows"
    if promised_rmse_kwh is None or not math.isfinite(promised_rmse_kwh):
        return verdict(days, rows, rmse, reason=f"version {champion_version} has no promise")
    limit = promised_rmse_kwh * (1 + tolerance)
    numbers = (
        f"realized RMSE {rmse:.4f} kWh over {span}, against the promised (served test) "
        f"{promised_rmse_kwh:.4f} kWh; limit {limit:.4f} kWh (+{tolerance:.0%})"
    )
    if rmse > limit:
        return verdict(days, rows, rmse, True, f"version {champion_version} is degraded: {numbers}")
    return verdict(days, rows, rmse, False, f"version {champion_version} holds: {numbers}")
