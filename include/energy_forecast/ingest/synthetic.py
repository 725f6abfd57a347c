"""A seeded stand-in for the Kaggle file, for machines without credentials or network.

The generator writes the real file's eight columns in its exact formats (``4/1/2025``,
``Yes``/``No``, ``H00001``, numbers with one decimal and no trailing ``.0``) so the synthetic
CSV goes through the same validation as a download. Its structure follows the real data: a
household's energy is about 2.5 kWh per person, air conditioning adds about 0.5 kWh plus
1 kWh per person and 0.14 kWh per degree above 17.5 °C, a small per-household level and
day-to-day noise (standard deviation 1.5 kWh, near the real noise floor) are added, and the
result is clipped to 0.5-20 kWh. Peak-hours usage is a 30-50 % share of the day's demand,
stable per household.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from energy_forecast import columns as c
from energy_forecast.ingest.schema import DAY_NAMES
from energy_forecast.runtime.atomic import atomic_file

START_DATE = date(2025, 4, 1)

_SIZES = (1, 6)  # inclusive, uniform as in the real file
_AC_SHARE = 0.494
_TEMPERATURE_MEAN, _TEMPERATURE_HOUSEHOLD_SD, _TEMPERATURE_DAY_SD = 17.5, 0.3, 2.45
_TEMPERATURE_RANGE = (10.0, 25.0)
_KWH_PER_PERSON = 2.5
_AC_BASE_KWH, _AC_KWH_PER_PERSON, _AC_KWH_PER_DEGREE = 0.5, 1.0, 0.14
_HOUSEHOLD_LEVEL_SD, _DAY_NOISE_SD = 0.3, 1.5
_ENERGY_RANGE = (0.5, 20.0)
_PEAK_SHARE_RANGE = (0.3, 0.5)
_PEAK_SHARE_DAY_SD = 0.03
_PEAK_RANGE = (0.1, 10.0)


def generate_synthetic(
    households: int, days: int, seed: int, start: date = START_DATE
) -> pd.DataFrame:
    """The synthetic data set as the raw CSV's strings, one row per household and day."""
    if households < 1 or days < 1:
        raise ValueError(f"need at least one household and one day, got {households}, {days}")
    rng = np.random.default_rng(seed)
    shape = (households, days)
    size = rng.integers(_SIZES[0], _SIZES[1] + 1, size=households)
    has_ac = rng.random(households) < _AC_SHARE
    temperature = np.clip(
        _TEMPERATURE_MEAN
        + rng.normal(0.0, _TEMPERATURE_HOUSEHOLD_SD, households)[:, None]
        + rng.normal(0.0, _TEMPERATURE_DAY_SD, shape),
        *_TEMPERATURE_RANGE,
    ).round(1)
    ac_kwh = has_ac[:, None] * (
        _AC_BASE_KWH
        + _AC_KWH_PER_PERSON * size[:, None]
        + _AC_KWH_PER_DEGREE * (temperature - _TEMPERATURE_MEAN)
    )
    demand = np.maximum(
        _KWH_PER_PERSON * size[:, None]
        + ac_kwh
        + rng.normal(0.0, _HOUSEHOLD_LEVEL_SD, households)[:, None]
        + rng.normal(0.0, _DAY_NOISE_SD, shape),
        _ENERGY_RANGE[0],
    )
    energy = np.minimum(demand, _ENERGY_RANGE[1]).round(1)
    share = np.clip(
        rng.uniform(*_PEAK_SHARE_RANGE, households)[:, None]
        + rng.normal(0.0, _PEAK_SHARE_DAY_SD, shape),
        *_PEAK_SHARE_RANGE,
    )
    # The real file caps the day's energy at 20 kWh but not the demand behind its peak share.
    peak = np.clip(demand * share, *_PEAK_RANGE).round(1)

    dates = [start + timedelta(days=offset) for offset in range(days)]
    return pd.DataFrame(
        {
            "Household_ID": np.repeat([f"H{i:05d}" for i in range(1, households + 1)], days),
            "Date": np.tile([f"{d.month}/{d.day}/{d.year}" for d in dates], households),
            "Day_of_Week": np.tile([DAY_NAMES[d.weekday()] for d in dates], households),
            "Energy_Consumption_kWh": _format(energy),
            "Household_Size": np.repeat(size.astype(str), days),
            "Avg_Temperature_C": _format(temperature),
            "Has_AC": np.repeat(np.where(has_ac, "Yes", "No"), days),
            "Peak_Hours_Usage_kWh": _format(peak),
        },
        columns=list(c.RAW_COLUMNS),
    )


def write_synthetic_csv(path: Path, households: int, days: int, seed: int) -> Path:
    """Write :func:`generate_synthetic` to ``path`` (atomically); same seed, same bytes."""
    frame = generate_synthetic(households, days, seed)
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")
    return path


def _format(values: np.ndarray) -> np.ndarray:
    """One decimal without a trailing ``.0``, as the real file writes numbers (``3``, ``8.4``)."""
    flat = values.ravel()
    return np.asarray([f"{v:.1f}".removesuffix(".0") for v in flat], dtype=object)
