"""The function every training process runs: ``TorchDistributor.run``, ``torchrun`` or a test.

It takes plain, picklable arguments (paths as strings, settings as a dict) so the distributor
can ship it to subprocesses or Spark executors, and it returns the same small value on every
rank: in local mode the distributor's ranks all write their return values to one file.
Rank 0 then scores the saved model, the file that is published, on the validation and test
rows: the ranks have torch loaded already, the task's own process never needs it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from energy_forecast.features.manifest import FeaturesManifest
from energy_forecast.metrics import write_predictions
from energy_forecast.runtime.long_lived import freezes_survivors
from energy_forecast.settings import TrainSettings
from energy_forecast.training import artifacts
from energy_forecast.training.dataset import TrainBatches
from energy_forecast.training.distributed import DistContext, process_group
from energy_forecast.training.evaluate import predict_split
from energy_forecast.training.model import LSTMConfig, build_model
from energy_forecast.training.sharding import rank_row_groups
from energy_forecast.training.trainer import Trainer, seed_everything

log = logging.getLogger(__name__)


# A rank process ends soon after this returns: with torch and torch._dynamo frozen, its exit
# took 0.2 s instead of 0.9 s, and the distributor's teardown waits on every rank's exit.
@freezes_survivors
def train_fn(
    features_manifest: str, output_dir: str, settings: dict[str, Any], use_gpu: bool = False
) -> str:
    """Train the LSTM on the manifest's train split; write ``model.pt`` and friends, and
    (rank 0) the saved model's predictions on the validation and test rows.

    ``settings`` holds :class:`TrainSettings` fields. Resumes from ``output_dir``'s snapshot
    when there is one. Returns ``output_dir`` on every rank.
    """
    _show_progress_logs()
    train_settings = TrainSettings(**{**settings, "use_gpu": use_gpu})
    manifest = FeaturesManifest.load(Path(features_manifest))
    out = Path(output_dir)
    with (
        _torch_runtime(use_gpu),
        process_group(
            use_gpu,
            train_settings.realtime_collectives,
            gloo_interface=train_settings.gloo_interface,
            rendezvous_timeout_s=train_settings.rendezvous_timeout_s,
        ) as context,
    ):
        _train(manifest, train_settings, context, out)
        if context.is_main:
            _write_predictions(manifest, out)
    return str(out)


def _train(
    manifest: FeaturesManifest, settings: TrainSettings, context: DistContext, out: Path
) -> None:
    # A function of its own so the trainer (and its DDP model) is gone when it returns,
    # before the process group is destroyed; see distributed.process_group.
    trainer = _build_trainer(manifest, settings, context, out)
    trainer.fit()
    trainer.save_final()


def _write_predictions(manifest: FeaturesManifest, out: Path) -> None:
    model = artifacts.load_model(out)
    predictions = pd.concat(
        [
            predict_split(model, manifest.row_groups(split), manifest.shape, manifest.target_scale)
            for split in artifacts.EVALUATED_SPLITS
        ],
        ignore_index=True,
    )
    write_predictions(predictions, out / artifacts.PREDICTIONS_FILE)


def _build_trainer(
    manifest: FeaturesManifest, settings: TrainSettings, context: DistContext, out: Path
) -> Trainer:
    shape = manifest.shape
    seed_everything(settings.seed)
    model = build_model(LSTMConfig.from_settings(settings, *shape), seed=settings.seed)
    train_data = TrainBatches(
        manifest.row_groups("train"),
        shape,
        settings.batch_size,
        rank=context.rank,
        world_size=context.world_size,
        num_workers=settings.loader_workers,
        seed=settings.seed,
    )
    val_groups = rank_row_groups(manifest.row_groups("val"), context.rank, context.world_size)
    if context.is_main:
        out.mkdir(parents=True, exist_ok=True)
        log.info(
            "training on %d processes (%s), %d batches per rank and epoch, settings %s",
            context.world_size,
            context.device,
            train_data.batches_per_rank(),
            dataclasses.asdict(settings),
        )
    return Trainer(
        model,
        train_data,
        val_groups,
        settings,
        context,
        out,
        target_std=manifest.target_scale.std,
        features_fingerprint=manifest.fingerprint,
    )


@contextmanager
def _torch_runtime(use_gpu: bool) -> Iterator[None]:
    """CPU runs: deterministic kernels and one intra-op thread per rank, restored afterwards.

    Deterministic kernels cost nothing on CPU (on CUDA they need workspace settings and
    speed). The LSTM's operations are too small to gain from intra-op threads; ranks bring
    the parallelism. A lone rank with two threads on a busy 2-core machine measured 20x
    slower than with one. An explicit ``OMP_NUM_THREADS`` wins.
    """
    deterministic = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    if not use_gpu:
        torch.use_deterministic_algorithms(True)
        if "OMP_NUM_THREADS" not in os.environ:
            torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)


def _show_progress_logs() -> None:
    # A distributor subprocess starts with unconfigured logging; without a handler the
    # per-epoch lines would be lost instead of reaching the Airflow task log.
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("energy_forecast.training").setLevel(logging.INFO)
