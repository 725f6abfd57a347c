"""The report: score every model beside the naive baselines, then write it for people.

Reads the validated data and each trained model's predictions and metrics, adds the naive
baselines on the same rows, and writes ``metrics.json``, ``report.md``, ``report.html``, the
figures and the baselines' predictions into one folder. Comparing (:func:`compare_run`) and
writing (:func:`write_report`) are separate calls, so a decision taken on the comparison
(the promotion gate) happens between them, in plain sight, and only its result is rendered.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from energy_forecast.columns import DATE, ENERGY, HOUSEHOLD
from energy_forecast.metrics import metrics_by_split, write_json, write_predictions
from energy_forecast.report import plots
from energy_forecast.report.compare import (
    REPORT_SPLIT,
    SELECTION_SPLIT,
    Comparison,
    compare_models,
)
from energy_forecast.report.naive import NAIVE_MODELS, NaiveForecasts, naive_forecasts
from energy_forecast.report.predictions import check_same_rows, read_predictions
from energy_forecast.report.render import (
    ReportContent,
    ReportSection,
    render_html,
    render_markdown,
)
from energy_forecast.report.table import format_metrics_table
from energy_forecast.runtime.atomic import write_text
from energy_forecast.serving.intervals import LEVELS, calibrate, level_name

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
_SCATTER = "Predicted vs actual (test)"
_ERRORS = "Error distributions (test)"
_LEARNING = "Learning curve"
_HOUSEHOLDS = "Sample households"
#: Caption -> file name of each figure, in report order.
FIGURES: dict[str, str] = {
    _SCATTER: "predicted_vs_actual.png",
    _ERRORS: "error_distributions.png",
    _LEARNING: "learning_curve.png",
    _HOUSEHOLDS: "households.png",
}
_HOUSEHOLDS_SHOWN = 4
_REPORTED_DRIFT_KWH = 1e-6  # a model's own metrics file may differ by round-off, not more


@dataclass(frozen=True)
class RunComparison:
    """Every model of a run scored on the same held-out rows, before anything is rendered:
    what the promotion decision reads and what the report shows."""

    comparison: Comparison
    metrics: dict[str, dict[str, dict[str, float | int]]]
    predictions: dict[str, pd.DataFrame]
    naive: NaiveForecasts
    naive_paths: dict[str, Path]
    model_outputs: dict[str, dict[str, str]]
    history: pd.DataFrame
    #: model -> level name -> split-conformal radius, test coverage and width
    #: (:func:`energy_forecast.serving.intervals.calibrate`).
    intervals: dict[str, dict[str, dict]]


def compare_run(
    validated: Path, model_outputs: dict[str, dict[str, str]], output_dir: Path
) -> RunComparison:
    """Score the trained models beside the naive baselines; write the baselines' predictions.

    ``model_outputs`` maps each trained model's name to ``{"predictions": path, "metrics":
    path}`` and optionally ``"history": path`` (a list of epochs). The first model's rows are
    the reference: every other model must cover the same rows, or this raises before writing.
    """
    _check_model_outputs(model_outputs)
    output_dir = Path(output_dir)
    trained = {
        name: read_predictions(Path(out["predictions"])) for name, out in model_outputs.items()
    }
    check_same_rows(trained)
    history = read_history(validated)
    naive = naive_forecasts(history, next(iter(trained.values())))
    naive_paths = {
        name: write_predictions(frame, output_dir / f"{name}_predictions.parquet")
        for name, frame in naive.predictions.items()
    }
    predictions = {**trained, **naive.predictions}
    metrics = {name: metrics_by_split(frame) for name, frame in predictions.items()}
    log.info("naive baseline sources: %s", naive.fallbacks)
    return RunComparison(
        comparison=compare_models(metrics, trained=list(trained)),
        metrics=metrics,
        predictions=predictions,
        naive=naive,
        naive_paths=naive_paths,
        model_outputs=dict(model_outputs),
        history=history,
        intervals={name: calibrate(frame) for name, frame in predictions.items()},
    )


def write_report(
    run: RunComparison,
    run_info: dict[str, Any],
    output_dir: Path,
    sections: Sequence[ReportSection] = (),
    extra_metrics: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Write ``metrics.json``, ``report.md``, ``report.html`` and the figures; return their
    paths and the challenger's RMSEs as short strings for XCom.

    ``sections`` come after the comparison (the promotion decision, the registry's history);
    ``extra_metrics`` are added to ``metrics.json``.
    """
    output_dir = Path(output_dir)
    comparison, metrics, naive = run.comparison, run.metrics, run.naive
    model_details = {
        name: _model_details(name, out, metrics[name]) for name, out in run.model_outputs.items()
    }
    figures, notes = _draw_figures(run.history, run.predictions, run.model_outputs, output_dir)
    content = ReportContent(
        comparison=comparison,
        naive_fallbacks=naive.fallbacks,
        training_mean_kwh=naive.training_mean_kwh,
        run_info=run_info,
        figures=figures,
        notes=notes,
        sections=[interval_section(run.intervals), *sections],
    )
    metrics_path = write_json(
        _json_safe(
            {
                "models": {
                    name: {"kind": "naive" if name in NAIVE_MODELS else "trained", "splits": splits}
                    for name, splits in metrics.items()
                },
                **comparison.as_dict(),
                "naive_baselines": {
                    "fallbacks": naive.fallbacks,
                    "training_mean_kwh": naive.training_mean_kwh,
                },
                "model_details": model_details,
                "intervals": run.intervals,
                "figures": {caption: path.name for caption, path in figures.items()},
                "notes": notes,
                "run_info": run_info,
                **(extra_metrics or {}),
            }
        ),
        output_dir / METRICS_FILE,
    )
    md_path = write_text(output_dir / REPORT_MD, render_markdown(content))
    html_path = write_text(output_dir / REPORT_HTML, render_html(content))

    challenger = comparison.challenger
    log.info("Model comparison (kWh):\n%s", format_metrics_table(metrics, challenger))
    test_kwh, test_pct = comparison.margin(REPORT_SPLIT)
    return {
        "report_dir": str(output_dir),
        "report_html": str(html_path),
        "report_md": str(md_path),
        "metrics": str(metrics_path),
        "challenger": challenger,
        "challenger_val_rmse": _short(comparison.rmse(challenger, SELECTION_SPLIT)),
        "challenger_test_rmse": _short(comparison.rmse(challenger, REPORT_SPLIT)),
        "runner_up": comparison.runner_up or "",
        "test_rmse_margin_kwh": _short(test_kwh),
        "test_rmse_margin_percent": _short(test_pct),
        **{f"{name}_predictions": str(path) for name, path in run.naive_paths.items()},
    }


def interval_section(intervals: Mapping[str, Mapping[str, Mapping]]) -> ReportSection:
    """Each model's split-conformal intervals: the radius from the validation days, and how
    often the test days' actuals fell inside, against the level promised."""
    rows = [
        [
            model,
            f"{round(fit['level'] * 100)}%",
            f"{fit['radius_kwh']:.3f}",
            f"{fit['test_coverage'] * 100:.1f}%",
            f"{fit['test_mean_width_kwh']:.3f}",
        ]
        for model, fits in intervals.items()
        for fit in (fits[level_name(level)] for level in LEVELS)
    ]
    return ReportSection(
        "Prediction intervals (split conformal)",
        [
            "Each interval is the prediction plus or minus the radius: the quantile of the "
            "absolute errors on the validation days that promises the level (lower bounds "
            "clipped at 0 kWh). The test days check the promise; forecasts carry the "
            "champion's intervals."
        ],
        ["model", "level", "radius kWh", "test coverage", "mean width kWh"],
        rows,
        label_columns=2,
    )


def run_report(
    validated: Path,
    model_outputs: dict[str, dict[str, str]],
    run_info: dict[str, Any],
    output_dir: Path,
) -> dict[str, str]:
    """Compare, then write the report, with no sections beyond the comparison."""
    return write_report(compare_run(validated, model_outputs, output_dir), run_info, output_dir)


def read_history(validated: Path) -> pd.DataFrame:
    """Household, date and energy of every validated row, compactly: households as a
    categorical and dates as datetime64, a few bytes a row instead of a Python object per
    cell (at 9 M rows, gigabytes)."""
    import pyarrow.parquet as pq

    table = pq.read_table(validated, columns=[HOUSEHOLD, DATE, ENERGY], read_dictionary=[HOUSEHOLD])
    return table.to_pandas(date_as_object=False)


def _check_model_outputs(model_outputs: Mapping[str, Mapping[str, str]]) -> None:
    """Fail before reading anything when the inputs are incomplete or named like a baseline."""
    if not model_outputs:
        raise ValueError("model_outputs is empty: there is no trained model to report on")
    for name, outputs in model_outputs.items():
        if name in NAIVE_MODELS:
            raise ValueError(f"{name!r} is the name of a naive baseline; rename the model")
        for key in ("predictions", "metrics"):
            if key not in outputs:
                raise ValueError(f"model {name!r} lacks its {key!r} path")
            if not Path(outputs[key]).is_file():
                raise FileNotFoundError(f"{key} of model {name!r} not found: {outputs[key]}")


def _model_details(
    name: str, outputs: Mapping[str, str], recomputed: Mapping[str, Mapping[str, float | int]]
) -> dict[str, Any]:
    """The model's own metrics file, less its splits (recomputed here from its predictions).

    A reported RMSE that differs from the recomputed one means the model's metrics file and
    its predictions file disagree: worth a warning, not a failed run.
    """
    reported = json.loads(Path(outputs["metrics"]).read_text())
    for split, values in reported.get("splits", {}).items():
        ours = recomputed.get(split, {}).get("rmse")
        theirs = values.get("rmse") if isinstance(values, Mapping) else None
        if ours is not None and theirs is not None and abs(ours - theirs) > _REPORTED_DRIFT_KWH:
            log.warning(
                "%s: metrics file says %s RMSE %.6f, its predictions give %.6f",
                name,
                split,
                theirs,
                ours,
            )
    return {key: value for key, value in reported.items() if key != "splits"}


def _draw_figures(
    validated: pd.DataFrame,
    predictions: Mapping[str, pd.DataFrame],
    model_outputs: Mapping[str, Mapping[str, str]],
    output_dir: Path,
) -> tuple[dict[str, Path], list[str]]:
    """Write every figure it can; a missing training history becomes a note, not a failure."""
    paths = {caption: output_dir / name for caption, name in FIGURES.items()}
    figures = {
        _SCATTER: plots.plot_predicted_vs_actual(predictions, paths[_SCATTER]),
        _ERRORS: plots.plot_error_distributions(predictions, paths[_ERRORS]),
    }
    histories, notes = _load_histories(model_outputs)
    if histories:
        figures[_LEARNING] = plots.plot_learning_curves(histories, paths[_LEARNING])
    else:
        paths[_LEARNING].unlink(missing_ok=True)  # no stale curve from an earlier try
    households = plots.pick_households(next(iter(predictions.values())), _HOUSEHOLDS_SHOWN)
    shown = validated[validated[HOUSEHOLD].isin(households)]
    figures[_HOUSEHOLDS] = plots.plot_households(
        shown.astype({HOUSEHOLD: str}), predictions, households, paths[_HOUSEHOLDS]
    )
    return figures, notes


def _load_histories(
    model_outputs: Mapping[str, Mapping[str, str]],
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Each model's per-epoch history, and a note for every one that is absent or unreadable."""
    histories, notes = {}, []
    for name, outputs in model_outputs.items():
        path = outputs.get("history")
        if not path:
            continue
        try:
            history = json.loads(Path(path).read_text())
            if not isinstance(history, list) or not history:
                raise ValueError("expected a non-empty list of epochs")
            for row in history:
                missing = [key for key in plots.HISTORY_KEYS if key not in row]
                if missing:
                    raise ValueError(f"an epoch lacks {missing}")
        except (OSError, ValueError) as error:  # json.JSONDecodeError is a ValueError
            notes.append(f"Learning curve of {name} skipped: cannot use {path} ({error}).")
            log.warning(notes[-1])
            continue
        histories[name] = history
    if not histories and not notes:
        notes.append("Learning curve skipped: no model provided a training history.")
    return histories, notes


def _json_safe(value: Any) -> Any:
    """Replace NaN and infinities with null, which strict JSON readers accept."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def _short(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.6f}"
