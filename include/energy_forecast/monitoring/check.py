"""One run's monitoring, done before its gate: realized accuracy, the alert, input drift.

The report task calls :func:`monitor` with the run's data and the registry's promises; the
result goes into the gate (is the champion degraded?), the report (sections), the run's
tracking (metrics) and three files beside the report, which the ``alert_degraded`` task
reads to decide whether to emit ``energy_forecast_degraded``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from energy_forecast.monitoring.degradation import Degradation, assess
from energy_forecast.monitoring.drift import FeatureDrift, input_drift
from energy_forecast.monitoring.realized import joined_with_actuals, realized_accuracy
from energy_forecast.monitoring.sections import drift_section, realized_section
from energy_forecast.report.render import ReportSection
from energy_forecast.runtime.atomic import atomic_file, write_text
from energy_forecast.serving.intervals import LEVELS, level_name
from energy_forecast.settings import MonitoringSettings

log = logging.getLogger(__name__)

REALIZED_FILE = "realized_accuracy.csv"
DEGRADATION_FILE = "degradation.json"
DRIFT_FILE = "drift.json"


@dataclass(frozen=True)
class Monitoring:
    realized: pd.DataFrame
    promises: Mapping[str, float]
    degradation: Degradation
    drift: Sequence[FeatureDrift]
    current_day: str
    settings: MonitoringSettings
    files: Mapping[str, str]

    def sections(self, figure_dir: Path) -> list[ReportSection]:
        s = self.settings
        return [
            realized_section(
                self.realized, self.promises, self.degradation, figure_dir / "realized.png"
            ),
            drift_section(self.drift, self.current_day, s.drift_psi_warning, s.drift_psi_alert),
        ]

    def metrics(self) -> dict[str, float]:
        """For the run's tracking: the newest measured day, the window verdict, the PSIs."""
        metrics: dict[str, float] = {"degraded": float(self.degradation.degraded)}
        if self.degradation.realized_rmse_kwh is not None:
            metrics["realized.window_rmse_kwh"] = self.degradation.realized_rmse_kwh
        if not self.realized.empty:
            newest = self.realized.iloc[-1]
            for name in ("n", "mae_kwh", "rmse_kwh", "bias_kwh"):
                metrics[f"realized.{name}"] = float(newest[name])
            for level in LEVELS:
                if pd.notna(value := newest[f"coverage_{level_name(level)}"]):
                    metrics[f"realized.coverage_{level_name(level)}"] = float(value)
        metrics |= {f"drift_psi.{d.feature}": d.psi for d in self.drift}
        return metrics


def monitor(
    validated: Path,
    forecasts: Path,
    training_days: Sequence[str],
    current_day: str,
    champion_version: str | None,
    promises: Mapping[str, float],
    settings: MonitoringSettings,
    output_dir: Path,
) -> Monitoring:
    """Measure the published forecasts under ``forecasts`` against ``validated``, judge the
    champion, compare ``current_day``'s inputs with ``training_days``; write the files."""
    realized = realized_accuracy(joined_with_actuals(forecasts, validated))
    degradation = assess(
        realized,
        champion_version,
        promises.get(champion_version) if champion_version else None,
        settings.degradation_window_days,
        settings.degradation_tolerance,
    )
    (log.warning if degradation.degraded else log.info)("monitoring: %s", degradation.reason)
    drift = input_drift(
        validated, training_days, current_day, settings.drift_psi_warning, settings.drift_psi_alert
    )
    for feature in drift:
        if feature.status != "stable":
            log.warning(
                "input drift: %s PSI %.3f (%s)", feature.feature, feature.psi, feature.status
            )
    output_dir.mkdir(parents=True, exist_ok=True)
    with atomic_file(output_dir / REALIZED_FILE) as tmp:
        realized.to_csv(tmp, index=False)
    files = {
        "realized": str(output_dir / REALIZED_FILE),
        "degradation": str(degradation.save(output_dir / DEGRADATION_FILE)),
        "drift": str(
            write_text(
                output_dir / DRIFT_FILE,
                json.dumps([dataclasses.asdict(d) for d in drift], indent=2) + "\n",
            )
        ),
    }
    return Monitoring(realized, promises, degradation, drift, current_day, settings, files)
