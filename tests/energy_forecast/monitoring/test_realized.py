"""A published forecast meets its actuals when a later run's data reaches its day: error and
interval coverage per forecast day and champion version."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from energy_forecast.monitoring.realized import (
    REALIZED_COLUMNS,
    joined_with_actuals,
    published_days,
    realized_accuracy,
)
from energy_forecast.serving.daily import forecasts_root, write_daily_tables
from energy_forecast.serving.intervals import with_intervals
from tests.builders import validated_frame


def forecasts_for(day: str, predicted: list[float], households: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "household_id": households,
            "date": pd.to_datetime([day] * len(households)),
            "predicted_kwh": predicted,
            "status": "forecast",
        }
    )
    return with_intervals(frame, {"80": 1.0, "95": 3.0})


@pytest.fixture
def validated(tmp_path: Path) -> Path:
    """Three households, 2025-04-01..07; energy set so the errors are known."""
    frame = validated_frame(households=3, days=7)
    frame.loc[frame["date"] == date(2025, 4, 6), "energy_kwh"] = [10.0, 10.0, 10.0]
    frame.loc[frame["date"] == date(2025, 4, 7), "energy_kwh"] = [5.0, 5.0, 5.0]
    path = tmp_path / "validated.parquet"
    frame.to_parquet(path, index=False)
    return path


def test_each_forecast_day_is_measured_against_its_actuals(tmp_path: Path, validated: Path) -> None:
    households = ["H00000", "H00001", "H00002"]
    write_daily_tables(
        forecasts_for("2025-04-06", [10.5, 12.0, 9.5], households), "1", root=tmp_path
    )
    write_daily_tables(forecasts_for("2025-04-07", [5.0, 5.0, 9.0], households), "2", root=tmp_path)

    realized = realized_accuracy(joined_with_actuals(forecasts_root(tmp_path), validated))

    assert list(realized.columns) == list(REALIZED_COLUMNS)
    first, second = realized.to_dict("records")
    assert (first["date"], first["champion_version"], first["n"]) == ("2025-04-06", "1", 3)
    assert first["mae_kwh"] == pytest.approx(1.0)  # |0.5|, |2|, |-0.5|
    assert first["rmse_kwh"] == pytest.approx(np.sqrt((0.25 + 4 + 0.25) / 3))
    assert first["bias_kwh"] == pytest.approx(2.0 / 3)  # forecast minus actual
    assert first["coverage_80"] == pytest.approx(2 / 3)  # radius 1: the 2 kWh miss is outside
    assert first["coverage_95"] == pytest.approx(1.0)
    assert (second["date"], second["champion_version"]) == ("2025-04-07", "2")
    assert second["rmse_kwh"] == pytest.approx(np.sqrt(16 / 3))
    assert second["coverage_95"] == pytest.approx(2 / 3)


def test_a_day_without_actuals_yet_and_stale_rows_are_not_measured(
    tmp_path: Path, validated: Path
) -> None:
    households = ["H00000", "H00001", "H00002"]
    stale = forecasts_for("2025-04-07", [5.0, 5.0, 5.0], households)
    stale.loc[2, ["status", "predicted_kwh"]] = ["stale", np.nan]
    write_daily_tables(stale, "1", root=tmp_path)
    write_daily_tables(forecasts_for("2025-04-08", [1.0, 1.0, 1.0], households), "1", root=tmp_path)

    realized = realized_accuracy(joined_with_actuals(forecasts_root(tmp_path), validated))

    assert realized["date"].tolist() == ["2025-04-07"]
    assert realized["n"].tolist() == [2]
    assert sorted(published_days(forecasts_root(tmp_path))) == ["2025-04-07", "2025-04-08"]


def test_no_published_forecast_gives_an_empty_series(tmp_path: Path, validated: Path) -> None:
    realized = realized_accuracy(joined_with_actuals(tmp_path / "none", validated))

    assert realized.empty and list(realized.columns) == list(REALIZED_COLUMNS)


def test_a_table_written_before_tables_named_their_version_is_measured_as_unknown(
    tmp_path: Path, validated: Path
) -> None:
    folder = forecasts_root(tmp_path) / "date=2025-04-06"
    folder.mkdir(parents=True)
    households = ["H00000", "H00001", "H00002"]
    forecasts_for("2025-04-06", [10.0, 11.0, 12.0], households).to_parquet(
        folder / "forecasts.parquet", index=False
    )

    realized = realized_accuracy(joined_with_actuals(forecasts_root(tmp_path), validated))

    assert realized[["date", "champion_version", "n"]].values.tolist() == [
        ["2025-04-06", "unknown", 3]
    ]
