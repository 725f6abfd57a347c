"""The ways ingestion refuses its input, as exceptions a caller can tell apart.

Airflow shows an exception's message in the task log, so each message names the problem and
the file: whoever reads the log should know what to fix without opening the code.
"""

from __future__ import annotations

from energy_forecast.errors import InputError


class InputDataError(InputError):
    """The input file cannot be used at all: missing, empty, unreadable or lacking columns."""


class QuarantineLimitError(InputDataError):
    """Too large a share of the rows was quarantined for the run to be trusted."""


class SourceUnavailableError(RuntimeError):
    """The chosen source could not deliver a file (no network, no such dataset, no CSV in it)."""
