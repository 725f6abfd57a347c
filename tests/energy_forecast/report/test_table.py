"""The log table shows every model on every split, aligned, with the challenger marked."""

from __future__ import annotations

import math

from energy_forecast.report.table import format_metrics_table

ROW = {"n": 12857, "mae": 1.1234, "rmse": 1.4, "mape": 18.5, "r2": 0.93}
METRICS = {
    model: {"val": ROW, "test": ROW}
    for model in ("lstm", "xgboost", "persistence", "household_mean")
}


def test_every_model_appears_on_both_splits_and_the_challenger_is_marked() -> None:
    table = format_metrics_table(METRICS, challenger="xgboost")
    lines = table.splitlines()

    for model in METRICS:
        assert sum(line.split()[0] == model for line in lines[2:]) == 2
    assert all(line.startswith("xgboost *") for line in lines if line.startswith("xgboost"))
    assert "1.123" in table and "12857" in table


def test_columns_line_up_in_a_monospace_log() -> None:
    lines = format_metrics_table(METRICS).splitlines()

    assert len({len(line) for line in lines}) == 1  # header, rule and rows all equally wide
    assert lines[1] == "-" * len(lines[0])


def test_undefined_metrics_read_n_a() -> None:
    table = format_metrics_table({"lstm": {"test": {**ROW, "r2": math.nan}}})

    assert table.splitlines()[-1].endswith("n/a")
