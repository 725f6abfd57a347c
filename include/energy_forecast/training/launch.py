"""The function TorchDistributor ships to every rank, importable without torch.

cloudpickle sends a module-level function by reference: each rank imports this module and
calls it. Handing the distributor ``entrypoint.train_fn`` itself would import torch into the
train task's own process (about 1.2 s, and its memory for the rest of the task) although
only the ranks train and evaluate.
"""

from __future__ import annotations

from typing import Any


def train_in_rank(
    features_manifest: str, output_dir: str, settings: dict[str, Any], use_gpu: bool = False
) -> str:
    """:func:`energy_forecast.training.entrypoint.train_fn`, imported in the rank."""
    from energy_forecast.training.entrypoint import train_fn

    return train_fn(features_manifest, output_dir, settings, use_gpu)
