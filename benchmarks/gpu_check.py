"""On a CUDA machine: train the LSTM on the real file on the GPU; print samples/s and RMSE.

    .venv/bin/python -m benchmarks.gpu_check [--csv PATH] [--epochs N] [--num-processes N]

The GPU path (a discovery script declaring the driver's GPUs to Spark, one DDP rank per GPU
over nccl) cannot run on the CPU machines where this project is built and tested, so this is
the one command someone with a GPU runs to show that it works and what it gains. It goes
the way the DAG goes, through the package's own functions: ``run_download`` on the file
(``source=local``), ``run_preprocess`` in a local Spark session, then ``run_training`` with
``use_gpu=True``, i.e. ``TorchDistributor`` in local mode. Everything is written to a
throwaway folder.

Without a CUDA device it stops at once, before reading anything. ``--allow-cpu`` runs the same
path with ``use_gpu=False`` instead, so the command itself can be tried on a laptop.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.benchmark import DEFAULT_CSV, master_for, steady_rate
from energy_forecast.training.device import cuda_device_count

NO_CUDA = "no CUDA device: this check needs a GPU (--allow-cpu runs the same path on the CPU)"


@dataclass(frozen=True)
class Result:
    """What the check prints: the training's own records, and the time of each stage."""

    devices: list[str]
    use_gpu: bool
    num_processes: int
    epochs_asked: int
    history: list[dict]
    test: dict[str, float]
    seconds: dict[str, float]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="the Kaggle file")
    parser.add_argument("--epochs", type=int, default=None, help="default: TrainSettings'")
    parser.add_argument(
        "--num-processes", type=int, default=None, help="DDP ranks; default: one per GPU"
    )
    parser.add_argument(
        "--allow-cpu", action="store_true", help="without CUDA, train on the CPU instead of failing"
    )
    return parser.parse_args(argv)


def build_features(csv: Path, root: Path) -> Path:
    """Validated data and features of ``csv`` under ``root``, as the DAG's first stages make
    them; returns the features manifest.

    The Spark session is stopped before training: the training session must start with the
    driver's GPUs in its configuration, and a running session would be reused without them.
    """
    from energy_forecast.features.app import run_preprocess
    from energy_forecast.ingest.download import run_download
    from energy_forecast.paths import DATA_ROOTS_ENV, RunLayout
    from energy_forecast.settings import FeatureSettings, IngestSettings, SparkResources
    from energy_forecast.spark.session import get_session

    os.environ[DATA_ROOTS_ENV] = str(csv.parent)  # where source=local may read from
    layout = RunLayout(root / "gpu-check")
    raw = run_download(IngestSettings(source="local", local_csv_path=str(csv)), layout)
    cores = os.cpu_count() or 2
    spark = get_session(
        "energy-forecast-gpu-check-features",
        master=f"local[{cores}]",
        conf=SparkResources().conf(cores=cores),
    )
    try:
        run_preprocess(spark, Path(raw["validated"]), layout.features_dir, FeatureSettings())
    finally:
        spark.stop()
    return layout.features_manifest


def train(
    manifest: Path, output_dir: Path, num_processes: int, epochs: int | None, gpu: bool
) -> tuple[dict, list[dict]]:
    """``run_training`` with ``use_gpu`` forced, so a GPU that cannot be used is an error
    naming the fix, never a quiet fallback to the CPU; returns its metrics and history."""
    from energy_forecast.settings import TrainSettings
    from energy_forecast.training.artifacts import read_history
    from energy_forecast.training.train import run_training

    epochs = epochs or TrainSettings().epochs
    settings = TrainSettings(num_processes=num_processes, epochs=epochs, use_gpu=gpu)
    outputs = run_training(settings, manifest, output_dir, master_for(num_processes))
    metrics = json.loads(Path(outputs["metrics"]).read_text())
    return metrics, read_history(output_dir)


def device_names(cuda_devices: int) -> list[str]:
    """Asked after training: naming a device starts a CUDA context in this process."""
    if not cuda_devices:
        return [f"CPU ({os.cpu_count()} cores)"]
    import torch

    return [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(cuda_devices)]


def run_check(args: argparse.Namespace, cuda_devices: int) -> Result:
    """Features, then training, timed apart: on a GPU the Spark stages can outweigh training."""
    num_processes = args.num_processes or max(1, cuda_devices)
    seconds = {}
    with tempfile.TemporaryDirectory(prefix="energy-forecast-gpu-check-") as tmp:
        started = time.perf_counter()
        manifest = build_features(args.csv.resolve(), Path(tmp))
        seconds["ingest_and_features"] = time.perf_counter() - started
        started = time.perf_counter()
        metrics, history = train(
            manifest, Path(tmp) / "lstm", num_processes, args.epochs, cuda_devices > 0
        )
        seconds["training"] = time.perf_counter() - started
    return Result(
        devices=device_names(cuda_devices),
        use_gpu=metrics["settings"]["use_gpu"],
        num_processes=num_processes,
        epochs_asked=metrics["settings"]["epochs"],
        history=history,
        test=metrics["splits"]["test"],
        seconds=seconds,
    )


def summary(result: Result) -> str:
    """A few aligned lines; samples/s as the benchmark measures it (``steady_rate``)."""
    epochs = len(result.history)
    best = min(result.history, key=lambda epoch: epoch["val_rmse_kwh"])["epoch"]
    over = {1: "the only epoch", 2: "epoch 2"}.get(epochs, f"epochs 2-{epochs}")
    total = sum(result.seconds.values())
    lines = [
        ("devices", ", ".join(result.devices)),
        ("trained on", "GPU" if result.use_gpu else "CPU (use_gpu=False)"),
        ("num_processes", str(result.num_processes)),
        ("epochs", f"{epochs} of {result.epochs_asked} (best validation: epoch {best})"),
        ("samples/s", f"{steady_rate(result.history):,.0f} (median over {over})"),
        ("test RMSE", f"{result.test['rmse']:.4f} kWh on {result.test['n']:,} rows"),
        (
            "wall time",
            f"{total:.1f} s: {result.seconds['ingest_and_features']:.1f} s ingest and "
            f"features, {result.seconds['training']:.1f} s training",
        ),
    ]
    return "\n".join(f"{label + ':':<15}{value}" for label, value in lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cuda_devices = cuda_device_count()
    if not cuda_devices and not args.allow_cpu:
        sys.exit(NO_CUDA)
    if not args.csv.is_file():
        sys.exit(f"{args.csv} not found: pass --csv with the Kaggle file")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its INFO lines are connection chatter
    print(summary(run_check(args, cuda_devices)))


if __name__ == "__main__":
    main()
