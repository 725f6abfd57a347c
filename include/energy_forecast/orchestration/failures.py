"""Errors a retry cannot fix fail the task at once; everything else is left to the retries.

A run given a path outside the data roots, a bad Param combination or malformed input would
fail the same way on every try, each after ``retry_delay``: Airflow's
``AirflowFailException`` skips the retries. :mod:`energy_forecast.errors` names that family,
so the layers below decide what is permanent without importing Airflow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from airflow.sdk.exceptions import AirflowFailException

from energy_forecast.errors import PermanentError

_P = ParamSpec("_P")
_R = TypeVar("_R")


def fails_fast(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """``function``, raising ``AirflowFailException`` (chained to the cause) on a
    :class:`~energy_forecast.errors.PermanentError`."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except PermanentError as error:
            raise AirflowFailException(
                f"{type(error).__name__}: {error} (not retried: the same input fails again)"
            ) from error

    return wrapper
