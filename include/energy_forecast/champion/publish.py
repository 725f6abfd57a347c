"""Publish a champion: a new registered model version, complete before it becomes current.

Model, PipelineModel, report, next-day forecasts and an ``MLmodel`` with the signature are
copied or written into the folder that :meth:`Registry.register` builds under a hidden name
and uploads whole; only then is the version created and the alias ``champion`` moved to it,
so a consumer scheduled on the champion Asset never reads half a champion, and a failure
leaves the previous one current.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from energy_forecast.champion.registry import UNCHECKED, Registry, Version
from energy_forecast.features.arrays import FeatureShape
from energy_forecast.tracking.signature import write_mlmodel

FORECASTS_FILE = "forecasts.parquet"
MODEL_FOLDER = "model"
PIPELINE_MODEL_FOLDER = "pipeline_model"
REPORT_FOLDER = "report"


def publish_champion(
    registry: Registry,
    *,
    model: str,
    model_files: list[Path],
    pipeline_model: Path,
    report_dir: Path,
    write_forecasts: Callable[[Path, Path], Path],
    metadata: dict[str, Any],
    shape: FeatureShape,
    mlflow_run_id: str,
    replaces: object = UNCHECKED,
) -> Version:
    """Register ``model`` (its kind: ``lstm`` or ``xgboost``) as the new current version,
    if the champion is still ``replaces`` (see :meth:`Registry.register`).

    ``model_files`` are the model's files (copied into ``model/``) or its one folder (copied
    as ``model/``). ``write_forecasts(model_dir, path)`` writes the forecasts with
    the version's own copy of the model, so they come from exactly what is published.
    """
    missing = [str(p) for p in [*model_files, pipeline_model, report_dir] if not p.exists()]
    if missing:
        raise FileNotFoundError(f"cannot publish, missing artifacts: {missing}")

    def build(version: Path) -> dict[str, Any]:
        model_dir = version / MODEL_FOLDER
        if len(model_files) == 1 and model_files[0].is_dir():
            shutil.copytree(model_files[0], model_dir)
        else:
            model_dir.mkdir()
            for path in model_files:
                shutil.copy2(path, model_dir / path.name)
        shutil.copytree(pipeline_model, version / PIPELINE_MODEL_FOLDER)
        shutil.copytree(report_dir, version / REPORT_FOLDER)
        write_forecasts(model_dir, version / FORECASTS_FILE)
        files = [p.relative_to(version).as_posix() for p in model_dir.rglob("*") if p.is_file()]
        write_mlmodel(str(version), model, shape, files)
        return {"model": model, **metadata}

    return registry.register(build, mlflow_run_id=mlflow_run_id, replaces=replaces)
