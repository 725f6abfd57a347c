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

    from energy_forecast.features.arrays import list_row_groups
    from energy_forecast.features.manifest import FeaturesManifest
    from energy_forecast.serving.scoring import SavedModel, score
    from energy_forecast.training.evaluate import predict_split
    from tests.builders import save_untrained_lstm

    manifest = FeaturesManifest.load(small_features["manifest_path"])
    shape = manifest.shape
    model = save_untrained_lstm(shape, tmp_path)
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


@pytest.mark.spark
def test_an_xgboost_model_without_its_booster_file_is_refused_not_unpickled(
    spark, small_features: dict, small_baseline: dict[str, str], tmp_path: Path
) -> None:
    """xgboost.spark's own loader unpickles its estimator: a model folder on a shared volume
    is served only from the booster in XGBoost's JSON format."""
    import shutil

    from pyspark.sql import functions as F

    from energy_forecast.errors import InputError
    from energy_forecast.features.manifest import FeaturesManifest
    from energy_forecast.serving.scoring import SavedModel, score
    from energy_forecast.xgb.train import BOOSTER_FILE

    manifest = FeaturesManifest.load(small_features["manifest_path"])
    history = spark.read.parquet(str(small_features["validated"]))
    test_rows = history.filter(F.col("date").cast("string").isin(manifest.split_dates["test"]))
    without_booster = shutil.copytree(small_baseline["model"], tmp_path / "model")
    (without_booster / BOOSTER_FILE).unlink()

    with pytest.raises(InputError, match=f"has no {BOOSTER_FILE}"):
        score(SavedModel("xgboost", without_booster, manifest.pipeline_model), history, test_rows)
