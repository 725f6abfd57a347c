"""Calendar split: last test_days dates test, val_days before them validation."""

from __future__ import annotations

from datetime import date

import pytest

from energy_forecast.features.split import split_boundaries


def _days(*counts: int) -> dict[date, int]:
    return {date(2025, 4, i + 1): n for i, n in enumerate(counts)}


def test_last_dates_are_test_and_the_ones_before_validation():
    bounds = split_boundaries(_days(10, 10, 10, 10, 10), test_days=1, val_days=2)

    assert [bounds.split_of(d) for d in _days(*[1] * 5)] == [
        "train",
        "train",
        "val",
        "val",
        "test",
    ]


def test_a_partial_trailing_day_joins_the_test_split_without_moving_the_boundary():
    # The real file: seven full days and one household with an eighth.
    bounds = split_boundaries(_days(100, 100, 100, 100, 100, 100, 100, 1), 1, 1)

    assert bounds.test_start == date(2025, 4, 7)
    assert bounds.val_start == date(2025, 4, 6)
    assert bounds.split_of(date(2025, 4, 8)) == "test"


def test_too_few_dates_is_a_clear_error():
    with pytest.raises(ValueError, match="need at least 3 well-covered dates"):
        split_boundaries(_days(10, 10), test_days=1, val_days=1)
