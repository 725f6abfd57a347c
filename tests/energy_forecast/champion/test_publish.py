"""Publishing the champion: a complete registry version, or the previous champion kept."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from energy_forecast.champion.publish import FORECASTS_FILE, publish_champion
from energy_forecast.champion.registry import Registry


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


def _write_forecasts(model: Path, path: Path) -> Path:
    tag = (model / "model.pt").read_text() if (model / "model.pt").exists() else "folder"
    pd.DataFrame({"household_id": ["H00000"], "model": [tag]}).to_parquet(path, index=False)
    return path


def _publish(root: Path, registry: Registry, tag: str, **overrides):
    files = _artifacts(root / tag, tag)
    arguments = {
        "model": "lstm",
        "model_files": [files["model"], files["config"]],
        "pipeline_model": files["pipeline_model"],
        "report_dir": files["report"],
        "write_forecasts": _write_forecasts,
        "metadata": {"run_id": tag},
    }
    return publish_champion(registry, **{**arguments, **overrides})


def test_a_version_holds_model_pipeline_report_forecasts_and_metadata(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "artifacts")

    version = _publish(tmp_path, registry, "run-1")

    current = registry.pointer.resolve()
    assert current == version.path
    assert (current / "model" / "model.pt").read_text() == "weights run-1"
    assert (current / "pipeline_model" / "metadata").read_text() == "run-1"
    assert (current / "report" / "report.html").exists()
    forecasts = pd.read_parquet(current / FORECASTS_FILE)
    assert forecasts["model"].tolist() == ["weights run-1"]  # made from the published copy
    assert json.loads((current / "champion.json").read_text())["model"] == "lstm"


def test_a_model_folder_such_as_xgboosts_becomes_the_model_folder(tmp_path: Path) -> None:
    folder = tmp_path / "xgb" / "model"
    (folder / "metadata").mkdir(parents=True)
    registry = Registry(tmp_path / "artifacts")

    version = _publish(tmp_path, registry, "run-1", model="xgboost", model_files=[folder])

    assert (version.path / "model" / "metadata").is_dir()


def test_when_writing_forecasts_fails_the_previous_champion_stays_current(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "artifacts")
    _publish(tmp_path, registry, "run-1")

    def broken(model: Path, path: Path) -> Path:
        raise RuntimeError("spark died")

    with pytest.raises(RuntimeError, match="spark died"):
        _publish(tmp_path, registry, "run-2", write_forecasts=broken)

    assert registry.current().metadata["run_id"] == "run-1"
    assert len(registry.versions()) == 1


def test_missing_artifacts_are_named_before_anything_is_written(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "artifacts")

    with pytest.raises(FileNotFoundError, match=r"gone\.pt"):
        _publish(tmp_path, registry, "run-1", model_files=[tmp_path / "gone.pt"])

    assert registry.current() is None
