"""Predictions in kWh, from a model rebuilt out of its saved files alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from energy_forecast.features.arrays import FeatureShape
from energy_forecast.features.manifest import FeaturesManifest
from energy_forecast.metrics import PREDICTION_COLUMNS
from energy_forecast.training import artifacts
from energy_forecast.training.evaluate import predict_split, unscale
from energy_forecast.training.model import LSTMConfig, build_model
from tests.feature_files import write_features

CONFIG = LSTMConfig(sequence_length=7, sequence_features=3, static_features=3, lstm_hidden_size=8)


def test_unscale_maps_a_scaled_prediction_back_to_kwh() -> None:
    # 1.5 standard deviations above a 4.9 kWh mean with std 2.6 kWh is 8.8 kWh.
    assert unscale(np.array([1.5, 0.0, -1.0]), mean=4.9, std=2.6) == pytest.approx([8.8, 4.9, 2.3])


def test_saved_model_loads_with_weights_only_and_predicts_the_same(tmp_path: Path) -> None:
    model = build_model(CONFIG, seed=5).eval()
    artifacts.save_model(model.state_dict(), CONFIG, tmp_path)
    inputs = (torch.randn(6, 7, 3), torch.ones(6, 7), torch.randn(6, 3))

    state = torch.load(tmp_path / artifacts.MODEL_FILE, weights_only=True)
    loaded = artifacts.load_model(tmp_path)

    assert set(state) == set(model.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(loaded(*inputs), model(*inputs), rtol=0, atol=0)


def test_predictions_cover_every_row_in_the_shared_format(tmp_path: Path) -> None:
    manifest = FeaturesManifest.load(
        write_features(tmp_path, rows={"train": 20, "val": 30, "test": 10}, row_group_size=8)
    )
    model = build_model(CONFIG, seed=5)

    frame = predict_split(
        model, manifest.row_groups("val"), FeatureShape(7, 3, 3), manifest.target_scale, 7
    )

    assert list(frame.columns) == list(PREDICTION_COLUMNS)
    assert len(frame) == 30
    assert not frame.duplicated(["household_id", "date"]).any()
    assert set(frame["split"]) == {"val"}
    assert np.isfinite(frame["predicted_kwh"]).all()
