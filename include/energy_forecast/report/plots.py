"""The report's figures, drawn headless and written as PNG files.

Figures are built with :class:`matplotlib.figure.Figure` directly, which renders with the Agg
backend and never touches pyplot's global state or a display: safe on an Airflow worker and in
parallel tasks. Each function draws one figure from plain frames and writes it atomically.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from energy_forecast.columns import DATE, ENERGY, HOUSEHOLD
from energy_forecast.report.predictions import (
    ACTUAL_COL,
    DATE_COL,
    HOUSEHOLD_COL,
    PREDICTED_COL,
    SPLIT_COL,
)
from energy_forecast.runtime.atomic import atomic_file

_DPI = 100
_PANEL_INCHES = 4.0
_MAX_COLUMNS = 4
_SCATTER_POINTS = 20_000  # beyond this a scatter is one blot; a sample shows the same shape
_SEED = 0
#: Keys of one epoch in the LSTM's ``history.json``.
HISTORY_KEYS: tuple[str, ...] = ("epoch", "train_rmse_kwh", "val_rmse_kwh")


def plot_predicted_vs_actual(
    predictions: Mapping[str, pd.DataFrame], path: Path, split: str = "test"
) -> Path:
    """One scatter of predicted against actual kWh per model, on ``split``, with the y = x line."""
    figure, axes = _panels(len(predictions))
    frames = {name: frame[frame[SPLIT_COL] == split] for name, frame in predictions.items()}
    values = [f[c].to_numpy() for f in frames.values() for c in (ACTUAL_COL, PREDICTED_COL)]
    low, high = _limits(values)
    for ax, (name, frame) in zip(axes, frames.items(), strict=False):
        sample = _sample(frame, _SCATTER_POINTS)
        ax.scatter(sample[ACTUAL_COL], sample[PREDICTED_COL], s=4, alpha=0.25, linewidths=0)
        ax.plot([low, high], [low, high], color="black", linewidth=1, label="y = x")
        ax.set(xlim=(low, high), ylim=(low, high), aspect="equal")
        ax.set(
            title=f"{name} ({split}, n={len(frame)})", xlabel="actual kWh", ylabel="predicted kWh"
        )
        ax.legend(loc="upper left", fontsize="small")
    return save_figure(figure, path)


def plot_error_distributions(
    predictions: Mapping[str, pd.DataFrame], path: Path, split: str = "test"
) -> Path:
    """Histograms of predicted minus actual kWh on ``split``, one panel per model, shared axes."""
    errors = {
        name: (frame[PREDICTED_COL] - frame[ACTUAL_COL])[frame[SPLIT_COL] == split].to_numpy()
        for name, frame in predictions.items()
    }
    low, high = _limits(list(errors.values()))
    bins = np.linspace(low, high, 41)
    figure, axes = _panels(len(errors), sharex=True, sharey=True)
    for ax, (name, error) in zip(axes, errors.items(), strict=False):
        ax.hist(error, bins=bins, color="tab:blue", alpha=0.8)
        ax.axvline(0.0, color="black", linewidth=1)
        mean, std = (float(error.mean()), float(error.std())) if error.size else (math.nan,) * 2
        ax.set(title=f"{name}: mean {mean:+.2f}, sd {std:.2f}", xlabel="predicted - actual kWh")
    axes[0].set_ylabel(f"rows ({split})")
    return save_figure(figure, path)


def plot_learning_curves(histories: Mapping[str, Sequence[Mapping[str, Any]]], path: Path) -> Path:
    """Training and validation RMSE per epoch for each model that has a history."""
    figure, axes = _panels(len(histories))
    for ax, (name, history) in zip(axes, histories.items(), strict=False):
        epochs = [row["epoch"] for row in history]
        ax.plot(epochs, [row["train_rmse_kwh"] for row in history], marker=".", label="train")
        ax.plot(epochs, [row["val_rmse_kwh"] for row in history], marker=".", label="validation")
        ax.set(title=f"{name} learning curve", xlabel="epoch", ylabel="RMSE kWh")
        ax.legend()
    return save_figure(figure, path)


def plot_households(
    validated: pd.DataFrame,
    predictions: Mapping[str, pd.DataFrame],
    households: Sequence[str],
    path: Path,
) -> Path:
    """Each household's actual energy over all its days, with every model's forecasts."""
    figure, axes = _panels(len(households), sharey=True)
    history = validated.assign(_day=pd.to_datetime(validated[DATE]))
    for ax, household in zip(axes, households, strict=False):
        actual = history[history[HOUSEHOLD] == household].sort_values("_day")
        ax.plot(
            actual["_day"].to_numpy(), actual[ENERGY], color="black", marker="o", label="actual"
        )
        forecast_days = []
        for name, frame in predictions.items():
            rows = frame[frame[HOUSEHOLD_COL] == household]
            days = pd.to_datetime(rows[DATE_COL]).to_numpy()
            forecast_days.extend(days)
            ax.scatter(days, rows[PREDICTED_COL], marker="x", s=40, label=name)
        if forecast_days:
            ax.axvspan(min(forecast_days), max(forecast_days), color="grey", alpha=0.15, lw=0)
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.set(title=f"household {household}", ylabel="kWh")
    axes[0].legend(fontsize="small")
    return save_figure(figure, path)


def pick_households(predictions: pd.DataFrame, count: int = 4) -> list[str]:
    """``count`` households spread evenly over the sorted ids: deterministic, not cherry-picked."""
    ids = np.sort(predictions[HOUSEHOLD_COL].astype(str).unique())
    if ids.size <= count:
        return ids.tolist()
    return ids[np.linspace(0, ids.size - 1, count).round().astype(int)].tolist()


def _panels(count: int, sharex: bool = False, sharey: bool = False) -> tuple[Figure, list[Any]]:
    columns = min(max(count, 1), _MAX_COLUMNS)
    rows = math.ceil(max(count, 1) / columns)
    figure = Figure(figsize=(_PANEL_INCHES * columns, _PANEL_INCHES * rows), dpi=_DPI)
    grid = figure.subplots(rows, columns, squeeze=False, sharex=sharex, sharey=sharey)
    axes = list(grid.flat)
    for unused in axes[count:]:
        unused.set_visible(False)
    return figure, axes


def _limits(arrays: Sequence[np.ndarray]) -> tuple[float, float]:
    finite = np.concatenate([np.asarray(a, dtype=np.float64) for a in arrays] or [np.zeros(0)])
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    pad = max(high - low, 1.0) * 0.05
    return low - pad, high + pad


def _sample(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    return frame if len(frame) <= limit else frame.sample(limit, random_state=_SEED)


def save_figure(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    with atomic_file(path) as tmp:
        figure.savefig(tmp, format="png")
    return path
