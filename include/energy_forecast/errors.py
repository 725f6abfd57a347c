"""The errors a retry cannot fix, as one family the Airflow edge can recognise.

A task that fails on a path outside the data roots, a bad combination of Params or malformed
input fails the same way on every try; the orchestration layer turns these into Airflow's
``AirflowFailException`` so the run fails at once instead of after its retries. Everything
else (a network error, a lost executor, a killed process) is left to the retries.
"""

from __future__ import annotations


class PermanentError(Exception):
    """Retrying cannot help: the same inputs fail the same way."""


class InputError(PermanentError, ValueError):
    """A value given to the pipeline is unusable: a Param, a path or the data itself."""


class ConfigurationError(PermanentError, RuntimeError):
    """The deployment is missing something a run needs (a connection, a program on PATH)."""
