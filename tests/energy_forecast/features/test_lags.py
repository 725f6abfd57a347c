"""LagFeatures: one column per previous day and feature, NaN where the day is missing."""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.spark


def test_masked_days_become_nan_and_static_features_follow(spark, tmp_path):
    from energy_forecast.features.lags import LagFeatures

    frame = spark.createDataFrame(
        [([[1.0, 2.0], [9.0, 9.0], [3.0, 4.0]], [1.0, 0.0, 1.0], [7.0, 1.0])],
        "sequence array<array<double>>, mask array<double>, static array<double>",
    )
    stage = LagFeatures()
    values = stage.transform(frame).first()["tabular_features"]

    assert values[:2] == [1.0, 2.0]
    assert all(math.isnan(v) for v in values[2:4])
    assert values[4:] == [3.0, 4.0, 7.0, 1.0]

    stage.write().overwrite().save(str(tmp_path / "lags"))
    reloaded = LagFeatures.load(str(tmp_path / "lags")).transform(frame).first()
    assert str(reloaded["tabular_features"]) == str(values)
