"""Time-based train/validation/test split on calendar dates.

The last ``test_days`` well-covered dates are the test set and the ``val_days`` before them
validation; everything earlier trains. A date with fewer than half the median rows per date
is a partial day (the real file has one household with an extra 4/8): it is not counted as a
split boundary, and its rows join whichever split its date falls in, so no row is dropped.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

_PARTIAL_DAY_FRACTION = 0.5


@dataclass(frozen=True)
class SplitBoundaries:
    """First date of the validation and test splits; earlier dates are training."""

    val_start: date
    test_start: date

    def split_of(self, day: date) -> str:
        if day >= self.test_start:
            return "test"
        if day >= self.val_start:
            return "val"
        return "train"


def split_boundaries(
    rows_per_date: Mapping[date, int], test_days: int, val_days: int
) -> SplitBoundaries:
    """Choose split boundaries from the number of rows on each date."""
    if test_days < 1 or val_days < 1:
        raise ValueError("test_days and val_days must be >= 1")
    if not rows_per_date:
        raise ValueError("cannot split an empty data set")
    median_rows = statistics.median(rows_per_date.values())
    covered = sorted(
        d for d, n in rows_per_date.items() if n >= _PARTIAL_DAY_FRACTION * median_rows
    )
    needed = test_days + val_days + 1
    if len(covered) < needed:
        raise ValueError(
            f"need at least {needed} well-covered dates for test_days={test_days}, "
            f"val_days={val_days} and one training date; the data has {len(covered)}"
        )
    return SplitBoundaries(
        val_start=covered[-(test_days + val_days)], test_start=covered[-test_days]
    )
