"""Every figure is drawn headless into a PNG file, households picked deterministically."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.image import imread

from energy_forecast.report import plots

DAYS = [date(2025, 4, 1) + timedelta(days=i) for i in range(6)]
VALIDATED = pd.DataFrame(
    [(f"H{h}", d, float(h + i)) for h in range(3) for i, d in enumerate(DAYS)],
    columns=["household_id", "date", "energy_kwh"],
)


def predictions(offset: float) -> pd.DataFrame:
    rows = VALIDATED[VALIDATED["date"] >= DAYS[4]]
    return pd.DataFrame(
        {
            "household_id": rows["household_id"],
            "date": rows["date"],
            "split": np.where(rows["date"] == DAYS[4], "val", "test"),
            "actual_kwh": rows["energy_kwh"],
            "predicted_kwh": rows["energy_kwh"] + offset,
        }
    )


PREDICTIONS = {"lstm": predictions(0.5), "persistence": predictions(-1.0)}


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert imread(path).shape[0] > 100
    assert not path.with_name(path.name + ".tmp").exists()


def test_each_figure_is_written_as_a_png(tmp_path: Path) -> None:
    history = [{"epoch": e, "train_rmse_kwh": 2.0 / e, "val_rmse_kwh": 2.5 / e} for e in (1, 2, 3)]

    written = [
        plots.plot_predicted_vs_actual(PREDICTIONS, tmp_path / "scatter.png"),
        plots.plot_error_distributions(PREDICTIONS, tmp_path / "errors.png"),
        plots.plot_learning_curves({"lstm": history}, tmp_path / "curve.png"),
        plots.plot_households(VALIDATED, PREDICTIONS, ["H0", "H2"], tmp_path / "homes.png"),
    ]

    for path in written:
        assert_png(path)


def test_households_are_spread_evenly_over_the_sorted_ids() -> None:
    frame = pd.DataFrame({"household_id": [f"H{i:02d}" for i in range(10, 0, -1)]})

    assert plots.pick_households(frame, 4) == ["H01", "H04", "H07", "H10"]
    assert plots.pick_households(frame.head(2), 4) == ["H09", "H10"]
