"""run_report: from model files to metrics.json, report.md and a self-contained report.html."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from energy_forecast.metrics import metrics_by_split, write_json, write_predictions
from energy_forecast.report.build import run_report
from energy_forecast.report.predictions import RowMismatchError

DAYS = [date(2025, 4, 1) + timedelta(days=i) for i in range(7)]
VAL_DAY, TEST_DAY = DAYS[-2], DAYS[-1]
MODELS = ("lstm", "xgboost", "persistence", "household_mean")
RUN_INFO = {"params": {"epochs": 3}, "source": "synthetic", "rows": {"val": 8, "test": 8}}


def write_inputs(
    root: Path, noise: dict[str, tuple[float, float]], history: bool = True
) -> tuple[Path, dict[str, dict[str, str]]]:
    """Validated data for 8 households over 7 days, and predictions with (val, test) noise."""
    rng = np.random.default_rng(3)
    validated = pd.DataFrame(
        [(f"H{h}", d, float(rng.uniform(2, 18))) for h in range(8) for d in DAYS],
        columns=["household_id", "date", "energy_kwh"],
    ).assign(day_of_week="Monday", household_size=3, avg_temperature_c=20.0, has_ac=False)
    validated["peak_hours_usage_kwh"] = validated["energy_kwh"] / 3
    validated_path = root / "validated.parquet"
    validated.to_parquet(validated_path)

    evaluated = validated[validated["date"] >= VAL_DAY]
    rows = pd.DataFrame(
        {
            "household_id": evaluated["household_id"],
            "date": evaluated["date"],
            "split": np.where(evaluated["date"] == VAL_DAY, "val", "test"),
            "actual_kwh": evaluated["energy_kwh"],
        }
    )
    outputs = {}
    for name, (val_noise, test_noise) in noise.items():
        scale = np.where(rows["split"] == "val", val_noise, test_noise)
        frame = rows.assign(
            predicted_kwh=rows["actual_kwh"] + scale * rng.standard_normal(len(rows))
        )
        outputs[name] = {
            "predictions": str(write_predictions(frame, root / name / "predictions.parquet")),
            "metrics": str(
                write_json(
                    {"model": name, "splits": metrics_by_split(frame), "best_epoch": 2},
                    root / name / "metrics.json",
                )
            ),
        }
    if history:
        epochs = [
            {
                "epoch": e,
                "train_rmse_kwh": 3 / e,
                "val_rmse_kwh": 3.2 / e,
                "samples_per_s": 1e3,
                "elapsed_s": e,
            }
            for e in (1, 2, 3)
        ]
        (root / "lstm" / "history.json").write_text(json.dumps(epochs))
        outputs["lstm"]["history"] = str(root / "lstm" / "history.json")
    return validated_path, outputs


# lstm is far better on validation, xgboost far better on test.
NOISE = {"lstm": (0.1, 3.0), "xgboost": (1.0, 0.1)}


@pytest.fixture
def report(tmp_path: Path) -> tuple[dict[str, str], Path]:
    validated, outputs = write_inputs(tmp_path, NOISE)
    result = run_report(validated, outputs, RUN_INFO, tmp_path / "report")
    return result, tmp_path / "report"


def test_metrics_json_scores_all_four_models_on_the_same_rows(report: tuple[dict, Path]) -> None:
    result, _ = report
    payload = json.loads(Path(result["metrics"]).read_text())

    assert set(payload["models"]) == set(MODELS)
    for split in ("val", "test"):
        assert {payload["models"][m]["splits"][split]["n"] for m in MODELS} == {8}
    assert {payload["models"][m]["kind"] for m in ("persistence", "household_mean")} == {"naive"}
    assert payload["run_info"] == RUN_INFO
    assert payload["model_details"]["lstm"] == {"model": "lstm", "best_epoch": 2}


def test_the_challenger_is_chosen_on_validation_and_returned_as_short_strings(
    report: tuple[dict, Path],
) -> None:
    result, _ = report
    payload = json.loads(Path(result["metrics"]).read_text())

    assert result["challenger"] == payload["challenger"]["model"] == "lstm"
    assert result["runner_up"] == "xgboost"
    assert float(result["challenger_val_rmse"]) == pytest.approx(
        payload["models"]["lstm"]["splits"]["val"]["rmse"], abs=1e-6
    )
    assert float(result["test_rmse_margin_kwh"]) < 0  # lstm loses on test, and still wins
    assert all(isinstance(value, str) and len(value) < 300 for value in result.values())


def test_reports_are_written_and_the_html_is_self_contained(report: tuple[dict, Path]) -> None:
    result, folder = report
    markdown = Path(result["report_md"]).read_text()
    page = Path(result["report_html"]).read_text()

    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)
    assert len(sources) == 4
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert not re.search(r"(src|href)=\"(?!data:)", page)
    for model in MODELS:
        assert model in markdown and model in page
    for png in ("predicted_vs_actual", "error_distributions", "learning_curve", "households"):
        assert (folder / f"{png}.png").is_file()
        assert f"({png}.png)" in markdown
    assert not list(folder.glob("*.tmp"))


def test_the_baselines_are_written_in_the_shared_predictions_format(
    report: tuple[dict, Path],
) -> None:
    result, _ = report
    persistence = pd.read_parquet(result["persistence_predictions"])

    assert list(persistence.columns) == [
        "household_id",
        "date",
        "split",
        "actual_kwh",
        "predicted_kwh",
    ]
    assert len(persistence) == 16


def test_the_metrics_table_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    validated, outputs = write_inputs(tmp_path, NOISE)

    with caplog.at_level(logging.INFO, logger="energy_forecast.report"):
        run_report(validated, outputs, RUN_INFO, tmp_path / "report")

    table = next(r.getMessage() for r in caplog.records if "Model comparison" in r.getMessage())
    for model in MODELS:
        assert model in table


def test_a_missing_history_skips_the_learning_curve_with_a_note(tmp_path: Path) -> None:
    validated, outputs = write_inputs(tmp_path, NOISE, history=False)

    result = run_report(validated, outputs, RUN_INFO, tmp_path / "report")

    assert not (tmp_path / "report" / "learning_curve.png").exists()
    assert "Learning curve skipped" in Path(result["report_md"]).read_text()
    assert len(re.findall(r"<img ", Path(result["report_html"]).read_text())) == 3


def test_models_evaluated_on_different_rows_fail_before_anything_is_written(tmp_path: Path) -> None:
    validated, outputs = write_inputs(tmp_path, NOISE)
    xgboost = pd.read_parquet(outputs["xgboost"]["predictions"])
    write_predictions(xgboost.iloc[1:], Path(outputs["xgboost"]["predictions"]))

    with pytest.raises(RowMismatchError, match="'lstm' and 'xgboost'"):
        run_report(validated, outputs, RUN_INFO, tmp_path / "report")
    assert not (tmp_path / "report").exists()


def test_a_trained_model_cannot_take_a_baseline_name(tmp_path: Path) -> None:
    validated, outputs = write_inputs(tmp_path, NOISE)

    with pytest.raises(ValueError, match="naive baseline"):
        run_report(validated, {"persistence": outputs["xgboost"]}, RUN_INFO, tmp_path / "report")
