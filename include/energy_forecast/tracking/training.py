"""What a training try records on its child run: Params, per-epoch (or per-round) RMSE, the
split metrics and the model's files with their signature."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from energy_forecast.features.arrays import FeatureShape
from energy_forecast.tracking.runs import TRY_TAG, DagRunTracker, flat_params
from energy_forecast.tracking.signature import write_mlmodel

MODEL_ARTIFACTS = "model"


def log_trained_model(
    tracker: DagRunTracker,
    child_run_id: str,
    model: str,
    metrics_path: Path,
    model_files: Sequence[Path],
    shape: FeatureShape,
    history: Sequence[dict[str, Any]],
    step_key: str,
    try_number: int,
) -> None:
    """Log one finished training try and mark its child run finished.

    ``metrics_path`` is the training's ``metrics.json`` (its ``settings`` become Params, its
    ``splits`` the val and test metrics in kWh); ``model_files`` are files or one folder,
    uploaded under ``model/`` beside an ``MLmodel`` holding the signature.
    """
    summary = json.loads(Path(metrics_path).read_text())
    split_metrics = {
        f"{split}_{name}": value
        for split, values in summary.get("splits", {}).items()
        for name, value in values.items()
    }
    tracker.log(
        child_run_id,
        params=flat_params(summary.get("settings", {})),
        metrics=split_metrics,
        tags={TRY_TAG: try_number},
    )
    tracker.log_history(child_run_id, history, step_key)
    with tempfile.TemporaryDirectory(prefix="energy-forecast-model-") as folder:
        staged = Path(folder)
        for path in model_files:
            if path.is_dir():
                shutil.copytree(path, staged / path.name)
            else:
                shutil.copy2(path, staged / path.name)
        files = [p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()]
        write_mlmodel(str(staged), model, shape, files)
        tracker.log_artifacts(child_run_id, staged, MODEL_ARTIFACTS)
    tracker.finish(child_run_id)
