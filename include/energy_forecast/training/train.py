"""The DAG's LSTM task: check inputs, train with TorchDistributor, evaluate, write metrics.

Training runs in ``settings.num_processes`` DDP processes started by Spark's
``TorchDistributor``: as local subprocesses of this task (``local_mode=True``) or as barrier
tasks on the Spark executors (``local_mode=False``, the cluster path). Rank 0 then scores
the saved model, so the metrics describe exactly the file that is published, and this
process turns its predictions into metrics: it never imports torch (see ``launch.py``).

Why a TaskFlow task rather than a second ``SparkSubmitOperator``: ``TorchDistributor`` only
needs a SparkSession in the calling process, and owning that process lets the task return
its artifact paths through XCom directly (spark-submit returns nothing), keeps the per-epoch
log lines in the Airflow task log, and makes a retry resume from the checkpoint with no
extra plumbing. With ``local_mode=False`` the training itself still runs on the cluster's
executors; the price is that the Airflow worker is the Spark driver (client mode), so it
must be able to reach the master named by the ``spark_default`` connection.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from energy_forecast import metrics
from energy_forecast.features.manifest import FeaturesManifest
from energy_forecast.settings import SparkResources, TrainSettings
from energy_forecast.spark.cluster import wait_for_task_slots
from energy_forecast.training import artifacts, device
from energy_forecast.training.launch import train_in_rank
from energy_forecast.training.sharding import check_shardable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
MODEL_NAME = "lstm"


def _plan_local_device(settings: TrainSettings, cuda_devices: int) -> device.DevicePlan | None:
    """Local mode is planned before Spark starts: the driver's GPUs go into its conf."""
    if not settings.local_mode:
        return None
    script = None
    if cuda_devices and settings.use_gpu is not False:
        script = device.write_discovery_script(Path(tempfile.mkdtemp()), cuda_devices)
    return device.plan_device(
        settings.use_gpu,
        cuda_devices,
        local_mode=True,
        num_processes=settings.num_processes,
        cluster_gpus_per_task=None,
        discovery_script=script,
    )


def _task_gpus(spark: SparkSession) -> float | None:
    amount = spark.sparkContext.getConf().get(device.TASK_GPU_AMOUNT, None)
    return float(amount) if amount else None


def run_training(
    settings: TrainSettings,
    features_manifest: Path,
    output_dir: Path,
    spark_master: str,
    resources: SparkResources | None = None,
    master_web_ui: str | None = None,
) -> dict[str, str]:
    """Train, evaluate on val and test, and return the paths of what was written.

    The application declares ``settings.spark_cores`` cores, so on a cluster it holds one
    slot per rank (``local_mode=False``) and leaves the rest to the baseline beside it.
    """
    from pyspark.ml.torch.distributor import TorchDistributor

    from energy_forecast.spark.session import get_session

    manifest = FeaturesManifest.load(Path(features_manifest).resolve())
    groups = manifest.validate_splits()
    check_shardable(len(groups["train"]), settings.num_processes, settings.loader_workers)
    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)

    cuda_devices = device.cuda_device_count()
    local_plan = _plan_local_device(settings, cuda_devices)
    conf = (resources or SparkResources()).conf(cores=settings.spark_cores)
    conf.update(local_plan.driver_conf if local_plan else {})
    spark = get_session(
        "energy-forecast-train", master=spark_master, conf=conf, web_ui=master_web_ui
    )
    plan = local_plan or device.plan_device(
        settings.use_gpu,
        cuda_devices,
        local_mode=False,
        num_processes=settings.num_processes,
        cluster_gpus_per_task=_task_gpus(spark),
        discovery_script=None,
    )
    log.info("training on %s: %s", "GPU" if plan.use_gpu else "CPU", plan.reason)
    use_gpu = plan.use_gpu
    if not settings.local_mode:
        purpose = f"local_mode=False with num_processes={settings.num_processes} (barrier tasks)"
        wait_for_task_slots(spark, settings.num_processes, purpose, web_ui=master_web_ui)
    settings = dataclasses.replace(settings, use_gpu=use_gpu)

    started = time.perf_counter()
    TorchDistributor(
        num_processes=settings.num_processes, local_mode=settings.local_mode, use_gpu=use_gpu
    ).run(train_in_rank, str(manifest.path), str(output_dir), dataclasses.asdict(settings), use_gpu)
    train_seconds = time.perf_counter() - started

    predictions_path = output_dir / artifacts.PREDICTIONS_FILE
    predictions = pd.read_parquet(predictions_path)
    history = artifacts.read_history(output_dir)
    summary = {
        "model": MODEL_NAME,
        "splits": metrics.metrics_by_split(predictions),
        "train_seconds": round(train_seconds, 3),
        "samples_per_s": statistics.fmean(e["samples_per_s"] for e in history),
        "epochs_run": len(history),
        "best_epoch": min(history, key=lambda e: e["val_rmse_kwh"])["epoch"],
        "settings": dataclasses.asdict(settings),
    }
    log.info("LSTM metrics: %s", summary["splits"])
    return {
        "model": str(output_dir / artifacts.MODEL_FILE),
        "model_config": str(output_dir / artifacts.CONFIG_FILE),
        "predictions": str(predictions_path),
        "metrics": str(metrics.write_json(summary, output_dir / METRICS_FILE)),
        "history": str(output_dir / artifacts.HISTORY_FILE),
    }
