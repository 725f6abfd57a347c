"""The validated table's contract, checked in memory with pandera and fixed on disk with Arrow.

Preprocessing reads the Parquet file with Spark, so the on-disk types matter as much as the
values: the date is a pyarrow ``date32`` (Spark ``DateType``), not a string or a timestamp.
The pandera model is the last gate before writing; row-level checks in
:mod:`energy_forecast.ingest.validation` quarantine bad rows first, so a failure here is a bug.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.parquet as pq
from pandera.typing import Series

from energy_forecast import columns as c
from energy_forecast.atomic import atomic_file

#: English day names by ``date.weekday()``; independent of the machine's locale.
DAY_NAMES: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

#: Physical schema of ``validated.parquet``, in :data:`columns.RAW_TO_VALIDATED` order.
VALIDATED_ARROW_SCHEMA = arrow.schema(
    [
        (c.HOUSEHOLD, arrow.string()),
        (c.DATE, arrow.date32()),
        (c.DAY_OF_WEEK, arrow.string()),
        (c.ENERGY, arrow.float64()),
        (c.HOUSEHOLD_SIZE, arrow.int64()),
        (c.TEMPERATURE, arrow.float64()),
        (c.HAS_AC, arrow.bool_()),
        (c.PEAK_USAGE, arrow.float64()),
    ]
)

DATE_DTYPE = pd.ArrowDtype(arrow.date32())


class ValidatedEnergy(pa.DataFrameModel):
    """One row per household and day, every value present and within its domain."""

    household_id: Series[pd.StringDtype] = pa.Field(str_length={"min_value": 1})
    date: Series[Annotated[pd.ArrowDtype, arrow.date32()]]
    day_of_week: Series[pd.StringDtype] = pa.Field(isin=DAY_NAMES)
    energy_kwh: Series[float] = pa.Field(ge=0)
    household_size: Series[int] = pa.Field(ge=1)
    avg_temperature_c: Series[float]
    has_ac: Series[bool]
    peak_hours_usage_kwh: Series[float] = pa.Field(ge=0)

    class Config:
        strict = True
        ordered = True
        unique = (c.HOUSEHOLD, c.DATE)


def write_validated(frame: pd.DataFrame, path: Path) -> Path:
    """Check ``frame`` against the model and write it atomically with the fixed Arrow schema."""
    ValidatedEnergy.validate(frame, lazy=True)
    table = arrow.Table.from_pandas(frame, schema=VALIDATED_ARROW_SCHEMA, preserve_index=False)
    # Without pandas' metadata every reader (Spark, pandas, polars) sees plain Arrow types,
    # not the pandas extension dtypes this frame happened to use in memory.
    table = table.replace_schema_metadata(None)
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp)
    return path
