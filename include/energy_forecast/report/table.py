"""The metrics table as fixed-width plain text, for the Airflow task log.

The log is where an operator looks first; a table that lines up in a monospace viewer
answers "did the models beat the naive baselines?" without opening the HTML report.
The Markdown and HTML reports use :func:`metric_cells` so the three never show different
numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from energy_forecast.report.compare import ModelMetrics
from energy_forecast.report.predictions import REPORTED_SPLITS

#: (key in the metrics dict, column title, format) in display order; all errors in kWh.
METRIC_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("n", "n", "{:d}"),
    ("mae", "MAE kWh", "{:.3f}"),
    ("rmse", "RMSE kWh", "{:.3f}"),
    ("mape", "MAPE %", "{:.2f}"),
    ("r2", "R²", "{:.3f}"),
)
TABLE_TITLES: tuple[str, ...] = ("model", "split", *(title for _, title, _ in METRIC_COLUMNS))
CHALLENGER_MARK = " *"


def metric_cells(values: Mapping[str, float | int]) -> list[str]:
    """One model's metrics on one split as formatted cells, ``n/a`` where undefined."""
    cells = []
    for key, _, fmt in METRIC_COLUMNS:
        value = values.get(key)
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        cells.append("n/a" if missing else fmt.format(value))
    return cells


def table_rows(metrics: ModelMetrics, challenger: str | None = None) -> list[list[str]]:
    """One row of cells per model and split, models in the given order, val before test."""
    rows = []
    for model, by_split in metrics.items():
        label = model + (CHALLENGER_MARK if model == challenger else "")
        for split in REPORTED_SPLITS:
            if split in by_split:
                rows.append([label, split, *metric_cells(by_split[split])])
    return rows


def format_metrics_table(metrics: ModelMetrics, challenger: str | None = None) -> str:
    """A fixed-width text table of every model's metrics; ``*`` marks the challenger."""
    rows = [list(TABLE_TITLES), *table_rows(metrics, challenger)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_TITLES))]
    lines = []
    for row in rows:
        label_cells = [cell.ljust(width) for cell, width in zip(row[:2], widths, strict=False)]
        number_cells = [cell.rjust(width) for cell, width in zip(row[2:], widths[2:], strict=True)]
        lines.append("  ".join(label_cells + number_cells).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    if challenger is not None:
        lines.append(f"{CHALLENGER_MARK.strip()} challenger, chosen on validation RMSE")
    return "\n".join(lines)
