"""Predict a split with the trained model and express the predictions in kWh.

The model regresses the standardised target; the report compares models in kWh. Un-scaling
is a pure function of the scaler statistics the manifest copied from the fitted pipeline,
so it is tested once and reused everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from energy_forecast import columns as C
from energy_forecast.features.arrays import (
    MODEL_COLUMNS,
    FeatureShape,
    RowGroup,
    decode,
    read_row_group,
)
from energy_forecast.features.manifest import Scale
from energy_forecast.training.dataset import to_batch
from energy_forecast.training.model import LSTMRegressor

_ID_COLUMNS = (C.HOUSEHOLD, C.DATE, C.SPLIT, C.TARGET_KWH)


def unscale(values: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Undo standardisation: ``values * std + mean``."""
    return np.asarray(values, dtype=np.float64) * std + mean


@torch.no_grad()
def predict_scaled(
    model: LSTMRegressor, arrays: dict[str, np.ndarray], batch_size: int = 4096
) -> np.ndarray:
    """The model's scaled predictions for decoded arrays (see :func:`dataset.decode`), a
    batch at a time: activations for a million rows at once would take gigabytes."""
    model.eval()
    device = next(model.parameters()).device
    predictions = [np.empty(0)]
    for start in range(0, len(arrays["target"]), batch_size):
        batch = to_batch({k: v[start : start + batch_size] for k, v in arrays.items()})
        batch = batch.to(device)
        predictions.append(model(batch.sequence, batch.mask, batch.static).double().cpu().numpy())
    return np.concatenate(predictions)


def predict_split(
    model: LSTMRegressor,
    groups: Sequence[RowGroup],
    shape: FeatureShape,
    scale: Scale,
    batch_size: int = 4096,
) -> pd.DataFrame:
    """Predictions in the shared format for every row of ``groups``, read group by group."""
    frames = []
    for group in groups:
        table = read_row_group(group, (*_ID_COLUMNS, *MODEL_COLUMNS))
        scaled = predict_scaled(model, decode(table, shape), batch_size)
        frames.append(
            pd.DataFrame(
                {
                    "household_id": table.column(C.HOUSEHOLD).to_pandas(),
                    "date": table.column(C.DATE).to_pandas(),
                    "split": table.column(C.SPLIT).to_pandas(),
                    "actual_kwh": table.column(C.TARGET_KWH).to_numpy(),
                    "predicted_kwh": unscale(scaled, scale.mean, scale.std),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
