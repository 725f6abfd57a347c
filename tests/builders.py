"""Small validated data sets for tests, in the format the download stage writes."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

START = date(2025, 4, 1)


def validated_frame(
    households: int = 40,
    days: int = 7,
    seed: int = 0,
    missing: Collection[tuple[int, int]] = (),
) -> pd.DataFrame:
    """Random but plausible rows for ``households`` x ``days`` from 2025-04-01.

    ``missing`` holds (household, day) indices to leave out, to make calendar gaps.
    """
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        [
            {
                "household_id": f"H{h:05d}",
                "date": START + timedelta(days=d),
                "day_of_week": (START + timedelta(days=d)).strftime("%A"),
                "energy_kwh": float(rng.uniform(1, 15)),
                "household_size": int(rng.integers(1, 6)),
                "avg_temperature_c": float(rng.uniform(10, 30)),
                "has_ac": bool(h % 2),
                "peak_hours_usage_kwh": float(rng.uniform(0.5, 4)),
            }
            for h in range(households)
            for d in range(days)
            if (h, d) not in missing
        ]
    )


def save_untrained_lstm(shape: Any, folder: Path) -> Any:
    """A tiny untrained LSTM (hidden sizes 4, seed 0) for a ``FeatureShape``, saved in
    ``folder``: scoring tests need a model whose inputs fit, not a good one."""
    from energy_forecast.training import artifacts
    from energy_forecast.training.model import LSTMConfig, build_model

    config = LSTMConfig(
        sequence_length=shape.sequence_length,
        sequence_features=shape.sequence_features,
        static_features=shape.static_features,
        lstm_hidden_size=4,
        static_hidden_size=4,
        head_hidden_size=4,
    )
    model = build_model(config, seed=0)
    artifacts.save_model(model.state_dict(), config, folder)
    return model
