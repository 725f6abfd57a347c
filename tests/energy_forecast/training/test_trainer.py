"""The training loop, run in-process as a world of one through the real entry point.

The two-process path through TorchDistributor is covered in ``test_train.py``; these tests pin
down what must hold whatever the world size: repeatability, resumption, early stopping.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from energy_forecast.features.arrays import FeatureShape
from energy_forecast.features.manifest import FeaturesManifest
from energy_forecast.settings import TrainSettings
from energy_forecast.training import artifacts
from energy_forecast.training.entrypoint import train_fn
from energy_forecast.training.evaluate import predict_split
from tests.feature_files import write_features

SMALL = TrainSettings(
    num_processes=1,
    epochs=3,
    batch_size=64,
    lstm_hidden_size=8,
    static_hidden_size=4,
    head_hidden_size=8,
    seed=11,
)
_TIMINGS = ("samples_per_s", "elapsed_s")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("features")
    return write_features(root, rows={"train": 384, "val": 96, "test": 96}, row_group_size=48)


def _train(manifest: Path, out: Path, settings: TrainSettings = SMALL) -> list[dict[str, Any]]:
    assert train_fn(str(manifest), str(out), dataclasses.asdict(settings)) == str(out)
    return artifacts.read_history(out)


def _metrics(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in epoch.items() if k not in _TIMINGS} for epoch in history]


def test_the_same_seed_and_data_give_identical_metrics_and_weights(
    manifest: Path, tmp_path: Path
) -> None:
    first = _train(manifest, tmp_path / "first")
    second = _train(manifest, tmp_path / "second")

    assert _metrics(first) == _metrics(second)
    weights = [
        torch.load(tmp_path / run / artifacts.MODEL_FILE, weights_only=True)
        for run in ("first", "second")
    ]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_history_has_one_entry_per_epoch_with_rmse_in_kwh(manifest: Path, tmp_path: Path) -> None:
    history = _train(manifest, tmp_path / "run")

    assert [e["epoch"] for e in history] == [1, 2, 3]
    assert set(history[0]) == {"epoch", "train_rmse_kwh", "val_rmse_kwh", *_TIMINGS}
    assert all(e["val_rmse_kwh"] > 0 and e["samples_per_s"] > 0 for e in history)
    assert history[-1]["train_rmse_kwh"] < history[0]["train_rmse_kwh"]


def test_a_rerun_with_more_epochs_resumes_and_matches_an_uninterrupted_run(
    manifest: Path, tmp_path: Path
) -> None:
    two = dataclasses.replace(SMALL, epochs=2)
    first_part = _train(manifest, tmp_path / "resumed", two)
    resumed = _train(manifest, tmp_path / "resumed", SMALL)
    uninterrupted = _train(manifest, tmp_path / "straight", SMALL)

    assert [e["epoch"] for e in resumed] == [1, 2, 3]
    assert resumed[:2] == first_part  # epochs 1-2 come from the snapshot, not a retrain
    assert _metrics(resumed) == _metrics(uninterrupted)


def test_a_finished_run_rerun_trains_nothing_more(manifest: Path, tmp_path: Path) -> None:
    history = _train(manifest, tmp_path / "run")

    assert _train(manifest, tmp_path / "run") == history


def test_a_snapshot_from_other_hyper_parameters_is_ignored(manifest: Path, tmp_path: Path) -> None:
    _train(manifest, tmp_path / "run", SMALL)
    wider = dataclasses.replace(SMALL, epochs=2, lstm_hidden_size=16)

    history = _train(manifest, tmp_path / "run", wider)

    assert [e["epoch"] for e in history] == [1, 2]
    assert _metrics(history) == _metrics(_train(manifest, tmp_path / "fresh", wider))


def test_a_snapshot_from_other_features_is_ignored(manifest: Path, tmp_path: Path) -> None:
    """Re-running preprocessing for the same run must retrain, not publish the old model."""
    _train(manifest, tmp_path / "run", SMALL)
    other = write_features(tmp_path / "features", rows={"train": 192, "val": 48, "test": 48})

    history = _train(other, tmp_path / "run", SMALL)

    assert _metrics(history) == _metrics(_train(other, tmp_path / "fresh", SMALL))


def test_early_stopping_keeps_the_best_epoch_weights(manifest: Path, tmp_path: Path) -> None:
    """A high learning rate makes validation RMSE bounce, so patience runs out early."""
    settings = dataclasses.replace(SMALL, epochs=30, patience=2, learning_rate=0.3)
    history = _train(manifest, tmp_path / "run", settings)

    val = [e["val_rmse_kwh"] for e in history]
    best = int(np.argmin(val))
    assert len(history) < settings.epochs
    assert len(history) == best + 1 + settings.patience
    loaded = FeaturesManifest.load(manifest)
    predictions = predict_split(
        artifacts.load_model(tmp_path / "run"),
        loaded.row_groups("val"),
        FeatureShape(7, 3, 3),
        loaded.target_scale,
    )
    error = predictions["predicted_kwh"] - predictions["actual_kwh"]
    assert np.sqrt(np.mean(error**2)) == pytest.approx(val[best], rel=1e-5)
