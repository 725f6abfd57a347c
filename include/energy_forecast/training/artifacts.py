"""Files the training writes into its output folder, and how to read them back.

``model.pt`` holds only a ``state_dict`` (tensors), so it loads with
``torch.load(weights_only=True)``: loading never executes pickled code. ``model_config.json``
rebuilds the module around it. Every file is written to a temporary name and renamed into
place, so a reader (or a retried task) never sees half a file.

torch is imported only where a file holds tensors: the train task's own process names these
files and reads the history without ever loading torch (the ranks do the training).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energy_forecast.runtime.atomic import atomic_file, write_text

if TYPE_CHECKING:
    import torch

    from energy_forecast.training.model import LSTMConfig, LSTMRegressor

MODEL_FILE = "model.pt"
CONFIG_FILE = "model_config.json"
HISTORY_FILE = "history.json"
SNAPSHOT_FILE = "checkpoint.pt"
#: The published model's kWh predictions on these splits' rows; rank 0 writes them.
PREDICTIONS_FILE = "predictions.parquet"
EVALUATED_SPLITS: tuple[str, ...] = ("val", "test")


def save_atomic(payload: Any, path: Path) -> Path:
    """``torch.save`` to a temporary file, then rename over ``path``."""
    import torch

    with atomic_file(path) as tmp:
        torch.save(payload, tmp)
    return path


def save_model(state_dict: dict[str, torch.Tensor], config: LSTMConfig, output_dir: Path) -> Path:
    """Write ``model.pt`` and ``model_config.json``; returns the model path."""
    write_text(output_dir / CONFIG_FILE, config.to_json())
    return save_atomic(
        {k: v.detach().cpu() for k, v in state_dict.items()}, output_dir / MODEL_FILE
    )


def load_model(output_dir: Path, device: torch.device | str = "cpu") -> LSTMRegressor:
    """Rebuild the trained model from ``model_config.json`` and ``model.pt``, in eval mode."""
    import torch

    from energy_forecast.training.model import LSTMConfig, LSTMRegressor

    config = LSTMConfig.from_json((output_dir / CONFIG_FILE).read_text())
    model = LSTMRegressor(config)
    state = torch.load(output_dir / MODEL_FILE, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.to(device).eval()


def write_history(history: list[dict[str, Any]], output_dir: Path) -> Path:
    return write_text(output_dir / HISTORY_FILE, json.dumps(history, indent=2) + "\n")


def read_history(output_dir: Path) -> list[dict[str, Any]]:
    return json.loads((output_dir / HISTORY_FILE).read_text())
