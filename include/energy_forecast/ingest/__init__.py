"""The ``download`` stage: get the raw CSV, validate it, write what preprocessing reads.

:func:`run_download` is the entry point the DAG task calls; the other names are exported for
callers that need to tell the failure modes apart or to produce synthetic data on their own.
"""

from energy_forecast.ingest.download import run_download
from energy_forecast.ingest.errors import (
    InputDataError,
    QuarantineLimitError,
    SourceUnavailableError,
)
from energy_forecast.ingest.synthetic import generate_synthetic, write_synthetic_csv

__all__ = [
    "InputDataError",
    "QuarantineLimitError",
    "SourceUnavailableError",
    "generate_synthetic",
    "run_download",
    "write_synthetic_csv",
]
