"""A champion is degraded when the realized RMSE of its own recent forecast days breaks its
promise by more than the tolerance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from energy_forecast.monitoring.degradation import Degradation, assess


def series(*rows: tuple[str, str, int, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["date", "champion_version", "n", "rmse_kwh"])


def test_realized_error_beyond_the_tolerance_is_degraded() -> None:
    verdict = assess(series(("2025-04-07", "2", 100, 2.0)), "2", 1.4, 7, 0.25)

    assert verdict.degraded and verdict.realized_rmse_kwh == pytest.approx(2.0)
    assert "version 2 is degraded" in verdict.reason and "limit 1.7500 kWh" in verdict.reason


def test_realized_error_within_the_tolerance_holds() -> None:
    verdict = assess(series(("2025-04-07", "2", 100, 1.6)), "2", 1.4, 7, 0.25)

    assert not verdict.degraded and "holds" in verdict.reason


def test_the_window_pools_the_latest_days_weighted_by_rows() -> None:
    realized = series(
        ("2025-04-05", "2", 100, 9.0),  # outside a two-day window
        ("2025-04-06", "2", 100, 1.0),
        ("2025-04-07", "2", 300, 2.0),
    )

    verdict = assess(realized, "2", 1.0, 2, 0.5)

    assert verdict.days == ("2025-04-06", "2025-04-07") and verdict.rows == 400
    assert verdict.realized_rmse_kwh == pytest.approx(((100 * 1 + 300 * 4) / 400) ** 0.5)
    assert verdict.degraded


def test_only_the_current_champions_own_forecasts_count() -> None:
    realized = series(("2025-04-06", "1", 100, 9.0))

    verdict = assess(realized, "2", 1.4, 7, 0.25)

    assert not verdict.degraded and "no forecast of version 2" in verdict.reason


def test_without_a_champion_nothing_is_degraded() -> None:
    assert not assess(series(), None, None, 7, 0.25).degraded


def test_the_verdict_reads_back_as_written(tmp_path: Path) -> None:
    verdict = assess(series(("2025-04-07", "2", 100, 2.0)), "2", 1.4, 7, 0.25)

    assert Degradation.load(verdict.save(tmp_path / "degradation.json")) == verdict
