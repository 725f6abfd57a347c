"""Publishing the champion: one folder, swapped in whole, or the previous one kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from energy_forecast.publish import CHAMPION_FILE, FORECASTS_FILE, publish_champion


def _artifacts(root: Path, tag: str) -> dict[str, Path]:
    """A run's champion model files, fitted PipelineModel and report, marked with ``tag``."""
    lstm = root / "lstm"
    lstm.mkdir(parents=True)
    (lstm / "model.pt").write_text(f"weights {tag}")
    (lstm / "model_config.json").write_text(json.dumps({"tag": tag}))
    pipeline_model = root / "features" / "pipeline_model"
    (pipeline_model / "stages").mkdir(parents=True)
    (pipeline_model / "metadata").write_text(tag)
    report = root / "report"
    report.mkdir()
    (report / "report.html").write_text(f"<html>{tag}</html>")
    return {
        "model": lstm / "model.pt",
        "config": lstm / "model_config.json",
        "pipeline_model": pipeline_model,
        "report": report,
    }


def _forecasts(tag: str) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        pd.DataFrame(
            {
                "household_id": ["H00000"],
                "date": [pd.Timestamp("2025-04-08").date()],
                "predicted_kwh": [1.5],
                "model": [tag],
            }
        ).to_parquet(path, index=False)
        return path

    return write


def _publish(root: Path, destination: Path, tag: str, **overrides) -> dict[str, str]:
    files = _artifacts(root, tag)
    arguments = {
        "champion": "lstm",
        "model_files": [files["model"], files["config"]],
        "pipeline_model": files["pipeline_model"],
        "report_dir": files["report"],
        "write_forecasts": _forecasts(tag),
        "summary": {"run_id": tag},
        "destination": destination,
    }
    return publish_champion(**{**arguments, **overrides})


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_publish_champion_writes_model_pipeline_report_forecasts_and_champion_json(
    tmp_path: Path,
) -> None:
    destination = tmp_path / "published" / "champion"

    outputs = _publish(tmp_path / "run1", destination, "run1")

    assert sorted(p.name for p in destination.iterdir()) == sorted(
        ["model", "pipeline_model", "report", FORECASTS_FILE, CHAMPION_FILE]
    )
    assert (destination / "model" / "model.pt").read_text() == "weights run1"
    assert (destination / "model" / "model_config.json").is_file()
    assert (destination / "pipeline_model" / "metadata").read_text() == "run1"
    assert (destination / "pipeline_model" / "stages").is_dir()
    assert (destination / "report" / "report.html").read_text() == "<html>run1</html>"
    assert pd.read_parquet(destination / FORECASTS_FILE)["model"].tolist() == ["run1"]
    info = json.loads((destination / CHAMPION_FILE).read_text())
    assert info["champion"] == "lstm" and info["run_id"] == "run1"
    assert info["published_at"]
    assert outputs == {
        "champion_dir": str(destination),
        "champion": "lstm",
        "forecasts": str(destination / FORECASTS_FILE),
        "report_html": str(destination / "report" / "report.html"),
    }
    assert _hidden(destination.parent) == []


def test_publish_champion_copies_a_model_folder_such_as_xgboost(tmp_path: Path) -> None:
    destination = tmp_path / "champion"
    model_dir = tmp_path / "xgboost" / "model"
    (model_dir / "metadata").mkdir(parents=True)
    (model_dir / "metadata" / "part-00000").write_text("xgb")

    _publish(tmp_path / "run", destination, "run", champion="xgboost", model_files=[model_dir])

    assert (destination / "model" / "model" / "metadata" / "part-00000").read_text() == "xgb"
    assert json.loads((destination / CHAMPION_FILE).read_text())["champion"] == "xgboost"


def test_a_second_publish_replaces_the_first_whole_and_leaves_no_hidden_folders(
    tmp_path: Path,
) -> None:
    destination = tmp_path / "published" / "champion"
    _publish(tmp_path / "run1", destination, "run1")
    stale = destination / "report" / "stale.png"
    stale.write_bytes(b"from the first champion")

    _publish(tmp_path / "run2", destination, "run2")

    assert not stale.exists()
    assert (destination / "model" / "model.pt").read_text() == "weights run2"
    assert json.loads((destination / CHAMPION_FILE).read_text())["run_id"] == "run2"
    assert pd.read_parquet(destination / FORECASTS_FILE)["model"].tolist() == ["run2"]
    assert _hidden(destination.parent) == []


def test_when_writing_forecasts_fails_the_previous_champion_stays_intact(tmp_path: Path) -> None:
    destination = tmp_path / "published" / "champion"
    _publish(tmp_path / "run1", destination, "run1")
    before = _tree(destination)

    def fail(path: Path) -> Path:
        path.write_bytes(b"half a file")
        raise RuntimeError("forecasting failed")

    with pytest.raises(RuntimeError, match="forecasting failed"):
        _publish(tmp_path / "run2", destination, "run2", write_forecasts=fail)

    assert _tree(destination) == before
    assert _hidden(destination.parent) == []


def test_missing_artifacts_raise_file_not_found_naming_them_before_anything_is_written(
    tmp_path: Path,
) -> None:
    destination = tmp_path / "published" / "champion"
    missing_model = tmp_path / "lstm" / "absent.pt"
    missing_report = tmp_path / "absent_report"
    called: list[Path] = []

    def record(path: Path) -> Path:
        called.append(path)
        return path

    with pytest.raises(FileNotFoundError, match="missing artifacts") as error:
        _publish(
            tmp_path / "run",
            destination,
            "run",
            model_files=[missing_model],
            report_dir=missing_report,
            write_forecasts=record,
        )

    assert str(missing_model) in str(error.value)
    assert str(missing_report) in str(error.value)
    assert str(tmp_path / "run" / "features" / "pipeline_model") not in str(error.value)
    assert called == []
    assert not destination.exists()
