"""MeanStdScaler: training statistics in, standardised columns out, persisted as Params."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.spark


def test_scales_each_column_with_its_mean_and_sample_std(spark):
    from energy_forecast.features.scaler import MeanStdScaler

    frame = spark.createDataFrame([(1.0, 10.0), (2.0, 10.0), (3.0, 10.0)], ["x", "c"])
    model = MeanStdScaler(inputCols=["x", "c"], outputCols=["x_s", "c_s"]).fit(frame)

    assert model.getMeans() == [2.0, 10.0]
    # sample std of 1, 2, 3 is 1; a constant column keeps std 1 instead of dividing by 0
    assert model.getStds() == [1.0, 1.0]
    rows = model.transform(frame).orderBy("x").collect()
    assert [r["x_s"] for r in rows] == [-1.0, 0.0, 1.0]
    assert [r["c_s"] for r in rows] == [0.0, 0.0, 0.0]


def test_statistics_come_only_from_the_rows_it_was_fitted_on(spark):
    from energy_forecast.features.scaler import MeanStdScaler

    train = spark.createDataFrame([(0.0,), (2.0,)], ["x"])
    other = spark.createDataFrame([(100.0,)], ["x"])
    model = MeanStdScaler(inputCols=["x"], outputCols=["x_s"]).fit(train)

    assert model.statistics() == {"x": {"mean": 1.0, "std": pytest.approx(2**0.5)}}
    assert model.transform(other).first()["x_s"] == pytest.approx(99.0 / 2**0.5)


def test_save_and_load_give_identical_output(spark, tmp_path):
    from energy_forecast.features.scaler import MeanStdScaler, MeanStdScalerModel

    frame = spark.createDataFrame([(1.0,), (4.0,), (9.0,)], ["x"])
    model = MeanStdScaler(inputCols=["x"], outputCols=["x_s"]).fit(frame)
    model.write().overwrite().save(str(tmp_path / "scaler"))
    loaded = MeanStdScalerModel.load(str(tmp_path / "scaler"))

    assert loaded.getMeans() == model.getMeans() and loaded.getStds() == model.getStds()
    assert loaded.transform(frame).collect() == model.transform(frame).collect()


def test_mismatched_input_and_output_columns_are_rejected(spark):
    from energy_forecast.features.scaler import MeanStdScaler

    frame = spark.createDataFrame([(1.0, 2.0)], ["a", "b"])
    with pytest.raises(ValueError, match="differ in length"):
        MeanStdScaler(inputCols=["a", "b"], outputCols=["a_s"]).fit(frame)


def test_fitting_on_no_rows_is_an_error(spark):
    from energy_forecast.features.scaler import MeanStdScaler

    empty = spark.createDataFrame([(1.0,)], ["x"]).limit(0)
    with pytest.raises(ValueError, match="empty"):
        MeanStdScaler(inputCols=["x"], outputCols=["x_s"]).fit(empty)
