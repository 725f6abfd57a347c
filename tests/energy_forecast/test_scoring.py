"""Scoring a saved model on chosen rows rebuilds exactly the features it was trained on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.mark.spark
def test_scoring_the_test_rows_reproduces_the_predictions_on_the_written_features(
    spark, small_features: dict, tmp_path: Path
) -> None:
    """Scoring reads only the sequence window before the first target day (3 of 7 days
    here); a window cut one day short would change the sequences and so the predictions."""
    from pyspark.sql import functions as F

    from energy_forecast.scoring import SavedModel, score
    from energy_forecast.training import artifacts
    from energy_forecast.training.dataset import FeatureShape, list_row_groups
    from energy_forecast.training.evaluate import predict_split
    from energy_forecast.training.manifest import FeaturesManifest
    from energy_forecast.training.model import LSTMConfig, build_model

    manifest = FeaturesManifest.load(small_features["manifest_path"])
    shape = FeatureShape(
        manifest.sequence_length, len(manifest.sequence_features), len(manifest.static_features)
    )
    config = LSTMConfig(
        sequence_length=shape.sequence_length,
        sequence_features=shape.sequence_features,
        static_features=shape.static_features,
        lstm_hidden_size=4,
        static_hidden_size=4,
        head_hidden_size=4,
    )
    model = build_model(config, seed=0)
    artifacts.save_model(model.state_dict(), config, tmp_path)
    history = spark.read.parquet(str(small_features["validated"]))
    test_dates = manifest.split_dates["test"]
    test_rows = history.filter(F.col("date").cast("string").isin(test_dates))

    scored = score(SavedModel("lstm", tmp_path, manifest.pipeline_model), history, test_rows)
    written = predict_split(
        model, list_row_groups(manifest.split_paths["test"]), shape, manifest.target_scale
    )

    assert manifest.sequence_length < len(manifest.split_dates["train"])  # the window bites
    joined = written.merge(scored, on=["household_id", "date"], suffixes=("_written", "_scored"))
    assert len(joined) == len(written) == test_rows.count() > 0
    np.testing.assert_allclose(
        joined["predicted_kwh_scored"], joined["predicted_kwh_written"], rtol=1e-5
    )
