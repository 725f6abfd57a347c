"""The Airflow task's call: two DDP processes via TorchDistributor, then metrics in kWh."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import logging
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from energy_forecast.settings import TrainSettings
from energy_forecast.spark.cluster import InsufficientSlotsError
from energy_forecast.training import artifacts
from energy_forecast.training.device import cuda_device_count
from energy_forecast.training.train import run_training
from tests.feature_files import write_features

ROWS = {"train": 512, "val": 96, "test": 64}
SETTINGS = TrainSettings(
    num_processes=2,
    local_mode=True,
    use_gpu=False,
    epochs=2,
    batch_size=64,
    lstm_hidden_size=8,
    static_hidden_size=4,
    head_hidden_size=8,
)
MASTER = "local[2]"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_features(tmp_path_factory.mktemp("features"), rows=ROWS, row_group_size=64)


@pytest.fixture(scope="module")
def first_run(spark: object, manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_training(SETTINGS, manifest, tmp_path_factory.mktemp("lstm"), MASTER)


@pytest.mark.spark
def test_two_local_processes_write_model_history_predictions_and_metrics(first_run: dict) -> None:
    assert set(first_run) == {"model", "model_config", "predictions", "metrics", "history"}
    assert all(Path(p).is_file() for p in first_run.values())

    predictions = pd.read_parquet(first_run["predictions"])
    assert predictions["split"].value_counts().to_dict() == {"val": 96, "test": 64}

    metrics = json.loads(Path(first_run["metrics"]).read_text())
    assert metrics["model"] == "lstm"
    assert metrics["splits"]["val"]["n"] == 96 and metrics["splits"]["test"]["n"] == 64
    assert metrics["epochs_run"] == 2 and metrics["best_epoch"] in (1, 2)
    assert metrics["train_seconds"] > 0 and metrics["samples_per_s"] > 0
    assert metrics["settings"]["num_processes"] == 2 and metrics["settings"]["use_gpu"] is False

    history = json.loads(Path(first_run["history"]).read_text())
    best_val = min(e["val_rmse_kwh"] for e in history)
    # The published model is the best epoch's, evaluated on every validation row.
    assert metrics["splits"]["val"]["rmse"] == pytest.approx(best_val, rel=1e-5)


@pytest.mark.spark
def test_a_rerun_with_one_more_epoch_resumes_instead_of_starting_over(
    first_run: dict, manifest: Path
) -> None:
    output_dir = Path(first_run["model"]).parent
    before = artifacts.read_history(output_dir)

    run_training(dataclasses.replace(SETTINGS, epochs=3), manifest, output_dir, MASTER)

    after = artifacts.read_history(output_dir)
    assert [e["epoch"] for e in after] == [1, 2, 3]
    assert after[:2] == before


@pytest.mark.spark
def test_training_on_executors_as_barrier_tasks_uses_the_cpu_when_tasks_have_no_gpu(
    spark: object, manifest: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = dataclasses.replace(SETTINGS, local_mode=False, epochs=1, use_gpu=None)

    with caplog.at_level(logging.INFO, logger="energy_forecast.training.train"):
        paths = run_training(settings, manifest, tmp_path, MASTER)

    assert "training on CPU: the cluster gives Spark tasks no GPU" in caplog.text
    assert [e["epoch"] for e in artifacts.read_history(tmp_path)] == [1]
    assert json.loads(Path(paths["metrics"]).read_text())["splits"]["test"]["n"] == 64


@pytest.mark.spark
def test_more_processes_than_task_slots_is_refused_before_training(
    spark: object, manifest: Path, tmp_path: Path
) -> None:
    settings = dataclasses.replace(SETTINGS, local_mode=False, num_processes=3)

    with pytest.raises(InsufficientSlotsError, match=r"needs 3 concurrent Spark tasks.*holds 2"):
        run_training(settings, manifest, tmp_path, MASTER)
    assert not (tmp_path / artifacts.SNAPSHOT_FILE).exists()


def test_a_missing_manifest_fails_before_spark_starts(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="manifest"):
        run_training(SETTINGS, tmp_path / "manifest.json", tmp_path / "out", MASTER)


def test_too_few_training_row_groups_fail_before_spark_starts(tmp_path: Path) -> None:
    manifest = write_features(tmp_path / "features", rows=ROWS, row_group_size=512)

    with pytest.raises(ValueError, match="1 row groups but needs at least 2"):
        run_training(SETTINGS, manifest, tmp_path / "out", MASTER)


@pytest.mark.skipif(cuda_device_count() > 0, reason="this machine has CUDA")
def test_use_gpu_true_without_cuda_fails_before_spark_starts(
    manifest: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="use_gpu=true was requested, but no CUDA device"):
        run_training(dataclasses.replace(SETTINGS, use_gpu=True), manifest, tmp_path, MASTER)
    assert not (tmp_path / artifacts.SNAPSHOT_FILE).exists()


_LAUNCHER_IMPORTS = """
import sys
from energy_forecast.training import device, train
print(device.cuda_device_count(), "torch" in sys.modules)
"""


@pytest.mark.skipif(
    not importlib.metadata.version("torch").endswith("+cpu"),
    reason="a CUDA build of torch must be imported to count devices",
)
def test_the_task_process_plans_and_launches_training_without_importing_torch() -> None:
    # Only the ranks train and evaluate; torch in the task's own process would cost its
    # import time and memory for nothing (the ranks get train_in_rank by reference).
    launcher = subprocess.run(
        [sys.executable, "-c", _LAUNCHER_IMPORTS], capture_output=True, text=True, check=True
    )
    assert launcher.stdout.split() == ["0", "False"]
