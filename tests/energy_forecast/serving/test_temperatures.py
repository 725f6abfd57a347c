"""A temperature forecast table: typed, one row per household and day, bad rows left out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from energy_forecast.serving.temperatures import FORECAST_TEMPERATURE, read_temperature_forecasts


def test_a_csv_table_is_typed_and_deduplicated(tmp_path: Path) -> None:
    path = tmp_path / "temperatures.csv"
    path.write_text(
        "household_id,date,temperature_c\n"
        "00042,2025-04-08,31.5\n"
        "00042,2025-04-08,12.0\n"
        "H7,2025-04-09,-3\n"
    )

    table = read_temperature_forecasts(path)

    assert table.to_dict("records") == [
        {"household_id": "00042", "date": date(2025, 4, 8), FORECAST_TEMPERATURE: 31.5},
        {"household_id": "H7", "date": date(2025, 4, 9), FORECAST_TEMPERATURE: -3.0},
    ]


def test_rows_without_a_usable_date_or_temperature_are_left_out_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "temperatures.csv"
    path.write_text(
        "household_id,date,temperature_c\nA,2025-04-08,warm\nB,someday,20\nC,2025-04-08,21\n"
    )

    table = read_temperature_forecasts(path)

    assert table["household_id"].tolist() == ["C"]
    assert "2 of 3 rows have no usable date or temperature" in caplog.text


def test_a_table_without_the_temperature_column_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "temperatures.csv"
    path.write_text("household_id,date,temp\nA,2025-04-08,20\n")

    with pytest.raises(ValueError, match=r"lack column\(s\) \['temperature_c'\]"):
        read_temperature_forecasts(path)
