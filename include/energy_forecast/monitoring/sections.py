"""The monitoring as the report shows it: realized accuracy beside the promise, the alert,
and input drift."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from energy_forecast import columns as C
from energy_forecast.monitoring.degradation import Degradation
from energy_forecast.monitoring.drift import FeatureDrift
from energy_forecast.monitoring.realized import VERSION
from energy_forecast.report.plots import save_figure
from energy_forecast.report.render import ReportSection
from energy_forecast.serving.intervals import LEVELS, level_name

REALIZED_TITLES = (
    "forecast day",
    "version",
    "rows",
    "MAE kWh",
    "RMSE kWh",
    "bias kWh",
    *(f"{level_name(level)}% covered" for level in LEVELS),
    "promised RMSE kWh",
)


def realized_section(
    realized: pd.DataFrame,
    promises: Mapping[str, float],
    degradation: Degradation,
    figure_path: Path,
) -> ReportSection:
    """The published forecasts against their actuals, day by day, and the verdict."""
    rows = [
        [
            row[C.DATE],
            str(row[VERSION]),
            str(int(row["n"])),
            f"{row['mae_kwh']:.4f}",
            f"{row['rmse_kwh']:.4f}",
            f"{row['bias_kwh']:+.4f}",
            *(_share(row[f"coverage_{level_name(level)}"]) for level in LEVELS),
            _kwh(promises.get(str(row[VERSION]))),
        ]
        for _, row in realized.iterrows()
    ]
    sentences = [
        "Each earlier published forecast whose day this run's data covers, against the "
        "actual: the error consumers got, beside the promise (the served test RMSE when the "
        "version was promoted). Bias is forecast minus actual.",
        ("ALERT: " if degradation.degraded else "") + degradation.reason + ".",
    ]
    figure = None
    if not realized.empty:
        figure = plot_realized(realized, promises, figure_path)
    else:
        sentences.insert(1, "No published forecast has met its actuals yet.")
    return ReportSection(
        "Realized accuracy of published forecasts",
        sentences,
        REALIZED_TITLES,
        rows,
        label_columns=2,
        figure=figure,
    )


def drift_section(
    drift: Sequence[FeatureDrift], current_day: str, warning: float, alert: float
) -> ReportSection:
    return ReportSection(
        "Input drift (population stability index)",
        [
            f"The newest day, {current_day}, against the training days, per feature; "
            f"shifted from {warning:g}, drifted from {alert:g}."
        ],
        ["feature", "PSI", "training rows", "newest-day rows", "status"],
        [
            [d.feature, f"{d.psi:.4f}", str(d.reference_rows), str(d.current_rows), d.status]
            for d in drift
        ],
    )


def plot_realized(realized: pd.DataFrame, promises: Mapping[str, float], path: Path) -> Path:
    """Realized RMSE per forecast day with each version's promise; interval coverage with
    the nominal levels."""
    figure = Figure(figsize=(10, 4), dpi=100)
    rmse_axes, coverage_axes = figure.subplots(1, 2)
    days = pd.to_datetime(realized[C.DATE])
    for version, rows in realized.groupby(VERSION, sort=True):
        when = days[rows.index]
        line = rmse_axes.plot(when, rows["rmse_kwh"], marker="o", label=f"version {version}")
        if (promise := promises.get(str(version))) is not None:
            rmse_axes.axhline(promise, linestyle="--", color=line[0].get_color(), alpha=0.7)
    rmse_axes.set(title="Realized RMSE (dashed: promised)", ylabel="kWh")
    rmse_axes.legend(fontsize="small")
    for level in LEVELS:
        name = level_name(level)
        line = coverage_axes.plot(days, realized[f"coverage_{name}"], marker="o", label=f"{name}%")
        coverage_axes.axhline(level, linestyle="--", color=line[0].get_color(), alpha=0.7)
    coverage_axes.set(title="Interval coverage (dashed: nominal)", ylim=(0, 1.05))
    coverage_axes.legend(fontsize="small")
    for axes in (rmse_axes, coverage_axes):
        axes.tick_params(axis="x", labelrotation=30)
    return save_figure(figure, path)


def _kwh(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _share(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value * 100:.1f}%"
