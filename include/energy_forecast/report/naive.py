"""Naive forecasts that any learned model has to beat, built from history alone.

Both baselines forecast each (household, date) row of the trained models' predictions using
only validated rows dated strictly before that date, so nothing from the target day, and
nothing later, can leak in:

* ``persistence``: the household's energy on the previous calendar day. When that day is
  missing it falls back to the household's most recent earlier day; when the household has
  no earlier day at all, to the training-split mean.
* ``household_mean``: the mean of the household's energy on every earlier date; with no
  earlier date, the training-split mean.

The training split is every validated row dated before the first date that is forecast
(the validation split starts there, and splits are by calendar date), so the fallback never
sees a validation or test day either. How often each fallback fires is counted, because a
baseline that mostly falls back measures the fallback, not the idea.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_forecast.columns import DATE, ENERGY, HOUSEHOLD
from energy_forecast.metrics import PREDICTION_COLUMNS
from energy_forecast.report.predictions import DATE_COL, HOUSEHOLD_COL, PREDICTED_COL

PERSISTENCE = "persistence"
HOUSEHOLD_MEAN = "household_mean"
#: The naive baselines, in report order.
NAIVE_MODELS: tuple[str, ...] = (PERSISTENCE, HOUSEHOLD_MEAN)

_DAY = "_day"
_PREV_DAY = "_prev_day"
_PREV_ENERGY = "_prev_energy"
_CUM_SUM = "_cum_sum"
_CUM_N = "_cum_n"
_ROW = "_row"
_HOUSEHOLD_CODE = "_household_code"


@dataclass(frozen=True)
class NaiveForecasts:
    """Predictions of each baseline in the shared format, and how often each fell back.

    ``fallbacks[PERSISTENCE]`` counts rows forecast from the previous day, from an earlier day,
    and from the training mean; ``fallbacks[HOUSEHOLD_MEAN]`` counts rows with household
    history and rows that used the training mean.
    """

    predictions: dict[str, pd.DataFrame]
    fallbacks: dict[str, dict[str, int]]
    training_mean_kwh: float


def training_mean_kwh(validated: pd.DataFrame, rows: pd.DataFrame) -> float:
    """Mean energy of the training split: validated rows dated before the first forecast date."""
    if rows.empty:
        raise ValueError("no rows to forecast: the predictions are empty")
    first_forecast_day = pd.to_datetime(rows[DATE_COL]).min()
    training = validated.loc[pd.to_datetime(validated[DATE]) < first_forecast_day, ENERGY]
    if training.empty:
        raise ValueError(
            f"the validated data has no rows before {first_forecast_day.date()}, the first "
            "forecast date, so there is no training split to fall back on"
        )
    return float(training.mean())


def naive_forecasts(validated: pd.DataFrame, rows: pd.DataFrame) -> NaiveForecasts:
    """Forecast every row of ``rows`` (a predictions frame) with both naive baselines.

    ``validated`` needs the household, date and energy columns; ``rows`` the prediction
    columns. The returned frames keep the order, keys, splits and actuals of ``rows`` and
    replace only ``predicted_kwh``.
    """
    fallback = training_mean_kwh(validated, rows)
    history = _history_before(validated, rows)
    has_history = history[_PREV_DAY].notna().to_numpy()
    from_previous_day = has_history & (
        (history[_DAY] - history[_PREV_DAY]).to_numpy() == np.timedelta64(1, "D")
    )
    persistence = np.where(has_history, history[_PREV_ENERGY].to_numpy(), fallback)
    household_mean = np.where(
        has_history, history[_CUM_SUM].to_numpy() / history[_CUM_N].to_numpy(), fallback
    )
    n_history = int(has_history.sum())
    n_previous = int(from_previous_day.sum())
    return NaiveForecasts(
        predictions={
            PERSISTENCE: _with_predictions(rows, persistence),
            HOUSEHOLD_MEAN: _with_predictions(rows, household_mean),
        },
        fallbacks={
            PERSISTENCE: {
                "previous_day": n_previous,
                "earlier_day": n_history - n_previous,
                "training_mean": len(rows) - n_history,
            },
            HOUSEHOLD_MEAN: {
                "household_history": n_history,
                "training_mean": len(rows) - n_history,
            },
        },
        training_mean_kwh=fallback,
    )


def _history_before(validated: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """For each row of ``rows``, in order: its day and the household's latest earlier day.

    The earlier day carries its energy and the running sum and count of the household's energy
    up to and including it, i.e. over every date strictly before the target date.
    """
    # Households as integer codes: at millions of rows, string keys cost gigabytes to sort,
    # group and join; a target household absent from the history gets code -1 (no match).
    column = validated[HOUSEHOLD]
    households = (
        column.array
        if isinstance(column.dtype, pd.CategoricalDtype)
        else pd.Categorical(column.astype(str))
    )
    history = pd.DataFrame(
        {
            _HOUSEHOLD_CODE: households.codes.astype(np.int64),
            _PREV_DAY: _days(validated[DATE]),
            _PREV_ENERGY: validated[ENERGY].to_numpy(),
        }
    )
    if history.duplicated([_HOUSEHOLD_CODE, _PREV_DAY]).any():
        raise ValueError("the validated data has more than one row for a (household, date)")
    history = history.sort_values([_HOUSEHOLD_CODE, _PREV_DAY], kind="stable")
    by_household = history.groupby(_HOUSEHOLD_CODE, sort=False)[_PREV_ENERGY]
    history[_CUM_SUM] = by_household.cumsum()
    history[_CUM_N] = by_household.cumcount() + 1

    targets = pd.DataFrame(
        {
            _HOUSEHOLD_CODE: households.categories.get_indexer(
                rows[HOUSEHOLD_COL].astype(str)
            ).astype(np.int64),
            _DAY: _days(rows[DATE_COL]),
            _ROW: np.arange(len(rows)),
        }
    )
    merged = pd.merge_asof(
        targets.sort_values(_DAY, kind="stable"),
        history.sort_values(_PREV_DAY, kind="stable"),
        left_on=_DAY,
        right_on=_PREV_DAY,
        by=_HOUSEHOLD_CODE,
        direction="backward",
        allow_exact_matches=False,  # strictly before the target day
    )
    return merged.sort_values(_ROW).reset_index(drop=True)


def _days(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[ns]")


def _with_predictions(rows: pd.DataFrame, predicted: np.ndarray) -> pd.DataFrame:
    out = rows.loc[:, list(PREDICTION_COLUMNS)].copy()
    out[PREDICTED_COL] = predicted.astype(np.float64)
    return out.reset_index(drop=True)
