"""Publishing the champion: a complete registered version with its signature, or the previous
champion kept."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from energy_forecast.champion.publish import FORECASTS_FILE, publish_champion
from energy_forecast.champion.registry import Registry
from energy_forecast.features.arrays import FeatureShape
from energy_forecast.tracking.runs import DagRunTracker
from energy_forecast.tracking.store import TrackingStore

SHAPE = FeatureShape(sequence_length=3, sequence_features=4, static_features=5)


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
        "shape": SHAPE,
        "mlflow_run_id": DagRunTracker(registry.store, tag).parent_run_id(),
    }
    return publish_champion(registry, **{**arguments, **overrides})


@pytest.fixture
def registry(tracking_store: TrackingStore) -> Registry:
    return Registry(tracking_store)


def test_a_version_holds_model_pipeline_report_forecasts_and_metadata(
    tmp_path: Path, registry: Registry
) -> None:
    version = _publish(tmp_path, registry, "run-1")

    current = registry.current().path
    assert current == version.path
    assert (current / "model" / "model.pt").read_text() == "weights run-1"
    assert (current / "pipeline_model" / "metadata").read_text() == "run-1"
    assert (current / "report" / "report.html").exists()
    forecasts = pd.read_parquet(current / FORECASTS_FILE)
    assert forecasts["model"].tolist() == ["weights run-1"]  # made from the published copy
    assert json.loads((current / "champion.json").read_text())["model"] == "lstm"


def test_the_version_carries_its_signature_in_an_mlmodel_file(
    tmp_path: Path, registry: Registry
) -> None:
    from mlflow.models import Model

    version = _publish(tmp_path, registry, "run-1")

    described = Model.load(str(version.path / "MLmodel"))
    inputs = {spec.name: spec.shape for spec in described.signature.inputs.inputs}
    assert inputs == {"sequence": (-1, 3, 4), "mask": (-1, 3), "static": (-1, 5)}
    assert described.flavors["energy_forecast"]["model"] == "lstm"
    assert described.flavors["energy_forecast"]["files"] == [
        "model/model.pt",
        "model/model_config.json",
    ]


def test_a_model_folder_such_as_xgboosts_becomes_the_model_folder(
    tmp_path: Path, registry: Registry
) -> None:
    folder = tmp_path / "xgb" / "model"
    (folder / "metadata").mkdir(parents=True)
    (folder / "booster.ubj").write_text("trees")

    version = _publish(tmp_path, registry, "run-1", model="xgboost", model_files=[folder])

    assert (version.path / "model" / "metadata").is_dir()


def test_when_writing_forecasts_fails_the_previous_champion_stays_current(
    tmp_path: Path, registry: Registry
) -> None:
    _publish(tmp_path, registry, "run-1")

    def broken(model: Path, path: Path) -> Path:
        raise RuntimeError("spark died")

    with pytest.raises(RuntimeError, match="spark died"):
        _publish(tmp_path, registry, "run-2", write_forecasts=broken)

    assert registry.current().metadata["run_id"] == "run-1"
    assert len(registry.versions()) == 1


def test_missing_artifacts_are_named_before_anything_is_written(
    tmp_path: Path, registry: Registry
) -> None:
    with pytest.raises(FileNotFoundError, match=r"gone\.pt"):
        _publish(tmp_path, registry, "run-1", model_files=[tmp_path / "gone.pt"])

    assert registry.current() is None
