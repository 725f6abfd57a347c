"""The validated table's contract, checked in memory with pandera and fixed on disk with Arrow.

Preprocessing reads the Parquet file with Spark, so the on-disk types matter as much as the
values: the date is a pyarrow ``date32`` (Spark ``DateType``), not a string or a timestamp.
The pandera model is the last gate before each chunk is written (:func:`check_validated`);
row-level checks in :mod:`energy_forecast.ingest.validation` quarantine bad rows first, so a
failure here is a bug. The gate sees one chunk at a time: that the (household, date) keys are
unique across chunks is checked by the writer, which sees them in strictly increasing order.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
from pandera.typing import Series

from energy_forecast import columns as c

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
#: Strings stay in Arrow memory: checking them needs no Python object per value.
STRING_DTYPE = pd.StringDtype("pyarrow")
_PANDAS_TYPES = {arrow.string(): STRING_DTYPE, arrow.date32(): DATE_DTYPE}


class ValidatedEnergy(pa.DataFrameModel):
    """One row per household and day, every value present and within its domain."""

    household_id: Series[Annotated[pd.StringDtype, "pyarrow", pd.NA]] = pa.Field(
        str_length={"min_value": 1}
    )
    date: Series[Annotated[pd.ArrowDtype, arrow.date32()]]
    day_of_week: Series[Annotated[pd.StringDtype, "pyarrow", pd.NA]] = pa.Field(isin=DAY_NAMES)
    energy_kwh: Series[float] = pa.Field(ge=0)
    household_size: Series[int] = pa.Field(ge=1)
    avg_temperature_c: Series[float]
    has_ac: Series[bool]
    peak_hours_usage_kwh: Series[float] = pa.Field(ge=0)

    class Config:
        strict = True
        ordered = True
        unique = (c.HOUSEHOLD, c.DATE)


def check_validated(table: arrow.Table) -> None:
    """Raise ``pandera.errors.SchemaErrors`` unless ``table`` meets the contract."""
    if table.schema != VALIDATED_ARROW_SCHEMA:
        raise TypeError(f"validated rows have schema {table.schema}, not the contract's")
    ValidatedEnergy.validate(to_pandas(table), lazy=True)


def to_pandas(table: arrow.Table) -> pd.DataFrame:
    """``table`` as the frame :class:`ValidatedEnergy` describes."""
    return table.to_pandas(types_mapper=_PANDAS_TYPES.get)
