"""Reading the models' prediction files and proving they cover the same rows.

A comparison is only fair when every model is scored on the same (household, date, split)
rows against the same actuals; a model that silently skipped the hard rows would look
better than it is. :func:`check_same_rows` turns any such difference into a clear error.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from energy_forecast.metrics import PREDICTION_COLUMNS

#: The shared prediction columns, by role (unpacked from the contract, never retyped).
HOUSEHOLD_COL, DATE_COL, SPLIT_COL, ACTUAL_COL, PREDICTED_COL = PREDICTION_COLUMNS
#: The splits the report scores, in display order.
REPORTED_SPLITS: tuple[str, ...] = ("val", "test")
_KEY = (HOUSEHOLD_COL, DATE_COL, SPLIT_COL)
#: Two models' actuals for one row may differ by float round-off (one may de-standardise),
#: never by a real amount: the data has a resolution of 0.1 kWh.
_ACTUAL_TOLERANCE_KWH = 1e-2
_EXAMPLES = 3


class RowMismatchError(ValueError):
    """Two models' predictions do not cover the same rows, or disagree on the actuals."""


def read_predictions(path: Path) -> pd.DataFrame:
    """Read one predictions Parquet file, checking it has the shared columns and no repeats."""
    frame = pd.read_parquet(path)
    missing = [c for c in PREDICTION_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks prediction columns {missing}")
    unknown = sorted(set(frame[SPLIT_COL].unique()) - set(REPORTED_SPLITS))
    if unknown:
        raise ValueError(f"{path} has splits {unknown}; expected only {REPORTED_SPLITS}")
    frame = frame.loc[:, list(PREDICTION_COLUMNS)]
    if _keys(frame).duplicated().any():
        raise ValueError(f"{path} has more than one prediction for a (household, date, split)")
    return frame


def check_same_rows(predictions: Mapping[str, pd.DataFrame]) -> None:
    """Raise :class:`RowMismatchError` unless every frame has the first one's rows and actuals."""
    names = list(predictions)
    if not names:
        raise ValueError("no predictions to compare")
    reference_name = names[0]
    reference = _keyed(predictions[reference_name])
    for name in names[1:]:
        other = _keyed(predictions[name])
        joined = reference.merge(other, on=list(_KEY), how="outer", indicator=True)
        only_reference = joined[joined["_merge"] == "left_only"]
        only_other = joined[joined["_merge"] == "right_only"]
        if len(only_reference) or len(only_other):
            raise RowMismatchError(
                f"models {reference_name!r} and {name!r} were not evaluated on the same rows: "
                f"{len(only_reference)} rows only in {reference_name!r} "
                f"(e.g. {_examples(only_reference)}), {len(only_other)} only in {name!r} "
                f"(e.g. {_examples(only_other)})"
            )
        gap = (joined[f"{ACTUAL_COL}_x"] - joined[f"{ACTUAL_COL}_y"]).abs()
        differing = joined[gap > _ACTUAL_TOLERANCE_KWH]
        if len(differing):
            raise RowMismatchError(
                f"models {reference_name!r} and {name!r} disagree on the actual energy of "
                f"{len(differing)} rows (e.g. {_examples(differing)})"
            )


def _keys(frame: pd.DataFrame) -> pd.DataFrame:
    keys = frame.loc[:, list(_KEY)].copy()
    keys[DATE_COL] = pd.to_datetime(keys[DATE_COL])  # date objects and timestamps compare equal
    keys[HOUSEHOLD_COL] = keys[HOUSEHOLD_COL].astype(str)
    keys[SPLIT_COL] = keys[SPLIT_COL].astype(str)
    return keys


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    keyed = _keys(frame)
    keyed[ACTUAL_COL] = frame[ACTUAL_COL].to_numpy()
    return keyed


def _examples(rows: pd.DataFrame) -> str:
    return ", ".join(
        f"{row[HOUSEHOLD_COL]} {row[DATE_COL].date()} {row[SPLIT_COL]}"
        for _, row in rows.head(_EXAMPLES).iterrows()
    )
