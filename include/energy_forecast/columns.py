"""Column names shared by every stage, so a rename happens in exactly one place.

The raw file's headers are mapped once, at ingestion, to snake_case names; the feature
columns are the contract between preprocessing (Spark) and training (PyTorch, XGBoost).
"""

from __future__ import annotations

# --- Raw CSV (as published on Kaggle) -> validated names -------------------------------------
RAW_TO_VALIDATED: dict[str, str] = {
    "Household_ID": "household_id",
    "Date": "date",
    "Day_of_Week": "day_of_week",
    "Energy_Consumption_kWh": "energy_kwh",
    "Household_Size": "household_size",
    "Avg_Temperature_C": "avg_temperature_c",
    "Has_AC": "has_ac",
    "Peak_Hours_Usage_kWh": "peak_hours_usage_kwh",
}
RAW_COLUMNS: tuple[str, ...] = tuple(RAW_TO_VALIDATED)
RAW_DATE_FORMAT = "%m/%d/%Y"

HOUSEHOLD = "household_id"
DATE = "date"
DAY_OF_WEEK = "day_of_week"
ENERGY = "energy_kwh"
HOUSEHOLD_SIZE = "household_size"
TEMPERATURE = "avg_temperature_c"
HAS_AC = "has_ac"
PEAK_USAGE = "peak_hours_usage_kwh"

# --- Features written by preprocessing ------------------------------------------------------
#: Per-day values the sequence carries for each of the previous days, in this order.
SEQUENCE_INPUTS: tuple[str, ...] = (TEMPERATURE, PEAK_USAGE, ENERGY)
#: Columns standardised with training-split statistics.
SCALED_INPUTS: tuple[str, ...] = (TEMPERATURE, PEAK_USAGE, ENERGY, HOUSEHOLD_SIZE)
SCALED_SUFFIX = "_scaled"

SEQUENCE = "sequence"  # array<array<double>>: [sequence_length][len(SEQUENCE_INPUTS)], oldest first
MASK = "mask"  # array<double>: 1.0 = a real previous day, 0.0 = padding or a missing day
STATIC = "static"  # array<double>: the target day's known features, STATIC_FEATURES order
STATIC_FEATURES: tuple[str, ...] = (
    HOUSEHOLD_SIZE + SCALED_SUFFIX,
    HAS_AC,
    TEMPERATURE + SCALED_SUFFIX,
)
TABULAR_FEATURES = "tabular_features"  # array<double>: lags + static, for XGBoost
TARGET = ENERGY + SCALED_SUFFIX  # what the LSTM regresses (standardised energy)
TARGET_KWH = ENERGY  # the same target in kWh, for evaluation
SPLIT = "split"

SPLITS: tuple[str, ...] = ("train", "val", "test")
#: The rows next-day forecasts are made from: one per household, the day after its last row.
#: Preprocessing writes their features beside the splits; they have no target.
NEXT_DAY = "next_day"
LAST_OBSERVED_DATE = "last_observed_date"


def scaled(column: str) -> str:
    """Name of the standardised copy of ``column``."""
    return column + SCALED_SUFFIX
