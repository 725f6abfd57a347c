"""The rows next-day forecasts are made from: the day after each household's own last row."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from tests.builders import START, validated_frame

pytestmark = pytest.mark.spark


def _next_day_rows(spark, validated: pd.DataFrame) -> pd.DataFrame:
    from energy_forecast.features.next_day import next_day_rows

    return next_day_rows(spark.createDataFrame(validated)).toPandas().set_index("household_id")


def _gaps() -> pd.DataFrame:
    """Three households over ten days: H00001 stops after day 7, H00002 after day 1."""
    missing = {(1, d) for d in range(7, 10)} | {(2, d) for d in range(1, 10)}
    return validated_frame(households=3, days=10, missing=missing)


def test_each_household_is_forecast_for_the_day_after_its_own_last_row(spark) -> None:
    rows = _next_day_rows(spark, _gaps())

    assert rows.loc["H00000", "date"] == START + timedelta(days=10)
    assert rows.loc["H00001", "date"] == START + timedelta(days=7)
    assert rows.loc["H00002", "last_observed_date"] == START
    assert rows.loc["H00001", "day_of_week"] == (START + timedelta(days=7)).strftime("%A")
    assert rows["energy_kwh"].isna().all() and rows["peak_hours_usage_kwh"].isna().all()


def test_the_households_mean_temperature_stands_in_for_the_unknown_day(spark) -> None:
    validated = _gaps()
    means = validated.groupby("household_id")["avg_temperature_c"].mean()

    rows = _next_day_rows(spark, validated)

    pd.testing.assert_series_equal(
        rows["avg_temperature_c"].sort_index(), means.sort_index(), check_names=False
    )


def test_the_other_columns_come_from_the_households_last_row(spark) -> None:
    validated = _gaps()
    last = validated.sort_values("date").groupby("household_id").last()

    rows = _next_day_rows(spark, validated)

    for column in ("household_size", "has_ac"):
        assert rows[column].sort_index().tolist() == last[column].sort_index().tolist()
